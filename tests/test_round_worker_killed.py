"""A worker killed mid-step leaves the round failed with the reason; Retry resumes from the failed step on another
worker without redoing finished steps or duplicating rewrites and rating items."""

import time

import pytest
from round_helpers import import_small_corpus, wait_for_round

from labeling.models import RatingItem, Rewrite, RoundStatus, RoundStep, TrainingRound
from labeling.training import engine
from labeling.training.forms import round_config_from_form

pytestmark = pytest.mark.slow


def wait_for_step(training_round, name: str, status: str, timeout: float) -> RoundStep:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        step = RoundStep.objects.get(training_round=training_round, name=name)
        if step.status == status:
            return step
        time.sleep(0.5)
    raise AssertionError(f"step {name} not {status} after {timeout}s: {step.status}\n{step.log}")


def test_killed_worker_fails_round_and_retry_resumes(celery_worker_factory, settings, monkeypatch, tmp_path):
    settings.ROUND_HEARTBEAT_TIMEOUT = 6
    monkeypatch.setenv("AES_HEARTBEAT_TIMEOUT", "6")  # the workers' own settings
    import_small_corpus(tmp_path)
    config = round_config_from_form(
        "cpu-smoke", ["round.rewrite_essays=2", "round.eval_essays=1", "rewriter.min_band_gain=-9.0"]
    )
    first = celery_worker_factory("doomed")
    training_round = engine.launch_round("cpu-smoke", config)

    step = wait_for_step(training_round, "sft", RoundStatus.RUNNING, timeout=300)
    first.kill()  # SIGKILL mid-step, as when a machine dies
    time.sleep(8)
    assert engine.reap_stale_steps() == 1
    training_round.refresh_from_db()
    assert training_round.status == RoundStatus.FAILED
    assert "stopped responding during step 'sft'" in training_round.error
    assert step.worker.split(":")[0] in training_round.error

    celery_worker_factory("rescuer")
    engine.retry_round(training_round)
    training_round = wait_for_round(training_round.number, timeout=900)
    attempts = dict(training_round.steps.values_list("name", "attempts"))
    assert training_round.status == RoundStatus.SUCCEEDED, training_round.error
    assert attempts["train_scorer"] == 1  # finished before the kill: not redone
    assert attempts["sft"] == 2

    # Running the rewrite and queueing steps again stores nothing twice.
    rewrites_before = Rewrite.objects.filter(training_round=training_round).count()
    items_before = RatingItem.objects.filter(batch__training_round=training_round).count()
    TrainingRound.objects.filter(pk=training_round.pk).update(status=RoundStatus.RUNNING)
    for name in ("generate_rewrites", "create_rating_items"):
        step = RoundStep.objects.get(training_round=training_round, name=name)
        RoundStep.objects.filter(pk=step.pk).update(status=RoundStatus.PENDING)
        assert engine.run_step(step.pk, then_advance=lambda _: None) == RoundStatus.SUCCEEDED
    assert Rewrite.objects.filter(training_round=training_round).count() == rewrites_before
    assert RatingItem.objects.filter(batch__training_round=training_round).count() == items_before
