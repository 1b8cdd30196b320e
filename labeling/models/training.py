"""Model versions (scorer, rewriter) and the training rounds that produce them."""

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone


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

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind"], condition=models.Q(is_promoted=True), name="one_promoted_version_per_kind"
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.name}"

    @classmethod
    def promoted(cls, kind: str) -> "ModelVersion | None":
        return cls.objects.filter(kind=kind, is_promoted=True).first()

    def promote(self, user=None, note: str = "") -> None:
        """Make this the version the product uses; earlier promotions stay in the history."""
        with transaction.atomic():
            previous = ModelVersion.objects.select_for_update().filter(kind=self.kind, is_promoted=True).first()
            if previous and previous.pk == self.pk:
                return
            ModelVersion.objects.filter(kind=self.kind, is_promoted=True).update(is_promoted=False)
            ModelVersion.objects.filter(pk=self.pk).update(is_promoted=True)
            self.is_promoted = True
            Promotion.objects.create(version=self, previous=previous, user=user, note=note)


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
    log = models.TextField(blank=True)
    metrics = models.JSONField(default=dict, blank=True, help_text="Final figures, and 'history': per-step curves.")
    worker = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["training_round", "order"]
        constraints = [models.UniqueConstraint(fields=["training_round", "name"], name="one_step_name_per_round")]

    def __str__(self):
        return f"{self.training_round} / {self.name}"
