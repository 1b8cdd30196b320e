"""`make run` says "running" only once the web server accepts connections (aes_site.devserver.wait_for_port)."""

import socket
import subprocess
import sys
import threading
import time

from aes_site.devserver import wait_for_port


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_waits_until_the_port_answers():
    port = free_port()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    server = socket.socket()

    def listen_later():
        time.sleep(1.0)
        server.bind(("127.0.0.1", port))
        server.listen()

    threading.Thread(target=listen_later).start()
    try:
        started = time.monotonic()
        assert wait_for_port("127.0.0.1", port, sleeper, timeout=20)
        assert time.monotonic() - started >= 0.9  # it did wait for the listener
    finally:
        sleeper.kill()
        server.close()


def test_gives_up_when_the_server_process_exits():
    failed = subprocess.Popen([sys.executable, "-c", "raise SystemExit(1)"])
    started = time.monotonic()
    assert not wait_for_port("127.0.0.1", free_port(), failed, timeout=20)
    assert time.monotonic() - started < 10
