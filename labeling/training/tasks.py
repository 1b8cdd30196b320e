"""Celery tasks: thin, take ids, idempotent (steps are claimed with a conditional UPDATE).

Importing this module wires Celery into the round engine as its dispatcher (LabelingConfig.ready does, in every
process). The registered names keep the "labeling.tasks." prefix they had before the tasks moved here, so messages
already queued still find their task; aes_site/celery.py routes "labeling.tasks.gpu_*" to the "gpu" queue and
"labeling.tasks.scorer_*" to the "scorer" queue.

`sweep` is the periodic task (Celery beat, settings.CELERY_BEAT_SCHEDULE) that keeps rounds and scorer trainings
moving with nobody watching: it fails work whose worker stopped heart-beating and sends again what the broker lost.
"""

import logging

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings
from kombu.exceptions import OperationalError

from aes_site.celery import app, queue_of
from labeling.models import FirstBatch, ModelKind, ModelVersion, RoundStep, ScorerTraining
from labeling.rating.actions import ratings_approved

from . import engine, first_batch, launch_checks, rater_calibration, scorer_trainings

# Registered on import: workers answer the launch form's question of what they can run (launch_checks.py).
CONTROL_COMMANDS = [launch_checks.aes_capabilities]

log = logging.getLogger(__name__)


@shared_task(name="labeling.tasks.advance_round", acks_late=True, ignore_result=True)
def advance_round(round_id: int) -> None:
    engine.advance(round_id)


@shared_task(name="labeling.tasks.run_step", acks_late=True, ignore_result=True)
def run_step(step_id: int) -> None:
    engine.run_step(step_id)


@shared_task(name="labeling.tasks.gpu_run_step", acks_late=True, ignore_result=True)
def gpu_run_step(step_id: int) -> None:
    """Same as run_step, routed to the "gpu" queue (aes_site/celery.py)."""
    engine.run_step(step_id)


def step_task(step: RoundStep):
    return gpu_run_step if engine.STEP_SPECS[step.name].gpu else run_step


def send(task, args: list, message_id: str | None = None) -> None:
    """Publish; when the broker is away, log it and go on: the sweep sends the work again once it is back."""
    try:
        task.apply_async(args=args, task_id=message_id)
    except OperationalError as exc:
        log.warning("could not queue %s%s (%s): the periodic sweep will send it again", task.name, args, exc)


def message_waiting(queue: str, message_id: str) -> bool:
    """Whether a message with this id still waits in a queue of the Redis broker (at any priority)."""
    needle = message_id.encode()
    with app.connection_for_read() as connection:
        channel = connection.default_channel
        keys = {channel._q_for_pri(queue, priority) for priority in channel.priority_steps}
        return any(needle in raw for key in keys for raw in channel.client.lrange(key, 0, -1))


engine.use_dispatcher(
    engine.Dispatcher(
        advance=lambda round_id: send(advance_round, [round_id]),
        step=lambda step, message_id: send(step_task(step), [step.pk], message_id),
        queued=lambda step: message_waiting(queue_of(step_task(step).name), step.message_id),
    )
)


@worker_ready.connect
def fail_steps_of_dead_workers(sender=None, **kwargs):
    """A starting worker marks failed the steps whose workers stopped heart-beating while nobody watched a round."""
    engine.reap_stale_steps()


@shared_task(name="labeling.tasks.scorer_train", acks_late=True, ignore_result=True)
def scorer_train(training_id: int) -> None:
    """Train a scorer version outside a round (a ScorerTraining row: its progress and result live in the database).
    On the "scorer" queue, so it never waits behind a long round step on the "gpu" queue."""
    scorer_trainings.run_training(training_id)


def queue_scorer_training(training: ScorerTraining) -> None:
    send(scorer_train, [training.pk], scorer_trainings.mark_dispatched(training))


@shared_task(name="labeling.tasks.gpu_first_batch_essay", acks_late=True, ignore_result=True)
def gpu_first_batch_essay(batch_id: int, essay_id: int) -> None:
    """Rewrite one essay of the first batch and queue its pair for raters if it changed (first_batch.py)."""
    log.info("first batch %s, essay %s: %s", batch_id, essay_id, first_batch.rewrite_essay(batch_id, essay_id))


def queue_first_batch_essay(batch: FirstBatch, essay_id: int) -> None:
    send(gpu_first_batch_essay, [batch.pk, essay_id])


@shared_task(name="labeling.tasks.sweep", ignore_result=True)
def sweep() -> None:
    """Run by Celery beat every AES_SWEEP_SECONDS (one beat per deployment); what it does is logged as warnings."""
    engine.sweep()
    scorer_trainings.sweep(
        send=queue_scorer_training,
        queued=lambda training: message_waiting(queue_of(scorer_train.name), training.message_id),
        grace=engine.sweep_interval(),
    )


@shared_task(name="labeling.tasks.refit_rater_calibration", acks_late=True, ignore_result=True)
def refit_rater_calibration(version_id: int) -> None:
    """Refit a scorer's rater calibration if it is still the promoted one and enough new consensus bands came in."""
    stored = rater_calibration.refit_if_due(version_id)
    if stored:
        log.info("rater calibration of scorer %s refitted on %s labels", version_id, stored["n_labels"])


def queue_rater_calibration(**kwargs) -> bool:
    """Debounced: approvals in a burst queue one refit of the promoted scorer, sent once the burst has had time to
    settle. Returns whether this call queued it. The task checks itself whether a refit is due, so a duplicate costs
    one count of the labels."""
    import redis

    version = ModelVersion.promoted(ModelKind.SCORER)
    if version is None:
        return False
    delay = settings.RATERCAL_DEBOUNCE_SECONDS
    try:
        client = redis.Redis.from_url(settings.REDIS_URL)
        first = client.set(f"aes:ratercal:queued:{version.pk}", "1", nx=True, ex=max(1, int(delay)))
        if first:
            refit_rater_calibration.apply_async(args=[version.pk], countdown=delay)
    except (redis.RedisError, OperationalError) as exc:
        # The approvals are stored; the next approval (or `manage.py calibrate_scorer`) refits.
        log.warning("could not queue the rater calibration refit (%s)", exc)
        return False
    return bool(first)


ratings_approved.connect(queue_rater_calibration, dispatch_uid="queue_rater_calibration")
