"""A round's SFT step reuses an earlier round's warm start trained on the same inputs (training rows, base model,
the recipe's SFT-relevant settings, library versions) and trains anew when one of them changes. Real SmolLM2
training through the engine (engine.run_step), cpu-smoke recipe."""

from pathlib import Path

import pytest

from labeling.models import RoundStatus, RoundStep
from labeling.training import engine
from labeling.training.forms import round_config_from_form
from rl import train_sft
from rl.config import recipe_from_dict

pytestmark = pytest.mark.slow


def sft_step(tmp_path, *overrides: str) -> RoundStep:
    config = round_config_from_form("cpu-smoke", [f"output.root={tmp_path}", *overrides])
    training_round = engine.launch_round("cpu-smoke", config, dispatch=False)
    step = RoundStep.objects.get(training_round=training_round, name="sft")
    engine.run_step(step.pk, then_advance=lambda round_id: None)
    engine.cancel_round(training_round)  # the next round of this test may start
    step.refresh_from_db()
    return step


@pytest.mark.django_db
def test_a_second_round_reuses_the_warm_start_and_a_changed_setting_trains_anew(tmp_path):
    first = sft_step(tmp_path)
    assert first.status == RoundStatus.SUCCEEDED, first.log
    assert (Path(first.metrics["run_dir"]) / "adapter").is_dir()

    second = sft_step(tmp_path, "rl.beta=0.5")  # a setting SFT does not read
    assert second.status == RoundStatus.SKIPPED, second.log
    assert second.metrics["run_dir"] == first.metrics["run_dir"]
    assert second.metrics["reused_from_round"] == first.training_round.number
    assert f"warm start of round {first.training_round.number}" in second.metrics["skipped_reason"]

    third = sft_step(tmp_path, "sft.learning_rate=0.0001")
    assert third.status == RoundStatus.SUCCEEDED, third.log
    assert third.metrics["run_dir"] != first.metrics["run_dir"]
    assert third.metrics["inputs_key"] != first.metrics["inputs_key"]


def test_the_key_follows_the_training_rows_and_sft_settings_only():
    config = recipe_from_dict({"name": "a", "sft": {"essays": 2}})
    rows = [{"prompt": [{"role": "user", "content": "He go home."}], "completion": "go => goes"}]
    key = train_sft.inputs_key(config, rows)
    assert train_sft.inputs_key(recipe_from_dict({"name": "b", "sft": {"essays": 2}, "rl": {"beta": 0.5}}), rows) == key
    assert train_sft.inputs_key(recipe_from_dict({"name": "a", "sft": {"essays": 3}}), rows) != key
    assert train_sft.inputs_key(recipe_from_dict({"name": "a", "sft": {"essays": 2}, "seed": 1}), rows) != key
    assert train_sft.inputs_key(config, [*rows, rows[0]]) != key
