"""Progress that tells the truth: a round's scorer step reports counts as it trains (as the Models page's scorer
training does), and the ETA is the rate measured in the current phase of a step, not a guess across phases."""

from datetime import timedelta

import pytest
from django.utils import timezone
from round_helpers import import_small_corpus

from labeling.models import RoundStatus, RoundStep
from labeling.training import engine
from labeling.training.round_figures import step_rows
from labeling.training.step_context import StepContext

CONFIG = {"policy": {"model": "packaged:smollm2-135m-instruct"}}


def running_step(name="sft", config=CONFIG):
    training_round = engine.launch_round("cpu-smoke", config, dispatch=False)
    step = training_round.steps.get(name=name)
    engine.claim_step(step.pk)
    return RoundStep.objects.select_related("training_round").get(pk=step.pk)


@pytest.mark.django_db
def test_a_new_total_or_a_count_going_back_starts_a_new_phase_of_the_eta():
    step = running_step()
    context = StepContext(step)
    context.progress(5, 10, "features")
    step.refresh_from_db()
    first_since = step.progress_since
    assert (step.progress_base, step.progress_done, step.progress_total) == (5, 5, 10) and first_since
    context.progress(8, 10, "features")
    step.refresh_from_db()
    assert (step.progress_base, step.progress_since) == (5, first_since)  # same phase: its clock runs on
    context.progress(1, 4, "cross-validation")
    step.refresh_from_db()
    assert step.progress_base == 1 and step.progress_since >= first_since
    context.progress(0, 4, "again")
    step.refresh_from_db()
    assert step.progress_base == 0
    assert step.log.count("features") == 1  # a repeated message is logged once


@pytest.mark.django_db
def test_eta_is_the_measured_rate_of_the_phase_and_absent_before_anything_is_measured():
    step = running_step()
    now = timezone.now()
    RoundStep.objects.filter(pk=step.pk).update(
        progress_done=30, progress_total=50, progress_base=10, progress_since=now - timedelta(seconds=20)
    )
    row = next(r for r in step_rows(step.training_round) if r["name"] == "sft")
    assert row["eta"] in {"20s", "21s"}  # 20 items in 20 s, 20 to go
    RoundStep.objects.filter(pk=step.pk).update(progress_done=10)
    row = next(r for r in step_rows(step.training_round) if r["name"] == "sft")
    assert row["eta"] == ""  # nothing done in this phase yet: no rate, no guess


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_rounds_scorer_step_reports_counts_while_it_trains(tmp_path, monkeypatch):
    import_small_corpus(tmp_path, train=30, test=4, pool=2)
    tiny = {"config": {"cv_folds": 3, "seeds": [0], "lgbm_estimators": 40}, "max_test": 4}
    training_round = engine.launch_round("cpu-smoke", {**CONFIG, "scorer": tiny}, dispatch=False)
    step = training_round.steps.get(name="train_scorer")
    seen = []
    real_progress = StepContext.progress

    def watching_progress(self, done, total, message=""):
        real_progress(self, done, total, message)
        row = RoundStep.objects.get(pk=self.step.pk)  # what the round page reads at this moment
        seen.append((row.progress_done, row.progress_total))

    monkeypatch.setattr(StepContext, "progress", watching_progress)
    assert engine.run_step(step.pk, then_advance=lambda round_id: None) == RoundStatus.SUCCEEDED
    step.refresh_from_db()
    assert (step.progress_done, step.progress_total) == (2, 2)  # the last stage: evaluated on the test split
    assert (30, 30) in seen  # essay features of every training essay, counted
    assert all(total > 0 for _, total in seen)
    assert "essay features" in step.log and "cross-validation fold" in step.log
