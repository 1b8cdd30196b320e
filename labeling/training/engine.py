"""Training rounds as a chain of claimed, heart-beating steps.

A round is a list of RoundStep rows. `advance` dispatches the first unfinished step to its queue; the worker claims it
with a conditional UPDATE (so a step runs once however often it is dispatched), runs it with a heartbeat thread,
records progress/log/metrics as it goes (autocommit, never one transaction around the work), then advances again. A
step whose worker died stops heart-beating and is marked failed by `reap_stale_steps`; `retry_round` resumes from the
failed step.

The steps and their bodies are the table `steps.STEPS` (name -> body). How a step or an advance reaches a worker is
the `Dispatcher` that labeling/training/tasks.py wires in with `use_dispatcher` (Celery); the engine never imports
the tasks, so the dependency runs one way: tasks -> engine -> steps -> models.
"""

import logging
import socket
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max, Value
from django.db.models.functions import Concat
from django.utils import timezone

from labeling.models import RoundStatus, RoundStep, TrainingRound

from .jsonsafe import json_safe
from .step_context import StepCancelled, StepContext, StepSkipped
from .steps import STEPS

log = logging.getLogger(__name__)

TERMINAL = {RoundStatus.SUCCEEDED, RoundStatus.FAILED, RoundStatus.CANCELLED}
DONE = {RoundStatus.SUCCEEDED, RoundStatus.SKIPPED}
STEP_SPECS = {spec.name: spec for spec in STEPS}


class RoundError(Exception):
    """A round cannot be launched, retried or cancelled as asked; the message says why."""


@dataclass(frozen=True)
class Dispatcher:
    """How the engine hands work to workers: queue an advance of a round, queue one step on its queue."""

    advance: Callable[[int], None]
    step: Callable[[RoundStep], None]


_dispatcher: Dispatcher | None = None


def use_dispatcher(dispatcher: Dispatcher) -> None:
    """Called once by labeling/training/tasks.py (imported by LabelingConfig.ready in every process)."""
    global _dispatcher
    _dispatcher = dispatcher


def dispatcher() -> Dispatcher:
    if _dispatcher is None:
        raise RuntimeError("the round engine has no dispatcher: import labeling.training.tasks first")
    return _dispatcher


def heartbeat_timeout() -> float:
    return float(getattr(settings, "ROUND_HEARTBEAT_TIMEOUT", 120))


def worker_name() -> str:
    return f"{socket.gethostname()}:{threading.get_native_id()}"


# --- launching ---------------------------------------------------------------------------------------------------


def model_key_of(config: dict, recipe: str) -> str:
    """The base model a round trains: two rounds may not train the same one at once."""
    return str(config.get("model_key") or config.get("policy", {}).get("model") or recipe)


def launch_round(recipe: str, config: dict, user=None, dispatch: bool = True) -> TrainingRound:
    """Create a round with its steps and start it. `config` is the resolved recipe (see rl.config)."""
    model_key = model_key_of(config, recipe)
    for _ in range(5):
        try:
            with transaction.atomic():
                number = (TrainingRound.objects.aggregate(n=Max("number"))["n"] or 0) + 1
                training_round = TrainingRound.objects.create(
                    number=number,
                    recipe=recipe,
                    config=config,
                    status=RoundStatus.RUNNING,
                    active_model_key=model_key,
                    created_by=user,
                    started_at=timezone.now(),
                )
                RoundStep.objects.bulk_create(
                    RoundStep(training_round=training_round, name=spec.name, order=i) for i, spec in enumerate(STEPS)
                )
            break
        except IntegrityError as exc:
            busy = TrainingRound.objects.filter(active_model_key=model_key).first()
            if busy:
                raise RoundError(f"{busy} is already training {model_key}; wait for it or cancel it.") from exc
            continue  # lost the race for the round number: try the next one
    else:
        raise RoundError("could not allocate a round number")
    if dispatch:
        transaction.on_commit(lambda: dispatch_advance(training_round.pk))
    return training_round


def dispatch_advance(round_id: int) -> None:
    dispatcher().advance(round_id)


def advance(round_id: int, dispatch: Callable[[RoundStep], None] | None = None) -> RoundStep | None:
    """Dispatch the next unfinished step (through the wired dispatcher unless `dispatch` is given), or finish the
    round. Safe to call any number of times."""
    dispatch = dispatch or dispatcher().step
    training_round = TrainingRound.objects.get(pk=round_id)
    if training_round.status in TERMINAL:
        return None
    next_step = training_round.steps.exclude(status__in=DONE).order_by("order").first()
    if next_step is None:
        finish_round(training_round, RoundStatus.SUCCEEDED)
        return None
    if next_step.status == RoundStatus.PENDING:
        dispatch(next_step)
    return next_step


def finish_round(training_round: TrainingRound, status: str, error: str = "") -> None:
    TrainingRound.objects.filter(pk=training_round.pk).exclude(status__in=TERMINAL).update(
        status=status, error=error, finished_at=timezone.now(), active_model_key=None
    )


# --- running a step ----------------------------------------------------------------------------------------------


class Heartbeat:
    """Touches the step every few seconds while it runs, so a dead worker is noticed."""

    def __init__(self, step_id: int, every: float):
        self.step_id = step_id
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{step_id}", daemon=True)

    def _run(self):
        try:
            while not self._stop.wait(self.every):
                RoundStep.objects.filter(pk=self.step_id, status=RoundStatus.RUNNING).update(
                    heartbeat_at=timezone.now()
                )
        finally:
            connection.close()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=5)


def claim_step(step_id: int) -> bool:
    """Take a pending step for this worker; exactly one of any number of concurrent callers gets True.

    The conditional UPDATE filters on the step's own columns only: a filter through a join makes Django emit
    `WHERE id IN (subquery)`, which PostgreSQL does not re-check after waiting for the row lock, so two workers
    could both claim the step.
    """
    if not TrainingRound.objects.filter(steps__pk=step_id, status=RoundStatus.RUNNING).exists():
        return False
    now = timezone.now()
    return bool(
        RoundStep.objects.filter(pk=step_id, status=RoundStatus.PENDING).update(
            status=RoundStatus.RUNNING,
            worker=worker_name(),
            started_at=now,
            heartbeat_at=now,
            finished_at=None,
            progress_done=0,
            progress_total=0,
            attempts=F("attempts") + 1,
        )
    )


def run_step(step_id: int, then_advance: Callable[[int], None] = dispatch_advance) -> str | None:
    """Claim and run one step. Returns its final status, or None if it was not ours to run."""
    if not claim_step(step_id):
        return None
    step = RoundStep.objects.select_related("training_round").get(pk=step_id)
    context = StepContext(step)
    context.log(f"started on {step.worker} (attempt {step.attempts})")
    body = STEP_SPECS[step.name].body
    status, error = RoundStatus.SUCCEEDED, ""
    with Heartbeat(step_id, every=max(1.0, heartbeat_timeout() / 6)):
        try:
            context.check_cancel()
            result = body(context)
            if result:
                context.set_metrics(**json_safe(result))
        except StepSkipped as skip:
            status = RoundStatus.SKIPPED
            context.log(f"skipped: {skip}")
        except StepCancelled:
            status = RoundStatus.CANCELLED
            context.log("cancelled at a safe point")
        except Exception as exc:
            status, error = RoundStatus.FAILED, f"{type(exc).__name__}: {exc}"
            context.log("failed:\n" + traceback.format_exc())
            log.exception("round step %s failed", step)
    RoundStep.objects.filter(pk=step_id, status=RoundStatus.RUNNING).update(status=status, finished_at=timezone.now())
    if status == RoundStatus.FAILED:
        finish_round(step.training_round, RoundStatus.FAILED, f"step '{step.name}' failed: {error}")
    elif status == RoundStatus.CANCELLED:
        finish_round(step.training_round, RoundStatus.CANCELLED, "cancelled by staff")
    else:
        context.log(f"{status}")
        then_advance(step.training_round_id)
    return status


# --- watching, failing, retrying, cancelling ---------------------------------------------------------------------


def reap_stale_steps(timeout: float | None = None) -> int:
    """Mark running steps whose worker stopped heart-beating (killed, machine lost) as failed."""
    timeout = heartbeat_timeout() if timeout is None else timeout
    cutoff = timezone.now() - timezone.timedelta(seconds=timeout)
    stale = RoundStep.objects.filter(status=RoundStatus.RUNNING, heartbeat_at__lt=cutoff)
    reaped = 0
    for step in stale.select_related("training_round"):
        reason = (
            f"worker {step.worker} stopped responding during step '{step.name}' "
            f"(last heartbeat {step.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC): it was killed or its machine was lost"
        )
        if RoundStep.objects.filter(pk=step.pk, status=RoundStatus.RUNNING).update(
            status=RoundStatus.FAILED,
            finished_at=timezone.now(),
            log=Concat(F("log"), Value(f"[{timezone.now():%H:%M:%S}] {reason}\n")),
        ):
            finish_round(step.training_round, RoundStatus.FAILED, reason)
            reaped += 1
    return reaped


def retry_round(training_round: TrainingRound) -> TrainingRound:
    """Resume a failed or cancelled round from its first unfinished step; finished steps are kept."""
    model_key = model_key_of(training_round.config, training_round.recipe)
    with transaction.atomic():
        locked = TrainingRound.objects.select_for_update().get(pk=training_round.pk)
        if locked.status not in {RoundStatus.FAILED, RoundStatus.CANCELLED}:
            raise RoundError(f"{locked} is {locked.status}; only failed or cancelled rounds can be retried.")
        try:
            with transaction.atomic():
                TrainingRound.objects.filter(pk=locked.pk).update(
                    status=RoundStatus.RUNNING,
                    error="",
                    cancel_requested=False,
                    finished_at=None,
                    active_model_key=model_key,
                )
        except IntegrityError as exc:
            raise RoundError(f"another round is training {model_key}; retry when it ends.") from exc
        locked.steps.filter(status__in=[RoundStatus.FAILED, RoundStatus.CANCELLED]).update(status=RoundStatus.PENDING)
        transaction.on_commit(lambda: dispatch_advance(locked.pk))
    training_round.refresh_from_db()
    return training_round


def cancel_round(training_round: TrainingRound) -> None:
    """Ask a running round to stop at its next safe point; a round with no step running stops now."""
    TrainingRound.objects.filter(pk=training_round.pk).update(cancel_requested=True)
    if not training_round.steps.filter(status=RoundStatus.RUNNING).exists():
        training_round.steps.filter(status=RoundStatus.PENDING).update(status=RoundStatus.CANCELLED)
        finish_round(training_round, RoundStatus.CANCELLED, "cancelled by staff")


def run_round_inline(training_round: TrainingRound, echo: Callable[[str], None] = print) -> TrainingRound:
    """Run every step in this process (the `run_round` command), through the same claim/run code as the workers."""
    pending: list[int] = []
    advance(training_round.pk, dispatch=lambda step: pending.append(step.pk))
    while pending:
        step_id = pending.pop()
        step = RoundStep.objects.get(pk=step_id)
        echo(f"{STEP_SPECS[step.name].title} ...")
        status = run_step(step_id, then_advance=lambda rid: advance(rid, dispatch=lambda s: pending.append(s.pk)))
        echo(f"  {status}")
    training_round.refresh_from_db()
    return training_round
