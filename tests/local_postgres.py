"""A throwaway PostgreSQL cluster for the race tests on a developer machine (CI sets DATABASE_URL instead).

`postgres_binaries()` finds initdb and pg_ctl (on PATH, else Debian's /usr/lib/postgresql/<version>/bin);
`throwaway_cluster()` initialises a cluster in a new temporary folder, starts it on a free local port with a trust
login and yields its DATABASE_URL; on the way out it stops the server and deletes the folder. PostgreSQL refuses to
run as root: as root the server runs as the `postgres` system user (Debian's package creates it).
"""

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

USER = "aes"


class NoPostgres(RuntimeError):
    """PostgreSQL cannot be started on this machine; the message says why."""


def postgres_binaries() -> Path | None:
    """The folder holding initdb and pg_ctl, or None when PostgreSQL is not installed."""
    on_path = shutil.which("initdb"), shutil.which("pg_ctl")
    if all(on_path):
        return Path(on_path[0]).resolve().parent
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True)
    return next((Path(p) for p in debian if (Path(p) / "initdb").exists() and (Path(p) / "pg_ctl").exists()), None)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_server_user(folder: Path) -> list[str]:
    """The command prefix that runs the server's programs as a user PostgreSQL accepts (never root)."""
    if os.geteuid() != 0:
        return []
    try:
        account = pwd.getpwnam("postgres")
    except KeyError:
        raise NoPostgres("running as root and there is no `postgres` user to run PostgreSQL as") from None
    runuser = shutil.which("runuser")
    if runuser is None:
        raise NoPostgres("running as root and `runuser` is missing: cannot start PostgreSQL as `postgres`")
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, account.pw_uid, account.pw_gid)
    return [runuser, "-u", "postgres", "--"]


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[str]:
    binaries = postgres_binaries()
    if binaries is None:
        raise NoPostgres("PostgreSQL is not installed (no initdb/pg_ctl; Debian: apt-get install postgresql)")
    # Not under pytest's tmp_path: that is private to the test user, and the server may run as `postgres`.
    folder = Path(tempfile.mkdtemp(prefix="aes-test-postgres-"))
    try:
        folder.chmod(0o755)
        as_user = _as_server_user(folder)
        with _running(binaries, folder, as_user) as url:
            yield url
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def _running(binaries: Path, folder: Path, as_user: list[str]) -> Iterator[str]:
    data, port = folder / "data", _free_port()

    def run(*command: str) -> None:
        done = subprocess.run([*as_user, *command], capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{Path(command[0]).name} failed: {(done.stderr or done.stdout).strip()[-800:]}")

    run(str(binaries / "initdb"), "-D", str(data), "-U", USER, "--auth=trust", "--no-sync", "-E", "UTF8")
    # Local TCP only, the socket in this folder, no fsync: a scratch cluster for one test run.
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50"
    run(str(binaries / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"), "-o", options, "-w", "start")
    try:
        yield f"postgres://{USER}@127.0.0.1:{port}/postgres"
    finally:
        run(str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
