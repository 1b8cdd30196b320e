"""Shared fixtures: a real Redis, real Celery workers, a real browser, a small trained scorer.

With DATABASE_URL / REDIS_URL set (CI) the suite uses that PostgreSQL and Redis; without them it uses SQLite and a
Redis server it starts itself.
"""

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
_redis_proc = None


def pytest_configure(config):
    """Runs in the pytest-xdist controller first (whose environment its workers inherit), then in each worker."""
    global _redis_proc
    from django.conf import settings

    from aes_site.celery import app

    # Keep artifacts written by tests away from the developer's own var/.
    os.environ.setdefault("AES_ARTIFACTS_DIR", tempfile.mkdtemp(prefix="aes-test-artifacts-"))
    if not os.environ.get("REDIS_URL"):
        from aes_site.services import start_redis

        _redis_proc, url = start_redis(Path(tempfile.mkdtemp(prefix="aes-test-redis-")))
        os.environ["REDIS_URL"] = url
    worker = os.environ.get("PYTEST_XDIST_WORKER")  # gw0, gw1, ... in `pytest -n N` workers
    if worker:
        isolate_xdist_worker(int(worker.removeprefix("gw")))
    # pytest-django loaded the settings before this hook: point them (and Celery) at this Redis and folder too.
    url = os.environ["REDIS_URL"]
    settings.REDIS_URL = settings.CELERY_BROKER_URL = settings.CELERY_RESULT_BACKEND = url
    app.conf.update(broker_url=url, result_backend=url)
    settings.ARTIFACTS_DIR = Path(os.environ["AES_ARTIFACTS_DIR"])


def isolate_xdist_worker(number: int) -> None:
    """Parallel workers share the Redis server and the base-model cache, nothing else: each worker gets its own Redis
    database (the tests purge queues and start Celery workers and beat on it; pytest-django already gives each worker
    its own test database) and its own artifacts folder, whose base_models/ links to the shared one so that the
    packaged model is converted once."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(os.environ["REDIS_URL"])
    base = int(parts.path.strip("/") or 0)
    os.environ["REDIS_URL"] = urlunsplit(parts._replace(path=f"/{base + 1 + number}"))
    shared = Path(os.environ["AES_ARTIFACTS_DIR"]) / "base_models"
    shared.mkdir(parents=True, exist_ok=True)
    own = Path(tempfile.mkdtemp(prefix=f"aes-test-artifacts-gw{number}-"))
    (own / "base_models").symlink_to(shared, target_is_directory=True)
    os.environ["AES_ARTIFACTS_DIR"] = str(own)


def pytest_unconfigure(config):
    if _redis_proc is not None:
        _redis_proc.terminate()
        _redis_proc.wait(timeout=10)


def database_url_for_subprocess() -> str:
    """The URL of the test database pytest-django created, for worker subprocesses."""
    from django.db import connection

    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class CeleryWorker:
    """A real `celery worker` process on the test database and the test Redis."""

    def __init__(self, name: str, queues: str = "default,gpu,scorer"):
        self.name = name
        self.queues = queues
        self.proc: subprocess.Popen | None = None
        self.log_path = Path(tempfile.mkdtemp(prefix="aes-worker-")) / f"{name}.log"

    def start(self, timeout: float = 60.0) -> "CeleryWorker":
        env = dict(os.environ, DATABASE_URL=database_url_for_subprocess(), PYTHONUNBUFFERED="1")
        env.pop("CELERY_TASK_ALWAYS_EAGER", None)
        from aes_site.devserver import solo_worker_command

        self.proc = subprocess.Popen(
            solo_worker_command(self.name, self.queues),
            cwd=REPO,
            env=env,
            stdout=self.log_path.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        # Ping through the worker's own broker (a test may give it a private Redis).
        from celery import Celery

        # set_as_current=False: a new current app would take over every shared_task's .delay() in this process.
        control = Celery(broker=env["REDIS_URL"], set_as_current=False).control
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.log()}")
            if any(self.hostname in reply for reply in control.ping(timeout=1.0)):
                return self
        raise RuntimeError(f"worker did not answer within {timeout}s:\n{self.log()}")

    @property
    def hostname(self) -> str:
        import socket

        return f"{self.name}@{socket.gethostname()}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL, as when a machine dies mid-task."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, 9)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture(autouse=True)
def no_minimum_reading_time(settings):
    """Tests submit ratings in milliseconds: no hold for speed unless a test sets a minimum reading time itself
    (tests/test_reading_time_hold.py)."""
    settings.RATING_MIN_READ_SECONDS = 0
    settings.RATING_MIN_READ_SECONDS_PER_CHANGE = 0


@pytest.fixture
def celery_worker_factory(transactional_db):
    """Start real worker processes; they see committed data only, hence transactional_db."""
    from aes_site.celery import app

    # Nothing left over from earlier runs on this Redis: queued messages, or unacked ones of killed workers that
    # would be redelivered later with ids of another test database.
    app.control.purge()
    with app.connection_for_write() as connection:
        connection.default_channel.client.delete("celery", "default", "gpu", "scorer", "unacked", "unacked_index")
    workers: list[CeleryWorker] = []

    def start(name: str = "w1", queues: str = "default,gpu,scorer") -> CeleryWorker:
        worker = CeleryWorker(name, queues).start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def celery_worker(celery_worker_factory):
    return celery_worker_factory()


@pytest.fixture
def celery_beat(transactional_db, tmp_path):
    """Start the Celery beat `make run` starts (aes_site.devserver.beat_command), on the environment's Redis: it
    sends the periodic sweep every AES_SWEEP_SECONDS."""
    from aes_site.devserver import beat_command

    started: list[subprocess.Popen] = []
    log_path = tmp_path / "beat.log"

    def start() -> subprocess.Popen:
        env = dict(os.environ, DATABASE_URL=database_url_for_subprocess(), PYTHONUNBUFFERED="1")
        proc = subprocess.Popen(
            beat_command(tmp_path),
            cwd=REPO,
            env=env,
            stdout=log_path.open("a"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
def postgres(transactional_db):
    """For race tests: SQLite serialises every writer, so only PostgreSQL can show a race; they skip elsewhere."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL: SQLite serialises writers, so there is no race to test (without DATABASE_URL, "
            "test_race_tests_on_local_postgres.py runs these on a throwaway PostgreSQL when one is installed)"
        )


@pytest.fixture(scope="session")
def small_scorer():
    """A real feature scorer trained on every 12th bundled essay (small and fast: one seed, no cross-validation),
    and every 40th essay from the second on, none of them trained on, to score."""
    from rl.data import load_training_set
    from rl.scorer import ScorerConfig, train_scorer

    records, _ = load_training_set()
    config = ScorerConfig(cv_folds=0, seeds=(0,), pca_components=8, lgbm_estimators=60)
    return train_scorer(records[::12], config), records[1::40]


CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by Playwright (no browser download)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"chromium not found at {CHROMIUM}: `make test` installs Debian's chromium package")
    # Playwright's sync API runs an event loop; Django's async-safety check would refuse DB access in tests.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"],
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def make_user(db):
    from django.contrib.auth import get_user_model

    def make(
        username: str,
        password: str = "pw-for-tests-1",
        staff: bool = False,
        superuser: bool = False,
        roles: tuple[str, ...] | None = None,
    ):
        """staff=True: a staff member in every role group (as staff were before roles), unless `roles` names some."""
        from labeling.roles import grant_roles

        user_model = get_user_model()
        if superuser:
            return user_model.objects.create_superuser(username, f"{username}@example.org", password)
        user = user_model.objects.create_user(username, f"{username}@example.org", password, is_staff=staff)
        if staff and roles != ():
            grant_roles(user, *(roles or ()))
        return user

    return make


@pytest.fixture
def staff_client(client, make_user):
    """A test client logged in as "boss", a staff member in every role group."""
    client.force_login(make_user("boss", staff=True))
    return client


@pytest.fixture
def login(page, live_server):
    def do(username: str, password: str = "pw-for-tests-1"):
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")

    return do
