"""Time from `make run` in a fresh clone to the first pair a rater can rate.

    python bench/first_pair.py [--timeout 600] [--keep]

Clones the repository's committed HEAD into a temporary folder (the existing .venv is linked in, so nothing is
installed), runs `make run`'s start-up path there (`python -m aes_site.devserver`: its own SQLite database and Redis,
migrate, bundled essays, the first batch, the workers and the web server) with DATABASE_URL, REDIS_URL and
AES_DATA_DIR removed from the environment as on a new machine, and polls the clone's database until a rating item
is open for raters. Then it stops everything and removes the clone (--keep keeps it).

Prints the start-up milestones and, as its last line, {"seconds_to_first_pair", "pairs_ready", "identical_pairs",
"seconds_to_site_up"}: seconds from the launch; pairs open when the first appeared; of every queued pair, how many
have the same text on both sides (measured; must be 0).
"""

import argparse
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OPEN_PAIRS = """
    SELECT COUNT(*) FROM labeling_ratingitem i JOIN labeling_ratingbatch b ON b.id = i.batch_id
    WHERE b.is_open AND i.ratings_done < i.ratings_needed
"""
IDENTICAL_PAIRS = """
    SELECT COUNT(*) FROM labeling_ratingitem i
    JOIN labeling_rewrite r ON r.id = i.rewrite_id JOIN labeling_essay e ON e.id = i.essay_id
    WHERE r.text = e.text
"""
MILESTONES = ("Started Redis", "Importing the bundled", "First batch:", "ielts-aes is running")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fresh_clone(folder: Path) -> Path:
    clone = folder / "ielts-aes"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(REPO), str(clone)], check=True)
    (clone / ".venv").symlink_to((REPO / ".venv").resolve())
    return clone


def count(database: Path, query: str) -> int | None:
    """The query's count, or None while the database or its tables do not exist yet."""
    if not database.exists():
        return None
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as connection:
            return connection.execute(query).fetchone()[0]
    except sqlite3.OperationalError:
        return None


def follow(stream, started: float, seen: dict, log) -> None:
    """Copy the server's output to the log and note when each milestone line first appears."""
    for line in iter(stream.readline, ""):
        log.write(line)
        for milestone in MILESTONES:
            if milestone in line and milestone not in seen:
                seen[milestone] = time.monotonic() - started
                print(f"  {seen[milestone]:6.1f}s  {line.strip()[:100]}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timeout", type=float, default=600.0, help="Give up after this many seconds.")
    parser.add_argument("--keep", action="store_true", help="Keep the clone (its var/ has the logs and database).")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="aes-first-pair-"))
    clone = fresh_clone(folder)
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "AES_DATA_DIR"}}
    env.update(AES_PORT=str(free_port()), PYTHONUNBUFFERED="1")
    database = clone / "var" / "aes.sqlite3"
    log_path = folder / "make-run.log"
    print(f"fresh clone of {REPO.name} HEAD in {clone}; make run's output in {log_path}", flush=True)

    started = time.monotonic()
    server = subprocess.Popen(
        [str(clone / ".venv" / "bin" / "python"), "-m", "aes_site.devserver"],
        cwd=clone,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    seen: dict[str, float] = {}
    with log_path.open("w") as log:
        reader = threading.Thread(target=follow, args=(server.stdout, started, seen, log), daemon=True)
        reader.start()
        first_pair, ready = None, 0
        try:
            while time.monotonic() - started < args.timeout and server.poll() is None:
                ready = count(database, OPEN_PAIRS) or 0
                if ready:
                    first_pair = time.monotonic() - started
                    print(f"  {first_pair:6.1f}s  first pair open for raters ({ready} open)", flush=True)
                    break
                time.sleep(1.0)
            identical = count(database, IDENTICAL_PAIRS)
        finally:
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGTERM)  # the launcher stops its Redis, workers and web server
                try:
                    server.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    os.killpg(server.pid, signal.SIGKILL)
            reader.join(timeout=5)
    if server.returncode not in (0, -signal.SIGTERM) and first_pair is None:
        print(f"make run exited with {server.returncode}; see {log_path}", flush=True)
    if not args.keep:
        shutil.rmtree(clone, ignore_errors=True)
    result = {
        "seconds_to_first_pair": round(first_pair, 1) if first_pair is not None else None,
        "pairs_ready": ready,
        "identical_pairs": identical,
        "seconds_to_site_up": round(seen["ielts-aes is running"], 1) if "ielts-aes is running" in seen else None,
    }
    print(json.dumps(result))
    return 0 if first_pair is not None and identical == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
