"""'Train a new scorer' from the Models page, kept in the database (ScorerTraining) the way rounds keep their steps.

A request is one row; a second request while one is queued or running returns that one (a double click queues one
training). The worker claims the row with a conditional UPDATE and a claim token, heart-beats it, and writes progress
to it, so its state survives a Redis restart; the sweep (tasks.sweep) fails a training whose worker stopped
heart-beating and sends again one whose message the broker lost.
"""

import logging
import uuid
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from labeling.models import RoundStatus, ScorerTraining

from .engine import Heartbeat, heartbeat_timeout, worker_name
from .scoring import train_scorer_version

log = logging.getLogger(__name__)

ACTIVE_KEY = "scorer"


def request_training(user=None, promote: bool = False, include_human: bool = True) -> tuple[ScorerTraining, bool]:
    """The queued or running training, else a new one: (training, created). The caller queues a created one."""
    try:
        with transaction.atomic():
            training = ScorerTraining.objects.create(
                active_key=ACTIVE_KEY, promote=promote, include_human=include_human, requested_by=user
            )
        return training, True
    except IntegrityError:
        active = ScorerTraining.objects.filter(active_key=ACTIVE_KEY).first()
        if active is None:  # it ended between the insert and this read: ask again
            return request_training(user, promote, include_human)
        return active, False


def mark_dispatched(training: ScorerTraining) -> str:
    """Record a new message id before sending it, so a send that fails or a message the broker loses is noticed."""
    message_id = uuid.uuid4().hex
    ScorerTraining.objects.filter(pk=training.pk, status=RoundStatus.PENDING).update(
        message_id=message_id, dispatched_at=timezone.now()
    )
    return message_id


def owned(training_id: int, token: str) -> QuerySet:
    return ScorerTraining.objects.filter(pk=training_id, status=RoundStatus.RUNNING, claim_token=token)


def claim(training_id: int) -> str | None:
    token = uuid.uuid4().hex
    now = timezone.now()
    claimed = ScorerTraining.objects.filter(pk=training_id, status=RoundStatus.PENDING).update(
        status=RoundStatus.RUNNING, claim_token=token, worker=worker_name(), started_at=now, heartbeat_at=now
    )
    return token if claimed else None


def run_training(training_id: int) -> str | None:
    """Claim and run a queued training (the scorer_train task). Returns its final status, or None if it was not
    this worker's to run."""
    token = claim(training_id)
    if not token:
        return None
    training = ScorerTraining.objects.select_related("requested_by").get(pk=training_id)

    def progress(done: int, total: int, message: str = "") -> None:
        fields = {"progress_done": done, "progress_total": total}
        if message:
            fields["message"] = message[:300]
        owned(training_id, token).update(**fields)

    with Heartbeat(owned(training_id, token), every=max(1.0, heartbeat_timeout() / 6)):
        try:
            version = train_scorer_version(progress=progress, include_human=training.include_human)
        except Exception as exc:
            log.exception("scorer training %s failed", training_id)
            return finish(training_id, token, RoundStatus.FAILED, error=f"{type(exc).__name__}: {exc}")
    status = finish(training_id, token, RoundStatus.SUCCEEDED, version=version, message=f"trained {version.name}")
    if status and training.promote:
        user = training.requested_by
        version.promote(user=user, note="trained from the Models page" if user else "scorer_train task")
    return status


def finish(training_id: int, token: str, status: str, **fields) -> str | None:
    """End the training if this attempt still owns it (it was not marked failed as unresponsive meanwhile)."""
    ended = owned(training_id, token).update(status=status, active_key=None, finished_at=timezone.now(), **fields)
    if not ended:
        log.warning("scorer training %s ended after it was marked failed: its %s is dropped", training_id, status)
        return None
    return status


def sweep(send: Callable[[ScorerTraining], None], queued: Callable[[ScorerTraining], bool], grace: float) -> int:
    """Fail trainings whose worker stopped heart-beating; send again queued ones whose message is gone.
    Returns how many were failed or sent again."""
    now = timezone.now()
    cutoff = now - timezone.timedelta(seconds=heartbeat_timeout())
    changed = 0
    for training in ScorerTraining.objects.filter(status=RoundStatus.RUNNING, heartbeat_at__lt=cutoff):
        reason = (
            f"worker {training.worker} stopped responding (last heartbeat {training.heartbeat_at:%Y-%m-%d %H:%M:%S} "
            "UTC): it was killed or its machine was lost"
        )
        changed += ScorerTraining.objects.filter(pk=training.pk, status=RoundStatus.RUNNING).update(
            status=RoundStatus.FAILED, active_key=None, error=reason, finished_at=now
        )
    waiting = ScorerTraining.objects.filter(status=RoundStatus.PENDING)
    for training in waiting.exclude(dispatched_at__gt=now - timezone.timedelta(seconds=grace)):
        if training.message_id and queued(training):
            continue
        log.warning("sweep: %s had no message in the broker: sent again", training)
        send(training)
        changed += 1
    return changed


def state_of(training: ScorerTraining) -> dict:
    """What the Models page shows of a training (its JSON status too)."""
    state = {
        "id": training.pk,
        "state": "queued" if training.status == RoundStatus.PENDING else training.status,
        "done": training.progress_done,
        "total": training.progress_total,
        "message": training.message,
        "version": {"pk": training.version_id, "name": training.version.name} if training.version else None,
    }
    if training.status == RoundStatus.PENDING:
        state["message"] = "queued: waiting for a worker on the gpu queue"
    elif training.status == RoundStatus.FAILED:
        state["message"] = f"failed: {training.error}"
    elif training.status == RoundStatus.SUCCEEDED and training.version is None:
        state["message"] = "trained (the version was deleted since)"
    return state
