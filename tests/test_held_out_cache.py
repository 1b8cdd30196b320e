"""The few-shot baseline's figures on the held-out set are computed once per set of inputs: a second round with the
same base model, scorer, settings and held-out essays reuses them; a change in any of them computes them again."""

import pytest
from round_helpers import import_small_corpus

from labeling.models import Essay, HeldOutEvaluation, ModelKind, ModelVersion, RoundStatus
from labeling.training import engine, held_out_cache, steps
from labeling.training.rewriting import eval_essays
from labeling.training.scoring import train_scorer_version
from rl.config import load_recipe

FAST = ["rewriter.corrector=false", "rewriter.edit_verifier=false"]


@pytest.fixture
def scorer(db, tmp_path):
    import_small_corpus(tmp_path, train=30, test=4, pool=4)
    version = train_scorer_version({"family": "judge", "cv_folds": 3})
    version.promote()
    return version


def inputs_for(scorer, overrides=(), essays=None):
    recipe = load_recipe("cpu-smoke", [*FAST, *overrides])
    return held_out_cache.evaluation_inputs("baseline", None, recipe, scorer, essays or eval_essays(2), {"batch": 4})


def test_the_key_changes_with_every_input_it_depends_on(scorer):
    same = held_out_cache.key_of(inputs_for(scorer))
    assert held_out_cache.key_of(inputs_for(scorer)) == same
    other_scorer = ModelVersion.objects.create(kind=ModelKind.SCORER, name="other", artifact_path=scorer.artifact_path)
    changed = [
        inputs_for(scorer, ["rewriter.correction_threshold=5.0"]),
        inputs_for(scorer, ["policy.model=HuggingFaceTB/SmolLM2-360M-Instruct"]),
        inputs_for(other_scorer),
        inputs_for(scorer, essays=eval_essays(3)),
    ]
    assert same not in {held_out_cache.key_of(inputs) for inputs in changed}
    # An edited held-out essay changes the key too.
    essays = eval_essays(2)
    Essay.objects.filter(pk=essays[0].pk).update(text=essays[0].text + " Edited.")
    assert held_out_cache.key_of(inputs_for(scorer)) != same


@pytest.mark.slow
def test_rounds_with_the_same_inputs_compute_the_baseline_once(
    transactional_db, scorer, tmp_path, monkeypatch, client, make_user
):
    from rl import train_sft

    run = train_sft.run(load_recipe("cpu-smoke", [f"output.root={tmp_path}"]))
    rewriter = ModelVersion.objects.create(kind=ModelKind.REWRITER, name="smoke", artifact_path=str(run.output_dir))
    built = []
    real_round_rewriter = steps.round_rewriter

    def counting_round_rewriter(context, version):
        built.append("new" if version else "baseline")
        return real_round_rewriter(context, version)

    monkeypatch.setattr(steps, "round_rewriter", counting_round_rewriter)

    def evaluate_in_a_round(overrides=()):
        config = {**load_recipe("cpu-smoke", [*FAST, *overrides]).to_dict(), "round": {"eval_essays": 1}}
        training_round = engine.launch_round("cpu-smoke", config, dispatch=False)
        before = {"train_scorer": {"scorer_version": scorer.pk}, "optimise_policy": {"rewriter_version": rewriter.pk}}
        for step in training_round.steps.exclude(name__in=["evaluate", "create_rating_items"]):
            step.status, step.metrics = RoundStatus.SUCCEEDED, before.get(step.name, {})
            step.save()
        step = training_round.steps.get(name="evaluate")
        assert engine.run_step(step.pk, then_advance=lambda round_id: None) == RoundStatus.SUCCEEDED, step.log
        engine.finish_round(training_round, RoundStatus.SUCCEEDED)
        training_round.refresh_from_db()
        step.refresh_from_db()
        return training_round, step

    first, first_step = evaluate_in_a_round()
    second, second_step = evaluate_in_a_round()
    assert built == ["new", "baseline", "new"]
    assert first.metrics["sources"]["baseline"] == "computed"
    assert second.metrics["sources"]["baseline"] == f"reused from round {first.number}"
    assert second.metrics["baseline_m"] == first.metrics["baseline_m"]
    # The progress counts essays: both policies in the first round, the new one alone in the second.
    assert (first_step.progress_done, first_step.progress_total) == (2, 2)
    assert (second_step.progress_done, second_step.progress_total) == (1, 1)

    evaluate_in_a_round(["rewriter.correction_threshold=5.0"])
    assert built == ["new", "baseline", "new", "new", "baseline"]
    assert HeldOutEvaluation.objects.count() == 2

    client.force_login(make_user("boss", staff=True))
    page = client.get(f"/rounds/{second.number}/").content.decode()
    assert f"few-shot baseline (reused from round {first.number})" in page
