"""Running a benchmark script the way its README line does, for the tests that check a benchmark end to end."""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run_bench(script: str, *args: str, env: dict | None = None) -> dict:
    """Run bench/<script> from the repository root; its last line (one JSON object) as a dict."""
    done = subprocess.run(
        [sys.executable, f"bench/{script}", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])
