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
def fail_steps_interrupted_on_this_host(sender=None, **kwargs):
    """A worker that starts again on a host has lost whatever that host's dead workers were running."""
    rounds.reap_stale_steps()
