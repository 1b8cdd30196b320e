"""Training rounds as a chain of claimed, heart-beating steps.

A round is a list of RoundStep rows. `advance` dispatches the first unfinished step to its queue; the worker claims it
with a conditional UPDATE that hands it a claim token (so a step runs once however often it is dispatched, and only
the attempt holding the token records progress or finishes it), runs it with a heartbeat thread, records
progress/log/metrics as it goes (autocommit, never one transaction around the work), then advances again.

Nothing depends on a page being open: `sweep` runs periodically on the workers (Celery beat, labeling/training/
tasks.py). It marks failed the steps whose worker stopped heart-beating (`reap_stale_steps`) and re-sends the next
step of a running round whose message is gone (Redis lost its data, a publish failed right after a step), which is
safe because a step is claimed at most once per dispatch and `advance` is idempotent. `retry_round` resumes a failed
round from the failed step.

The steps and their bodies are the table `steps.STEPS` (name -> body). How a step or an advance reaches a worker is
the `Dispatcher` that labeling/training/tasks.py wires in with `use_dispatcher` (Celery); the engine never imports
the tasks, so the dependency runs one way: tasks -> engine -> steps -> models.
"""

import logging
import socket
import threading
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max, QuerySet, Value
from django.db.models.functions import Concat
from django.utils import timezone

from labeling.models import RoundStatus, RoundStep, TrainingRound

from .jsonsafe import json_safe
from .step_context import StepCancelled, StepContext, StepSkipped, StepSuperseded
from .steps import STEPS

log = logging.getLogger(__name__)

TERMINAL = {RoundStatus.SUCCEEDED, RoundStatus.FAILED, RoundStatus.CANCELLED}
DONE = {RoundStatus.SUCCEEDED, RoundStatus.SKIPPED}
STEP_SPECS = {spec.name: spec for spec in STEPS}


class RoundError(Exception):
    """A round cannot be launched, retried or cancelled as asked; the message says why."""


@dataclass(frozen=True)
class Dispatcher:
    """How the engine hands work to workers: queue an advance of a round; queue one step on its queue under a given
    message id; tell whether a step's last message still waits in its queue."""

    advance: Callable[[int], None]
    step: Callable[[RoundStep, str], None]
    queued: Callable[[RoundStep], bool]


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


def sweep_interval() -> float:
    return float(getattr(settings, "ROUND_SWEEP_SECONDS", 30))


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


def send_step(step: RoundStep) -> None:
    """Queue a step through the wired dispatcher, recording the message id first: if the publish fails or the broker
    loses the message, the sweep sees a pending step with no message in its queue and sends it again."""
    message_id = uuid.uuid4().hex
    RoundStep.objects.filter(pk=step.pk, status=RoundStatus.PENDING).update(
        message_id=message_id, dispatched_at=timezone.now()
    )
    dispatcher().step(step, message_id)


def advance(round_id: int, dispatch: Callable[[RoundStep], None] | None = None) -> RoundStep | None:
    """Dispatch the next unfinished step (through the wired dispatcher unless `dispatch` is given), or finish the
    round. Safe to call any number of times: a step sent twice is claimed once."""
    dispatch = dispatch or send_step
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
    """Touches a running row every few seconds while its work runs, so a dead worker is noticed.

    `rows` selects the row as long as this attempt owns it (a step by its claim token): a stale worker's heartbeat
    cannot keep a newer attempt alive.
    """

    def __init__(self, rows: QuerySet, every: float):
        self.rows = rows
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def _run(self):
        try:
            while not self._stop.wait(self.every):
                self.rows.update(heartbeat_at=timezone.now())
        finally:
            connection.close()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=5)


def claim_step(step_id: int) -> str | None:
    """Take a pending step for this worker; exactly one of any number of concurrent callers gets a claim token.

    The conditional UPDATE filters on the step's own columns only: a filter through a join makes Django emit
    `WHERE id IN (subquery)`, which PostgreSQL does not re-check after waiting for the row lock, so two workers
    could both claim the step.
    """
    if not TrainingRound.objects.filter(steps__pk=step_id, status=RoundStatus.RUNNING).exists():
        return None
    now = timezone.now()
    token = uuid.uuid4().hex
    claimed = RoundStep.objects.filter(pk=step_id, status=RoundStatus.PENDING).update(
        status=RoundStatus.RUNNING,
        claim_token=token,
        worker=worker_name(),
        started_at=now,
        heartbeat_at=now,
        finished_at=None,
        progress_done=0,
        progress_total=0,
        progress_since=None,
        progress_base=0,
        attempts=F("attempts") + 1,
    )
    return token if claimed else None


def owned_step(step_id: int, token: str) -> QuerySet:
    """The step as long as the attempt holding `token` runs it: what that attempt may update."""
    return RoundStep.objects.filter(pk=step_id, status=RoundStatus.RUNNING, claim_token=token)


def run_step(step_id: int, then_advance: Callable[[int], None] = dispatch_advance) -> str | None:
    """Claim and run one step. Returns its final status, or None if it was not ours to run (or no longer ours when
    it ended: marked failed as unresponsive, or retried, meanwhile)."""
    token = claim_step(step_id)
    if not token:
        return None
    step = RoundStep.objects.select_related("training_round").get(pk=step_id)
    context = StepContext(step)
    context.log(f"started on {step.worker} (attempt {step.attempts})")
    body = STEP_SPECS[step.name].body
    status, error = RoundStatus.SUCCEEDED, ""
    with Heartbeat(owned_step(step_id, token), every=max(1.0, heartbeat_timeout() / 6)):
        try:
            context.check_cancel()
            result = body(context)
            if result:
                context.set_metrics(**json_safe(result))
        except StepSkipped as skip:
            status = RoundStatus.SKIPPED
            context.set_metrics(**json_safe({**skip.metrics, "skipped_reason": str(skip)}))
            context.log(f"skipped: {skip}")
        except StepSuperseded:
            status = None
        except StepCancelled:
            status = RoundStatus.CANCELLED
            context.log("cancelled at a safe point")
        except Exception as exc:
            status, error = RoundStatus.FAILED, f"{type(exc).__name__}: {exc}"
            context.log("failed:\n" + traceback.format_exc())
            log.exception("round step %s failed", step)
    # Only the attempt that still holds the claim finishes the step and moves the round on.
    if status is None or not owned_step(step_id, token).update(status=status, finished_at=timezone.now()):
        log.warning("round step %s: attempt %s no longer owns the step; its result is dropped", step, step.attempts)
        return None
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
            log.warning("%s failed: %s", step.training_round, reason)
            reaped += 1
    return reaped


def last_activity(training_round: TrainingRound, steps: list[RoundStep]):
    """When the round last moved: started, a step dispatched or finished."""
    moments = [training_round.started_at] + [t for s in steps for t in (s.dispatched_at, s.finished_at)]
    return max((t for t in moments if t), default=training_round.created_at)


def resume_lost_round(training_round: TrainingRound, grace: float) -> str | None:
    """Move a running round on that nothing will move: no step running, and the message that would run its next
    step missing from the broker for `grace` seconds. Returns what was done, or None."""
    steps = list(training_round.steps.order_by("order"))
    if any(step.status == RoundStatus.RUNNING for step in steps):
        return None  # a worker holds it; reap_stale_steps notices if that worker dies
    if (timezone.now() - last_activity(training_round, steps)).total_seconds() < grace:
        return None  # an advance or a step message may still be on its way
    next_step = next((step for step in steps if step.status not in DONE), None)
    if training_round.cancel_requested:
        cancel_round(training_round)
        return "cancelled (cancel requested, no step running)"
    if next_step is not None and next_step.status in {RoundStatus.FAILED, RoundStatus.CANCELLED}:
        # The worker recorded the step's end but died before ending the round.
        finish_round(training_round, next_step.status, f"step '{next_step.name}' {next_step.status}")
        return f"ended: step '{next_step.name}' {next_step.status}"
    if next_step is not None and next_step.message_id and dispatcher().queued(next_step):
        return None  # waiting in its queue for a free worker
    what = f"re-sent step '{next_step.name}'" if next_step else "finished"
    if next_step is not None:
        RoundStep.objects.filter(pk=next_step.pk).update(
            log=Concat(
                F("log"),
                Value(f"[{timezone.now():%H:%M:%S}] no message for this step in the broker: sent again by the sweep\n"),
            )
        )
    advance(training_round.pk)
    return what


@dataclass(frozen=True)
class SweepReport:
    failed_steps: int
    resumed: dict[int, str]  # round number -> what was done


def sweep() -> SweepReport:
    """The periodic check that keeps rounds moving with nobody watching (Celery beat runs it, tasks.sweep)."""
    failed = reap_stale_steps()
    resumed = {}
    for training_round in TrainingRound.objects.filter(status=RoundStatus.RUNNING).order_by("number"):
        try:
            what = resume_lost_round(training_round, grace=sweep_interval())
        except Exception:  # one round's trouble must not stop the sweep of the others
            log.exception("sweep: could not resume %s", training_round)
            continue
        if what:
            log.warning("sweep: %s %s", training_round, what)
            resumed[training_round.number] = what
    return SweepReport(failed, resumed)


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
        locked.steps.filter(status__in=[RoundStatus.FAILED, RoundStatus.CANCELLED]).update(
            status=RoundStatus.PENDING, message_id="", dispatched_at=timezone.now()
        )
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
