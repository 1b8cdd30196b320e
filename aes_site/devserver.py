"""`make run`: migrate, load the demo data once, then run Redis (if needed), Celery workers and the web server.

Ctrl-C stops them all. Everything lives under AES_DATA_DIR (default ./var), so a second run reuses it.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def wait_for_port(host: str, port: int, proc: subprocess.Popen, timeout: float = 60.0) -> bool:
    """True once host:port accepts connections; False if proc exits or the timeout passes first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return True
        except OSError:
            time.sleep(0.25)
    return False


# One worker per queue (aes_site/celery.py), one task at a time each: a scorer training or the rating-queue work starts
# at once even while a round step holds the "gpu" worker for an hour.
WORKER_QUEUES = ("gpu", "scorer", "default")


def celery_command(*arguments: str) -> list[str]:
    """`celery -A aes_site ...` run by this interpreter."""
    return [sys.executable, "-m", "celery", "-A", "aes_site", *arguments]


def worker_command(queue: str) -> list[str]:
    concurrency = os.environ.get("AES_WORKER_CONCURRENCY", "1") if queue == "gpu" else "1"
    return celery_command(
        "worker", "-n", f"{queue}@%h", "-Q", queue, "--concurrency", concurrency, "--loglevel", "INFO"
    )


def solo_worker_command(name: str, queues: str) -> list[str]:
    """One worker process doing one task at a time, quick to start (no gossip, no mingle): the tests' and the
    benchmarks' workers, which they kill and restart."""
    options = ["--pool", "solo", "--loglevel", "INFO", "--without-gossip", "--without-mingle"]
    return celery_command("worker", "-n", f"{name}@%h", "-Q", queues, *options)


def beat_command(data_dir: Path) -> list[str]:
    """Celery beat: sends the periodic sweep that fails dead round steps and re-sends lost ones (one per deployment)."""
    return celery_command("beat", "--schedule", str(data_dir / "celerybeat-schedule"), "--loglevel", "INFO")


def stop_children(children: list[tuple[str, subprocess.Popen]]) -> None:
    """Stop the web server, beat and workers first, then Redis: a worker's warm shutdown hands its unfinished task
    back to Redis, which must still be there to take it."""
    broker = [(name, proc) for name, proc in children if name == "redis"]
    for group in ([c for c in children if c not in broker], broker):
        for name, proc in reversed(group):
            if proc.poll() is None:
                print(f"stopping {name} ...", flush=True)
                proc.terminate()
        for _name, proc in reversed(group):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    children.clear()


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aes_site.settings")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    data_dir = Path(os.environ.get("AES_DATA_DIR", REPO / "var")).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    children: list[tuple[str, subprocess.Popen]] = []

    def stop_all(*_):
        stop_children(children)

    signal.signal(signal.SIGTERM, lambda *_: (stop_all(), sys.exit(0)))
    try:
        if not os.environ.get("REDIS_URL"):
            from aes_site.services import start_redis

            redis_proc, url = start_redis(data_dir / "redis", port=int(os.environ.get("AES_REDIS_PORT", "0")) or None)
            children.append(("redis", redis_proc))
            os.environ["REDIS_URL"] = url
            print(f"Started Redis at {url} (data in {data_dir / 'redis'})", flush=True)

        manage = [sys.executable, str(REPO / "manage.py")]
        subprocess.run([*manage, "migrate", "--no-input", "-v", "0"], check=True)
        subprocess.run([*manage, "bootstrap_demo"], check=True)

        host = os.environ.get("AES_HOST", "127.0.0.1")
        port = os.environ.get("AES_PORT", "8000")
        for queue in WORKER_QUEUES:
            children.append((f"celery worker ({queue})", subprocess.Popen(worker_command(queue), cwd=REPO)))
        children.append(("celery beat", subprocess.Popen(beat_command(data_dir), cwd=REPO)))
        web = subprocess.Popen([*manage, "runserver", f"{host}:{port}", "--noreload"])
        children.append(("web server", web))
        # Say "running" only once the page answers: opening the address a second too early shows an error page.
        if wait_for_port(host, int(port), web):
            print(f"\nielts-aes is running at http://{host}:{port}/  (Ctrl-C stops everything)\n", flush=True)
        while all(proc.poll() is None for _, proc in children):
            time.sleep(1)
        dead = [name for name, proc in children if proc.poll() is not None]
        print(f"{', '.join(dead)} exited; stopping the rest", flush=True)
        return 1
    except KeyboardInterrupt:
        return 0
    except subprocess.CalledProcessError as exc:
        print(f"set-up step failed: {' '.join(map(str, exc.cmd))}", file=sys.stderr)
        return exc.returncode
    finally:
        stop_all()


if __name__ == "__main__":
    sys.exit(main())
