"""A step's completion belongs to the attempt that claimed it: a stale worker, still alive after its step was marked
failed and retried, cannot finish the new attempt, fail the round, or write over the new attempt's progress.

Two attempts run at once in two threads (each with its own database connection), as two worker processes would.
"""

import threading

import pytest
from django.db import connection
from django.utils import timezone

from labeling.models import RoundStatus, RoundStep, TrainingRound
from labeling.training import engine
from labeling.training.step_context import StepSpec


class BlockingBody:
    """A step body that reports progress and then waits until the test lets it finish (or fail)."""

    def __init__(self, name: str, fail: bool = False):
        self.name = name
        self.fail = fail
        self.started = threading.Event()
        self.release = threading.Event()

    def __call__(self, context):
        context.progress(1, 2, f"{self.name} working")
        self.started.set()
        assert self.release.wait(60)
        if self.fail:
            raise RuntimeError(f"{self.name} crashed")
        return {"finished_by": self.name}


def run_in_thread(step_id: int, results: dict, key: str) -> threading.Thread:
    def target():
        try:
            results[key] = engine.run_step(step_id, then_advance=lambda round_id: results.setdefault("advanced", key))
        finally:
            connection.close()

    thread = threading.Thread(target=target)
    thread.start()
    return thread


@pytest.mark.parametrize("stale_fails", [False, True], ids=["stale-succeeds", "stale-crashes"])
def test_a_stale_worker_cannot_finish_or_fail_the_retried_attempt(transactional_db, monkeypatch, stale_fails):
    monkeypatch.setattr(engine, "dispatch_advance", lambda round_id: None)  # no broker: the test runs the attempts
    training_round = engine.launch_round("cpu-smoke", {"model_key": "claim-test"}, dispatch=False)
    step = training_round.steps.get(name="train_scorer")
    stale, fresh = BlockingBody("stale", fail=stale_fails), BlockingBody("fresh")
    bodies = iter([stale, fresh])
    monkeypatch.setitem(
        engine.STEP_SPECS, "train_scorer", StepSpec("train_scorer", "t", gpu=True, body=lambda c: next(bodies)(c))
    )
    results: dict = {}

    first = run_in_thread(step.pk, results, "stale")
    assert stale.started.wait(30)
    # Its worker looks dead (a network partition, a frozen VM): the step is marked failed and staff press Retry.
    RoundStep.objects.filter(pk=step.pk).update(heartbeat_at=timezone.now() - timezone.timedelta(hours=1))
    assert engine.reap_stale_steps(timeout=60) == 1
    engine.retry_round(TrainingRound.objects.get(pk=training_round.pk))
    second = run_in_thread(step.pk, results, "fresh")
    assert fresh.started.wait(30)

    stale.release.set()  # the old attempt wakes up and ends
    first.join(30)
    assert results["stale"] is None  # its result was dropped
    step.refresh_from_db()
    training_round.refresh_from_db()
    assert step.status == RoundStatus.RUNNING and step.attempts == 2
    assert training_round.status == RoundStatus.RUNNING and training_round.error == ""
    assert "advanced" not in results
    assert "finished_by" not in step.metrics

    fresh.release.set()
    second.join(30)
    step.refresh_from_db()
    assert results["fresh"] == RoundStatus.SUCCEEDED and results["advanced"] == "fresh"
    assert step.status == RoundStatus.SUCCEEDED and step.metrics["finished_by"] == "fresh"


def test_a_stale_worker_stops_at_its_next_safe_point(db):
    training_round = engine.launch_round("cpu-smoke", {"model_key": "claim-test"}, dispatch=False)
    step = training_round.steps.get(name="train_scorer")
    token = engine.claim_step(step.pk)
    context = engine.StepContext(RoundStep.objects.get(pk=step.pk))
    context.progress(1, 4, "first batch")
    # Marked failed and claimed again by another worker: this attempt's writes go nowhere, and it stops.
    RoundStep.objects.filter(pk=step.pk).update(status=RoundStatus.PENDING)
    assert engine.claim_step(step.pk) not in (None, token)
    context._last_cancel_check = 0.0
    with pytest.raises(engine.StepSuperseded):
        context.progress(2, 4, "second batch")
    step.refresh_from_db()
    assert (step.progress_done, step.progress_total) == (0, 0)
    assert "second batch" not in step.log
