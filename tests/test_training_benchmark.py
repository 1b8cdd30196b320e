"""bench/training.py on the CPU: each stage runs its steps and reports them; --random-init builds a model of a named
shape (the GPU figures of the README come from the same script on a GPU machine)."""

import os
import subprocess
import sys

from bench_helpers import REPO, run_bench


def run_benchmark(tmp_path, *args) -> dict:
    env = {**os.environ, "AES_ARTIFACTS_DIR": str(tmp_path)}
    return run_bench("training.py", "--recipe", "cpu-smoke", "--steps", "1", *args, env=env)


def test_random_init_model_trains_sft_and_dpo_steps(tmp_path):
    summary = run_benchmark(tmp_path, "--random-init", "llama-tiny", "--stages", "sft,dpo")

    assert summary["model"] == "llama-tiny" and summary["random_weights"] is True
    assert set(summary["stages"]) == {"sft", "dpo"}
    for figures in summary["stages"].values():
        assert figures["steps"] == 1
        assert figures["s_per_step"] > 0
        assert figures["peak_gib"] is None  # no CUDA here
    assert (tmp_path / "bench" / "random-llama-tiny" / "config.json").exists()
    runs = list((tmp_path / "bench" / "training_runs").glob("cpu-smoke-*"))
    assert len(runs) == 2 and all((run / "adapter").is_dir() for run in runs)


def test_unknown_stage_is_refused(tmp_path):
    done = subprocess.run(
        [sys.executable, "bench/training.py", "--stages", "sft,ppo"], cwd=REPO, capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "unknown stage(s) ['ppo']" in done.stderr
