"""The round engine's bookkeeping: claims, dead-worker detection, retry, cancel, one round per model."""

import pytest
from django.utils import timezone

from labeling.models import RoundStatus, RoundStep, TrainingRound
from labeling.training import engine
from labeling.training.step_context import StepCancelled, StepContext

CONFIG = {"policy": {"model": "packaged:smollm2-135m-instruct"}}


def launch(config=CONFIG):
    return engine.launch_round("cpu-smoke", config, dispatch=False)


@pytest.mark.django_db
def test_launch_creates_numbered_round_with_all_steps_pending():
    first = launch()
    engine.cancel_round(first)
    second = launch()
    assert (first.number, second.number) == (1, 2)
    assert [s.name for s in second.steps.all()] == [spec.name for spec in engine.STEPS]
    assert set(second.steps.values_list("status", flat=True)) == {RoundStatus.PENDING}


@pytest.mark.django_db
def test_two_rounds_cannot_train_the_same_model_at_once():
    first = launch()
    with pytest.raises(engine.RoundError, match="already training packaged:smollm2-135m-instruct"):
        launch()
    other_model = launch({"model_key": "/models/llama-3b"})
    assert other_model.number == first.number + 1


@pytest.mark.django_db
def test_a_step_is_claimed_once():
    step = launch().steps.first()
    token = engine.claim_step(step.pk)
    assert token and engine.claim_step(step.pk) is None
    step.refresh_from_db()
    assert step.status == RoundStatus.RUNNING and step.attempts == 1 and step.worker and step.claim_token == token


@pytest.mark.django_db
def test_advance_dispatches_first_unfinished_step_and_finishes_round():
    training_round = launch()
    dispatched = []
    assert engine.advance(training_round.pk, dispatch=dispatched.append).name == "train_scorer"
    training_round.steps.update(status=RoundStatus.SUCCEEDED)
    assert engine.advance(training_round.pk, dispatch=dispatched.append) is None
    training_round.refresh_from_db()
    assert training_round.status == RoundStatus.SUCCEEDED
    assert training_round.active_model_key is None  # the model is free for the next round
    assert [s.name for s in dispatched] == ["train_scorer"]


@pytest.mark.django_db
def test_step_without_heartbeat_fails_round_with_reason_and_retry_resumes_there():
    training_round = launch()
    done, stuck = training_round.steps.order_by("order")[:2]
    RoundStep.objects.filter(pk=done.pk).update(status=RoundStatus.SUCCEEDED)
    assert engine.claim_step(stuck.pk)
    RoundStep.objects.filter(pk=stuck.pk).update(heartbeat_at=timezone.now() - timezone.timedelta(minutes=10))

    assert engine.reap_stale_steps(timeout=60) == 1
    training_round.refresh_from_db()
    assert training_round.status == RoundStatus.FAILED
    assert "stopped responding during step 'sft'" in training_round.error
    assert "killed" in RoundStep.objects.get(pk=stuck.pk).log

    engine.retry_round(training_round)
    training_round.refresh_from_db()
    statuses = dict(training_round.steps.values_list("name", "status"))
    assert training_round.status == RoundStatus.RUNNING and training_round.error == ""
    assert statuses["train_scorer"] == RoundStatus.SUCCEEDED  # not redone
    assert statuses["sft"] == RoundStatus.PENDING


@pytest.mark.django_db
def test_fresh_heartbeat_is_not_reaped():
    step = launch().steps.first()
    engine.claim_step(step.pk)
    assert engine.reap_stale_steps(timeout=60) == 0


@pytest.mark.django_db
def test_only_failed_or_cancelled_rounds_can_be_retried():
    with pytest.raises(engine.RoundError, match="only failed or cancelled"):
        engine.retry_round(launch())


@pytest.mark.django_db
def test_cancel_of_idle_round_stops_it_now_and_running_step_sees_the_request():
    idle = launch()
    engine.cancel_round(idle)
    idle.refresh_from_db()
    assert idle.status == RoundStatus.CANCELLED

    busy = launch()
    step = busy.steps.first()
    engine.claim_step(step.pk)
    engine.cancel_round(busy)
    busy.refresh_from_db()
    assert busy.status == RoundStatus.RUNNING and busy.cancel_requested
    context = StepContext(RoundStep.objects.get(pk=step.pk))
    with pytest.raises(StepCancelled):
        context.progress(1, 10, "working")


@pytest.mark.django_db
def test_step_context_records_progress_log_and_curves():
    step = launch().steps.first()
    context = StepContext(step)
    context.progress(3, 10, "batch 3")
    context.record(step=1, reward=0.5, kl=0.01)
    context.record(step=2, reward=0.7, kl=0.02)
    step.refresh_from_db()
    assert (step.progress_done, step.progress_total) == (3, 10)
    assert "batch 3" in step.log
    assert step.metrics["reward"] == 0.7
    assert [p["reward"] for p in step.metrics["history"]] == [0.5, 0.7]
    assert TrainingRound.objects.get(pk=step.training_round_id).status == RoundStatus.RUNNING


@pytest.mark.django_db
def test_steps_of_a_round_that_is_not_running_are_not_claimed():
    training_round = launch()
    TrainingRound.objects.filter(pk=training_round.pk).update(status=RoundStatus.FAILED)
    step = training_round.steps.first()
    assert step.status == RoundStatus.PENDING
    assert engine.claim_step(step.pk) is None
