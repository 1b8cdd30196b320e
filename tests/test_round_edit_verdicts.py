"""A round's SFT and DPO steps train on the raters' per-change verdicts when there are some: with hand-made verdicts
(tests/rating_helpers.py: rate_judged_pairs), the rows the trainers received (the run folder's train_rows.jsonl) are
exactly the expected sentence pairs. Real SmolLM2 training, cpu-smoke recipe."""

import json
from pathlib import Path

import pytest
from rating_helpers import dpo_rows, judged_pairs_training_rows, rate_judged_pairs, sft_rated_rows

from labeling.models import RoundStep
from labeling.training import engine, steps
from labeling.training.forms import round_config_from_form
from labeling.training.step_context import StepContext

pytestmark = pytest.mark.slow


def run_step(stage: str, name: str, tmp_path) -> list[dict]:
    config = round_config_from_form("cpu-smoke", [f"stage={stage}", f"output.root={tmp_path}"])
    training_round = engine.launch_round("cpu-smoke", config, dispatch=False)
    metrics = getattr(steps, name)(StepContext(RoundStep.objects.get(training_round=training_round, name=name)))
    engine.cancel_round(training_round)  # frees the model for the next round of this test
    lines = (Path(metrics["run_dir"]) / "train_rows.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


@pytest.mark.django_db
def test_sft_and_dpo_steps_get_exactly_the_sentence_pairs_of_the_verdicts(tmp_path):
    rate_judged_pairs()
    expected_sft, expected_dpo = judged_pairs_training_rows(sft_copies=2)  # cpu-smoke's sft.rated_pair_copies
    assert sft_rated_rows(run_step("sft", "sft", tmp_path)) == expected_sft
    assert dpo_rows(run_step("dpo", "optimise_policy", tmp_path)) == expected_dpo
