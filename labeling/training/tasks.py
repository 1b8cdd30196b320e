"""Celery tasks: thin, take ids, idempotent (steps are claimed with a conditional UPDATE).

Importing this module wires Celery into the round engine as its dispatcher (LabelingConfig.ready does, in every
process). The registered names keep the "labeling.tasks." prefix they had before the tasks moved here, so messages
already queued still find their task and aes_site/celery.py routes "labeling.tasks.gpu_*" to the "gpu" queue.
"""

from celery import shared_task
from celery.signals import worker_ready
from django.contrib.auth import get_user_model

from labeling.models import RoundStep

from . import engine
from .scoring import train_scorer_version


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


def queue_step(step: RoundStep) -> None:
    task = gpu_run_step if engine.STEP_SPECS[step.name].gpu else run_step
    task.delay(step.pk)


engine.use_dispatcher(engine.Dispatcher(advance=advance_round.delay, step=queue_step))


@worker_ready.connect
def fail_steps_of_dead_workers(sender=None, **kwargs):
    """A starting worker marks failed the steps whose workers stopped heart-beating while nobody watched a round."""
    engine.reap_stale_steps()


@shared_task(name="labeling.tasks.gpu_train_scorer", bind=True, acks_late=True)
def gpu_train_scorer(self, promote: bool = False, include_human: bool = True, requested_by: int | None = None) -> int:
    """Train a scorer version outside a round; progress goes to the task state (PROGRESS meta).

    requested_by: the id of the staff user who asked (the Models page), recorded with the promotion.
    """

    def progress(done, total, message=""):
        self.update_state(state="PROGRESS", meta={"done": done, "total": total, "message": message})

    version = train_scorer_version(progress=progress, include_human=include_human)
    if promote:
        user = get_user_model().objects.filter(pk=requested_by).first() if requested_by else None
        version.promote(user=user, note="trained from the Models page" if user else "gpu_train_scorer task")
    return version.pk
