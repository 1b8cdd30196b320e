"""The Redis that `make run` starts for itself outlives a terminal's Ctrl-C until the workers have stopped, so their
warm shutdown can hand unfinished tasks back; it never outlives the launcher (aes_site.services.start_redis,
aes_site.devserver.stop_children). Real redis-server processes; the launcher and the worker are small Python
programs standing in for devserver and Celery."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from aes_site.devserver import stop_children
from aes_site.services import free_port, start_redis

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="sessions and PR_SET_PDEATHSIG: Linux")


def wait_exit(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:  # a child of this process: reap it, or it stays a zombie that kill(pid, 0) still finds
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return True
        except ChildProcessError:
            pass
        time.sleep(0.1)
    return False


def test_ctrl_c_spares_redis_and_a_killed_launcher_takes_it_along(tmp_path):
    launcher_code = textwrap.dedent(f"""
        import signal, time
        from pathlib import Path
        from aes_site.services import start_redis
        # A launcher still stopping its workers after Ctrl-C. A handler, not SIG_IGN, which Redis would inherit.
        signal.signal(signal.SIGINT, lambda *_: None)
        proc, url = start_redis(Path({str(tmp_path)!r}), persistent=False)
        print(proc.pid, flush=True)
        time.sleep(120)
    """)
    launcher = subprocess.Popen(
        [sys.executable, "-c", launcher_code], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        redis_pid = int(launcher.stdout.readline())
        assert os.getsid(redis_pid) == redis_pid != os.getsid(launcher.pid)
        os.killpg(launcher.pid, signal.SIGINT)  # what a terminal's Ctrl-C sends to the launcher's process group
        assert not wait_exit(redis_pid, timeout=2), "Ctrl-C stopped Redis before the launcher did"
        launcher.kill()
        assert wait_exit(redis_pid), "Redis outlived its killed launcher"
    finally:
        launcher.kill()
        launcher.wait()


def test_workers_stop_before_redis(tmp_path):
    port = free_port()
    redis_proc, _ = start_redis(tmp_path / "redis", port=port, persistent=False)
    # A worker whose warm shutdown takes a second and then talks to Redis, as Celery's does when it restores a task.
    worker_code = textwrap.dedent(f"""
        import signal, socket, sys, time
        def warm_shutdown(*_):
            time.sleep(1)
            with socket.create_connection(("127.0.0.1", {port}), timeout=2) as conn:
                conn.sendall(b"PING\\r\\n")
                sys.exit(0 if conn.recv(16).startswith(b"+PONG") else 3)
        signal.signal(signal.SIGTERM, warm_shutdown)
        print("ready", flush=True)
        time.sleep(120)
    """)
    worker = subprocess.Popen([sys.executable, "-c", worker_code], stdout=subprocess.PIPE, text=True)
    assert worker.stdout.readline().strip() == "ready"
    children = [("redis", redis_proc), ("celery worker (cpu)", worker)]
    stop_children(children)
    assert worker.returncode == 0, "the worker's shutdown found Redis gone"
    assert redis_proc.returncode is not None
    assert children == []
