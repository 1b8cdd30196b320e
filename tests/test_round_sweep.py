"""The periodic sweep keeps rounds moving with no page open: it fails steps whose heartbeat stopped, sends again the
next step of a round whose broker message is gone, and ends rounds whose worker died between two writes.

The broker is a recording stand-in here (which messages were sent, which still wait in a queue); the real worker,
Redis and beat versions are tests/test_round_worker_killed.py and tests/test_round_shared_broker.py.
"""

import pytest
from django.utils import timezone

from labeling.models import RoundStatus, RoundStep, TrainingRound
from labeling.training import engine


class RecordingBroker:
    def __init__(self):
        self.sent: list[tuple[str, str]] = []  # (step name, message id)
        self.waiting: set[str] = set()  # message ids still in their queue

    def dispatcher(self) -> engine.Dispatcher:
        return engine.Dispatcher(
            advance=lambda round_id: None,
            step=lambda step, message_id: self.sent.append((step.name, message_id)),
            queued=lambda step: step.message_id in self.waiting,
        )


@pytest.fixture
def broker(settings):
    settings.ROUND_SWEEP_SECONDS = 10
    previous = engine.dispatcher()
    recording = RecordingBroker()
    engine.use_dispatcher(recording.dispatcher())
    yield recording
    engine.use_dispatcher(previous)


def launched(first_done: int = 0) -> TrainingRound:
    training_round = engine.launch_round("cpu-smoke", {"model_key": "sweep-test"}, dispatch=False)
    done = training_round.steps.order_by("order")[:first_done]
    RoundStep.objects.filter(pk__in=[s.pk for s in done]).update(status=RoundStatus.SUCCEEDED)
    return training_round


def age(training_round: TrainingRound, seconds: float) -> None:
    """Pretend everything that happened to the round happened `seconds` ago."""
    then = timezone.now() - timezone.timedelta(seconds=seconds)
    TrainingRound.objects.filter(pk=training_round.pk).update(started_at=then)
    steps = RoundStep.objects.filter(training_round=training_round)
    steps.exclude(dispatched_at=None).update(dispatched_at=then)
    steps.exclude(finished_at=None).update(finished_at=then)


@pytest.mark.django_db
def test_a_pending_step_whose_message_was_lost_is_sent_again_once(broker):
    training_round = launched(first_done=3)  # the scorer, SFT and the edit verdicts done
    engine.advance(training_round.pk)
    assert [name for name, _ in broker.sent] == ["optimise_policy"]
    age(training_round, 30)

    # Redis lost the message: nothing waits in the queue, nothing runs.
    report = engine.sweep()
    assert report.resumed == {training_round.number: "re-sent step 'optimise_policy'"}
    assert [name for name, _ in broker.sent] == ["optimise_policy", "optimise_policy"]
    step = training_round.steps.get(name="optimise_policy")
    assert step.message_id == broker.sent[-1][1] and "sent again by the sweep" in step.log
    # The new message is fresh: the next sweep leaves it alone.
    assert engine.sweep().resumed == {}
    assert len(broker.sent) == 2


@pytest.mark.django_db
def test_a_step_waiting_in_its_queue_is_left_alone(broker):
    training_round = launched()
    engine.advance(training_round.pk)
    broker.waiting.add(broker.sent[0][1])  # all GPU workers busy: the message waits in the queue
    age(training_round, 3600)
    assert engine.sweep().resumed == {}
    assert len(broker.sent) == 1


@pytest.mark.django_db
def test_a_just_finished_step_gets_time_for_its_own_advance(broker):
    training_round = launched(first_done=1)
    RoundStep.objects.filter(training_round=training_round, name="train_scorer").update(finished_at=timezone.now())
    assert engine.sweep().resumed == {}  # the advance message may still be on its way
    age(training_round, 30)
    assert engine.sweep().resumed == {training_round.number: "re-sent step 'sft'"}


@pytest.mark.django_db
def test_a_round_whose_last_advance_was_lost_is_finished(broker):
    training_round = launched(first_done=len(engine.STEPS))
    age(training_round, 30)
    assert engine.sweep().resumed == {training_round.number: "finished"}
    training_round.refresh_from_db()
    assert training_round.status == RoundStatus.SUCCEEDED and training_round.active_model_key is None


@pytest.mark.django_db
def test_a_round_whose_worker_died_after_failing_its_step_is_ended_with_the_reason(broker):
    training_round = launched(first_done=1)
    RoundStep.objects.filter(training_round=training_round, name="sft").update(status=RoundStatus.FAILED)
    age(training_round, 30)
    engine.sweep()
    training_round.refresh_from_db()
    assert training_round.status == RoundStatus.FAILED and "step 'sft' failed" in training_round.error


@pytest.mark.django_db
def test_the_sweep_fails_a_step_whose_heartbeat_stopped(broker, settings):
    settings.ROUND_HEARTBEAT_TIMEOUT = 60
    training_round = launched()
    step = training_round.steps.get(name="train_scorer")
    engine.claim_step(step.pk)
    assert engine.sweep().failed_steps == 0
    RoundStep.objects.filter(pk=step.pk).update(heartbeat_at=timezone.now() - timezone.timedelta(seconds=61))
    assert engine.sweep().failed_steps == 1
    training_round.refresh_from_db()
    assert training_round.status == RoundStatus.FAILED
    assert "stopped responding during step 'train_scorer'" in training_round.error


@pytest.mark.django_db
def test_a_cancel_requested_while_the_message_was_lost_ends_the_round(broker):
    training_round = launched(first_done=1)
    engine.advance(training_round.pk)
    TrainingRound.objects.filter(pk=training_round.pk).update(cancel_requested=True)
    age(training_round, 30)
    engine.sweep()
    training_round.refresh_from_db()
    assert training_round.status == RoundStatus.CANCELLED


def test_beat_runs_the_sweep_every_sweep_interval(settings):
    from aes_site.celery import app

    schedule = app.conf.beat_schedule["sweep"]
    assert schedule["task"] == "labeling.tasks.sweep" and "labeling.tasks.sweep" in app.tasks
    assert schedule["schedule"] == settings.ROUND_SWEEP_SECONDS
