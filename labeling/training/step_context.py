"""What a round's step body gets and may raise: the engine (engine.py) runs bodies, steps.py defines them."""

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Concat
from django.utils import timezone

from labeling.models import RoundStatus, RoundStep, TrainingRound

from .jsonsafe import json_safe


class StepCancelled(Exception):
    pass


class StepSuperseded(Exception):
    """This attempt no longer owns its step (marked failed as unresponsive, or retried meanwhile): it stops here."""


class StepSkipped(Exception):
    """Raised by a step body that has nothing to do (e.g. no new labels for the scorer). The step is recorded
    "skipped" with the message as its reason; `metrics` are kept on the step as a finished step's would be (an
    SFT-only recipe's "Optimise the rewriter" names the warm start as the round's rewriter)."""

    def __init__(self, reason: str, metrics: dict | None = None):
        super().__init__(reason)
        self.metrics = metrics or {}


class StepContext:
    """What a step body gets: its round's config, and ways to report progress, log lines and metrics.

    Everything it writes goes to the step only while this attempt holds the step's claim token: a stale worker
    (still alive after its step was marked failed and retried) writes nothing over the new attempt.
    """

    def __init__(self, step: RoundStep):
        self.step = step
        self.training_round = step.training_round
        self.config = self.training_round.config
        self._last_cancel_check = 0.0
        self._last_message = ""

    def _own_row(self):
        return RoundStep.objects.filter(pk=self.step.pk, claim_token=self.step.claim_token)

    def log(self, message: str) -> None:
        line = f"[{timezone.now():%H:%M:%S}] {message}\n"
        self._own_row().update(log=Concat(F("log"), Value(line)))

    def progress(self, done: int, total: int, message: str = "") -> None:
        """Record progress; also the safe point where a cancel request takes effect.

        Another total, or a count that went back, starts a new phase: its clock and base count restart, so the ETA
        is measured on this phase's items only. A message is logged when it differs from the previous one.
        """
        same_phase = Q(progress_total=total, progress_done__lte=done, progress_since__isnull=False)
        self._own_row().update(
            progress_done=done,
            progress_total=total,
            progress_since=Case(When(same_phase, then=F("progress_since")), default=Value(timezone.now())),
            progress_base=Case(When(same_phase, then=F("progress_base")), default=Value(done)),
        )
        if message and message != self._last_message:
            self._last_message = message
            self.log(message)
        self.check_cancel()

    def record(self, **metrics) -> None:
        """Append one point to the step's curves (metrics['history']) and keep the latest values."""
        metrics = json_safe(metrics)
        step = RoundStep.objects.get(pk=self.step.pk)
        history = step.metrics.get("history", [])
        history.append({k: v for k, v in metrics.items() if v is not None})
        step.metrics = {**step.metrics, **metrics, "history": history}
        self._own_row().update(metrics=step.metrics)

    def set_metrics(self, **metrics) -> None:
        step = RoundStep.objects.get(pk=self.step.pk)
        self._own_row().update(metrics={**step.metrics, **metrics})

    def check_cancel(self) -> None:
        """The safe point: stop on a cancel request, or when this attempt no longer owns its step."""
        now = time.monotonic()
        if now - self._last_cancel_check < 1.0:
            return
        self._last_cancel_check = now
        if self.step.claim_token and not self._own_row().filter(status=RoundStatus.RUNNING).exists():
            raise StepSuperseded()
        if TrainingRound.objects.filter(pk=self.training_round.pk, cancel_requested=True).exists():
            raise StepCancelled()


StepBody = Callable[[StepContext], dict | None]


@dataclass(frozen=True)
class StepSpec:
    name: str  # stored on RoundStep.name
    title: str
    gpu: bool  # runs on the "gpu" queue
    body: StepBody  # returns metrics to keep on the step, or raises StepSkipped
