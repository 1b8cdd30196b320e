"""Model versions (scorer, rewriter) and the training rounds that produce them."""

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from .corpus import Rewrite
from .rating import RatingItem


class ModelKind(models.TextChoices):
    SCORER = "scorer", "scorer"
    REWRITER = "rewriter", "rewriter"


class ModelVersion(models.Model):
    kind = models.CharField(max_length=16, choices=ModelKind.choices, db_index=True)
    name = models.CharField(max_length=128)
    artifact_path = models.CharField(max_length=512, help_text="Folder under AES_ARTIFACTS_DIR (or absolute).")
    config = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    data_snapshot = models.JSONField(default=dict, blank=True, help_text="What it was trained on (counts, rounds).")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    training_round = models.ForeignKey(
        "labeling.TrainingRound", null=True, blank=True, on_delete=models.SET_NULL, related_name="model_versions"
    )
    is_promoted = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    rater_calibration = models.JSONField(
        default=dict,
        blank=True,
        help_text="Scorers: shift and slope to this deployment's raters (rl/scorer/rater_calibration.py), with "
        "fitted_at, n_labels and MAE before/after on those labels; empty: not fitted yet.",
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind"], condition=models.Q(is_promoted=True), name="one_promoted_version_per_kind"
            ),
        ]

    def __str__(self):
        # Names made by the code already start with their kind ("scorer 2026..."): say it once.
        return self.name if self.name.startswith(self.kind) else f"{self.kind} {self.name}"

    def rater_calibration_text(self, labels_now: int | None = None) -> str:
        """What the stored rater calibration does, in a line for staff pages. labels_now: texts with approved
        consensus bands today (for "not yet: 12 of 20 labels"); default: the count at the last fit."""
        stored = self.rater_calibration or {}
        needed = stored.get("min_labels", settings.RATERCAL_MIN_LABELS)
        fitted = stored.get("n_labels", 0) if stored.get("fitted_at") else 0
        if fitted < needed:
            return f"not yet: {fitted if labels_now is None else labels_now} of {needed} labels"
        figures = (
            f"on {fitted} labels; MAE before {stored['mae_before']:.2f} -> after {stored['mae_after']:.2f}"
            " (cross-validated)"
        )
        if stored["shift"] == 0.0 and stored["slope"] == 1.0:
            return f"calibrated to raters: their bands agree with its scale, no change {figures}"
        return f"calibrated to raters: shift {stored['shift']:+.1f}, slope {stored['slope']:.2f} {figures}"

    @classmethod
    def promoted(cls, kind: str) -> "ModelVersion | None":
        return cls.objects.filter(kind=kind, is_promoted=True).first()

    def promote(self, user=None, note: str = "", only_if_none: bool = False) -> bool:
        """Make this the version the product uses; earlier promotions stay in the history. only_if_none: only when
        no version of its kind is promoted yet. Returns whether this call promoted it.

        Every version of the kind is locked first, not only the promoted one: when none is promoted yet (two first
        scorers at once) there is no such row to lock, and both would set is_promoted (IntegrityError). Any two
        promotions of a kind share the oldest version, so they run one after the other.
        """
        with transaction.atomic():
            list(ModelVersion.objects.select_for_update().filter(kind=self.kind).order_by("pk").values_list("pk"))
            previous = ModelVersion.objects.filter(kind=self.kind, is_promoted=True).first()
            if (previous and previous.pk == self.pk) or (previous and only_if_none):
                return False
            ModelVersion.objects.filter(kind=self.kind, is_promoted=True).update(is_promoted=False)
            ModelVersion.objects.filter(pk=self.pk).update(is_promoted=True)
            self.is_promoted = True
            Promotion.objects.create(version=self, previous=previous, user=user, note=note)
            return True


class Promotion(models.Model):
    """Who promoted (or rolled back to) which version, when."""

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="promotions")
    previous = models.ForeignKey(ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    note = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at"]

    def __str__(self):
        return f"{self.version} promoted at {self.at:%Y-%m-%d %H:%M}"


class RoundStatus(models.TextChoices):
    PENDING = "pending", "pending"
    RUNNING = "running", "running"
    SUCCEEDED = "succeeded", "succeeded"
    FAILED = "failed", "failed"
    CANCELLED = "cancelled", "cancelled"
    SKIPPED = "skipped", "skipped"


class TrainingRound(models.Model):
    number = models.PositiveIntegerField(unique=True)
    recipe = models.CharField(max_length=128, blank=True)
    config = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=RoundStatus.choices, default=RoundStatus.PENDING, db_index=True)
    cancel_requested = models.BooleanField(default=False)
    # Set while the round runs: two rounds cannot train the same base model at once.
    active_model_key = models.CharField(max_length=300, null=True, blank=True, unique=True)
    error = models.TextField(blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-number"]

    def __str__(self):
        return f"Round {self.number}"


class RoundStep(models.Model):
    """One step of a round; progress, log and metrics are written as it runs."""

    training_round = models.ForeignKey(TrainingRound, on_delete=models.CASCADE, related_name="steps")
    name = models.CharField(max_length=32)
    order = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=16, choices=RoundStatus.choices, default=RoundStatus.PENDING)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    # Where the current phase of the progress (one total, counting up) began: the ETA is its measured rate,
    # (done - base) items in (now - since), never a guess across phases of different speed.
    progress_since = models.DateTimeField(null=True, blank=True)
    progress_base = models.PositiveIntegerField(default=0)
    log = models.TextField(blank=True)
    metrics = models.JSONField(default=dict, blank=True, help_text="Final figures, and 'history': per-step curves.")
    worker = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # Set by each claim: only the attempt holding it may record progress or finish the step (a stale worker that
    # is still alive after a Retry cannot mark the new attempt done).
    claim_token = models.CharField(max_length=32, blank=True)
    # The last message sent for this step (Celery task id) and when: the sweep re-sends a pending step whose message
    # is gone (engine.sweep).
    message_id = models.CharField(max_length=64, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["training_round", "order"]
        constraints = [models.UniqueConstraint(fields=["training_round", "name"], name="one_step_name_per_round")]

    def __str__(self):
        return f"{self.training_round} / {self.name}"


class ScorerTraining(models.Model):
    """A "Train a new scorer" request (the Models page), followed in the database like a round's step: its state
    survives a Redis restart, and at most one is queued or running at a time (a double click queues one)."""

    status = models.CharField(max_length=16, choices=RoundStatus.choices, default=RoundStatus.PENDING, db_index=True)
    # "scorer" while queued or running, NULL once it ended: the unique constraint refuses a second active request.
    active_key = models.CharField(max_length=16, null=True, blank=True, unique=True)
    promote = models.BooleanField(default=False)
    include_human = models.BooleanField(default=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    version = models.ForeignKey(ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    message = models.CharField(max_length=300, blank=True)
    error = models.TextField(blank=True)
    worker = models.CharField(max_length=200, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    message_id = models.CharField(max_length=64, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"Scorer training {self.pk} ({self.status})"


class EssayDraw(models.Model):
    """An essay a round drew to rewrite (a fresh pool essay, or a gold one). Each essay is drawn once, so two rounds
    running at once on different base models never rewrite the same essays; a retried round finds its draws again."""

    essay = models.OneToOneField("labeling.Essay", on_delete=models.CASCADE, related_name="draw")
    training_round = models.ForeignKey(TrainingRound, on_delete=models.CASCADE, related_name="draws")
    drawn_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"essay {self.essay_id} drawn by {self.training_round}"


class HeldOutEvaluation(models.Model):
    """A reference policy's figures on the fixed held-out set (the few-shot baseline, the promoted rewriter), kept so
    that rounds with the same inputs reuse them instead of generating the same rewrites again.

    `key` is a hash of everything the figures depend on (labeling/training/held_out_cache.py); `inputs` is what was
    hashed, readable.
    """

    key = models.CharField(max_length=64, unique=True)
    policy = models.CharField(max_length=32, help_text="baseline or promoted")
    inputs = models.JSONField(default=dict, blank=True)
    figures = models.JSONField(default=dict, blank=True)
    seconds = models.FloatField(default=0.0, help_text="What computing it took.")
    training_round = models.ForeignKey(
        TrainingRound, null=True, blank=True, on_delete=models.SET_NULL, related_name="held_out_evaluations"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        where = f"round {self.training_round.number}" if self.training_round else "a deleted round"
        return f"{self.policy} on the held-out set, computed by {where}"


class FirstBatch(models.Model):
    """The pairs `make run` prepares so that raters have work minutes after start-up, before any round has run: a
    few essays rewritten by the default rewriter, each pair queued as soon as it is ready (labeling/training/
    first_batch.py). Its counts come from the rewrites and rating items themselves, so a retried essay counts once."""

    RATING_BATCH_NAME = "First batch"

    essay_ids = models.JSONField(default=list, help_text="The essays to rewrite, in order.")
    errors = models.JSONField(default=dict, blank=True, help_text="essay id -> why its rewrite failed.")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"First batch {self.pk}"

    @classmethod
    def latest(cls) -> "FirstBatch | None":
        return cls.objects.first()

    def rewrites(self):
        return Rewrite.objects.filter(essay_id__in=self.essay_ids, generation__first_batch=self.pk)

    def progress(self) -> dict:
        """{"total", "rewritten", "kept_original", "queued", "failed", "running"} for the pages."""
        rewrites = self.rewrites()
        rewritten = rewrites.count()
        queued = RatingItem.objects.filter(
            batch__name=self.RATING_BATCH_NAME, batch__training_round=None, rewrite__in=rewrites
        ).count()
        failed = len(self.errors)
        return {
            "total": len(self.essay_ids),
            "rewritten": rewritten,
            "kept_original": rewrites.filter(guard_applied=True).count(),
            "queued": queued,
            "failed": failed,
            "running": self.finished_at is None and rewritten + failed < len(self.essay_ids),
        }
