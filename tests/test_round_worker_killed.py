"""A worker killed (SIGKILL) mid-step with no page open: the periodic sweep (Celery beat, as `make run` starts it)
marks the round failed with the reason within the heartbeat timeout plus one sweep interval. Retry resumes from the
failed step on another worker without redoing finished steps or duplicating rewrites, rating items or pay.

Real workers, Celery beat and Redis; PostgreSQL when DATABASE_URL points at it (CI), else SQLite.
"""

import time
from decimal import Decimal

import pytest
from rating_helpers import make_raters
from round_helpers import import_small_corpus, wait_for_round

from labeling.models import LedgerEntry, Rating, RatingItem, Rewrite, RoundStatus, RoundStep, TrainingRound
from labeling.rating.actions import RatingAnswer, submit_rating
from labeling.rating.assignment import claim_next
from labeling.training import engine
from labeling.training.forms import round_config_from_form

pytestmark = pytest.mark.slow

HEARTBEAT_TIMEOUT, SWEEP_SECONDS = 6, 2
# Beat and the worker running the sweep are processes on a shared machine: allow them this much lateness.
SCHEDULING_SLACK = 4


def wait_for_step(training_round, name: str, status: str, timeout: float) -> RoundStep:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        step = RoundStep.objects.get(training_round=training_round, name=name)
        if step.status == status:
            return step
        time.sleep(0.2)
    raise AssertionError(f"step {name} not {status} after {timeout}s: {step.status}\n{step.log}")


def test_killed_worker_fails_round_with_nobody_watching_and_retry_resumes(
    celery_worker_factory, celery_beat, settings, monkeypatch, tmp_path
):
    settings.ROUND_HEARTBEAT_TIMEOUT = HEARTBEAT_TIMEOUT
    monkeypatch.setenv("AES_HEARTBEAT_TIMEOUT", str(HEARTBEAT_TIMEOUT))  # the workers' own settings
    monkeypatch.setenv("AES_SWEEP_SECONDS", str(SWEEP_SECONDS))  # beat's schedule
    import_small_corpus(tmp_path)
    # A relaxed guard and the few-shot prompt, so that the rewrites change something and become rating items; the
    # language-model corrector (tested in the end-to-end round and test_corrector) would only add minutes here.
    config = round_config_from_form(
        "cpu-smoke",
        [
            "round.rewrite_essays=2",
            "round.eval_essays=1",
            "rewriter.corrector=false",
            "rewriter.few_shot=true",
            "rewriter.min_band_gain=-9.0",
            "rewriter.max_chars_changed=100000",
            "rewriter.max_length_ratio_change=10.0",
        ],
    )
    celery_worker_factory("cpu", queues="default")  # runs the sweep, as the CPU workers of a deployment do
    first = celery_worker_factory("doomed", queues="gpu")
    celery_beat()
    training_round = engine.launch_round("cpu-smoke", config)

    step = wait_for_step(training_round, "sft", RoundStatus.RUNNING, timeout=300)
    first.kill()  # SIGKILL mid-step, as when a machine dies
    killed_at = time.monotonic()
    # Nobody opens a page: only the database is read here.
    training_round = wait_for_round(training_round.number, timeout=HEARTBEAT_TIMEOUT + SWEEP_SECONDS + 60)
    detected_after = time.monotonic() - killed_at
    assert training_round.status == RoundStatus.FAILED
    assert "stopped responding during step 'sft'" in training_round.error
    assert step.worker.split(":")[0] in training_round.error
    assert detected_after <= HEARTBEAT_TIMEOUT + SWEEP_SECONDS + SCHEDULING_SLACK, detected_after

    celery_worker_factory("rescuer", queues="gpu")
    engine.retry_round(training_round)
    training_round = wait_for_round(training_round.number, timeout=900)
    attempts = dict(training_round.steps.values_list("name", "attempts"))
    assert training_round.status == RoundStatus.SUCCEEDED, training_round.error
    assert attempts["train_scorer"] == 1  # finished before the kill: not redone
    assert attempts["sft"] == 2

    # Raters rate the round's pairs; then the rewrite and queueing steps run again: nothing is stored or paid twice.
    (rater,) = make_raters(1)
    answer = RatingAnswer(band_a=Decimal("6"), band_b=Decimal("6.5"), better="B")
    while (assignment := claim_next(rater)) is not None:
        submit_rating(assignment.pk, answer)
    rewrites_before = Rewrite.objects.filter(training_round=training_round).count()
    items_before = RatingItem.objects.filter(batch__training_round=training_round).count()
    assert rewrites_before == 2 and Rating.objects.count() == items_before
    TrainingRound.objects.filter(pk=training_round.pk).update(status=RoundStatus.RUNNING)
    for name in ("generate_rewrites", "create_rating_items"):
        step = RoundStep.objects.get(training_round=training_round, name=name)
        RoundStep.objects.filter(pk=step.pk).update(status=RoundStatus.PENDING)
        assert engine.run_step(step.pk, then_advance=lambda _: None) == RoundStatus.SUCCEEDED
    assert Rewrite.objects.filter(training_round=training_round).count() == rewrites_before
    assert RatingItem.objects.filter(batch__training_round=training_round).count() == items_before
    assert LedgerEntry.objects.count() == Rating.objects.count() == items_before
