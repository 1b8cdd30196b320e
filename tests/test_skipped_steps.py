"""A step that did nothing is recorded "skipped" with its reason, not "succeeded"; the round moves on past it and
its page says why."""

import json

import pytest

from labeling.models import ModelKind, ModelVersion, RoundStatus
from labeling.training import engine
from labeling.training.round_figures import status_payload
from rl.config import load_recipe


@pytest.mark.django_db(transaction=True)
def test_an_sft_only_recipe_skips_optimise_with_its_reason_and_the_round_goes_on(tmp_path, client, make_user):
    run_dir = tmp_path / "sft-run"
    run_dir.mkdir()
    description = {"base_model": "packaged:smollm2-135m-instruct", "recipe": {"policy": {}}}
    (run_dir / "config.json").write_text(json.dumps(description))
    config = load_recipe("cpu-smoke").to_dict()
    assert config["stage"] == "sft"
    training_round = engine.launch_round("cpu-smoke", config, dispatch=False)
    training_round.steps.filter(name__in=["train_scorer", "sft", "fit_verdicts"]).update(status=RoundStatus.SUCCEEDED)
    training_round.steps.filter(name="sft").update(metrics={"run_dir": str(run_dir), "train_loss": 1.5})
    step = training_round.steps.get(name="optimise_policy")

    advanced = []
    assert engine.run_step(step.pk, then_advance=advanced.append) == RoundStatus.SKIPPED
    step.refresh_from_db()
    assert step.status == RoundStatus.SKIPPED
    assert "nothing to optimise after SFT" in step.metrics["skipped_reason"]
    # The warm start is still registered as the round's rewriter for the steps after it.
    version = ModelVersion.objects.get(pk=step.metrics["rewriter_version"])
    assert version.kind == ModelKind.REWRITER and version.artifact_path == str(run_dir)
    assert advanced == [training_round.pk]
    assert engine.advance(training_round.pk, dispatch=lambda s: None).name == "generate_rewrites"

    rows = {row["name"]: row for row in status_payload(training_round)["steps"]}
    assert rows["optimise_policy"]["status"] == "skipped"
    assert "nothing to optimise after SFT" in rows["optimise_policy"]["reason"]
    assert rows["sft"]["reason"] == ""
    client.force_login(make_user("boss", staff=True))
    page = client.get(f"/rounds/{training_round.number}/").content.decode()
    assert "nothing to optimise after SFT; the warm start is the new rewriter" in page
