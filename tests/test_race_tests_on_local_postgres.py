"""The PostgreSQL-only race tests, run on a developer machine too: without DATABASE_URL the suite uses SQLite, where
they skip (SQLite serialises writers), so this test starts a throwaway PostgreSQL cluster (tests/local_postgres.py)
and runs them in a child pytest against it. With DATABASE_URL set (CI) they run in the suite itself and this skips,
so they never run twice. Without PostgreSQL installed it skips and says so.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from local_postgres import NoPostgres, postgres_binaries, throwaway_cluster

REPO = Path(__file__).resolve().parent.parent
RACE_TESTS = ["tests/test_assignment_concurrency.py", "tests/test_concurrent_rounds_postgres.py"]


@pytest.mark.timeout(1500)
def test_the_race_tests_pass_on_a_throwaway_postgresql():
    if os.environ.get("DATABASE_URL"):
        pytest.skip("DATABASE_URL is set: the race tests run against it in this suite directly")
    if postgres_binaries() is None:
        pytest.skip("PostgreSQL is not installed (no initdb/pg_ctl): the race tests cannot run here")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    try:
        with throwaway_cluster() as url:
            env["DATABASE_URL"] = url
            done = subprocess.run(
                [sys.executable, "-m", "pytest", *RACE_TESTS, "-q", "-p", "no:cacheprovider"],
                cwd=REPO,
                env=env,
                capture_output=True,
                text=True,
                timeout=1400,
                check=False,
            )
    except NoPostgres as why:
        pytest.skip(f"cannot start a throwaway PostgreSQL: {why}")
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-2000:]
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    # Every race test ran on PostgreSQL: none skipped (the `postgres` fixture skips only on SQLite).
    assert re.search(r"\b5 passed\b", summary) and "skipped" not in summary, summary
