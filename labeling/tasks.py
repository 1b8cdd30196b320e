"""Celery tasks: thin, take ids, idempotent (steps are claimed with a conditional UPDATE)."""

from celery import shared_task
from celery.signals import worker_ready

from . import rounds


@shared_task(acks_late=True, ignore_result=True)
def advance_round(round_id: int) -> None:
    rounds.advance(round_id)


@shared_task(acks_late=True, ignore_result=True)
def run_step(step_id: int) -> None:
    rounds.run_step(step_id)


@shared_task(acks_late=True, ignore_result=True)
def gpu_run_step(step_id: int) -> None:
    """Same as run_step, routed to the "gpu" queue (aes_site/celery.py)."""
    rounds.run_step(step_id)


@worker_ready.connect
def fail_steps_of_dead_workers(sender=None, **kwargs):
    """A starting worker marks failed the steps whose workers stopped heart-beating while nobody watched a round."""
    rounds.reap_stale_steps()


@shared_task(bind=True, acks_late=True)
def gpu_train_scorer(self, promote: bool = False, include_human: bool = True, requested_by: int | None = None) -> int:
    """Train a scorer version outside a round; progress goes to the task state (PROGRESS meta).

    requested_by: the id of the staff user who asked (the Models page), recorded with the promotion.
    """
    from django.contrib.auth import get_user_model

    from .scoring import train_scorer_version

    def progress(done, total, message=""):
        self.update_state(state="PROGRESS", meta={"done": done, "total": total, "message": message})

    version = train_scorer_version(progress=progress, include_human=include_human)
    if promote:
        user = get_user_model().objects.filter(pk=requested_by).first() if requested_by else None
        version.promote(user=user, note="trained from the Models page" if user else "gpu_train_scorer task")
    return version.pk
