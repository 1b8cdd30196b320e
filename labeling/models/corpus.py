"""The essays: task prompts, essays with their reference bands, and rewrites of them."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from rl.text import text_hash

BAND_VALIDATORS = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("9"))]


def band_field(**kwargs):
    return models.DecimalField(
        max_digits=3, decimal_places=1, null=True, blank=True, validators=BAND_VALIDATORS, **kwargs
    )


class Split(models.TextChoices):
    TRAIN = "train", "train"
    VAL = "val", "val"
    TEST = "test", "test"
    POOL = "pool", "pool (unscored, to rewrite)"


class Prompt(models.Model):
    """An IELTS Task 2 question."""

    text = models.TextField()
    text_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.text[:80]

    def save(self, *args, **kwargs):
        self.text_hash = text_hash(self.text)
        super().save(*args, **kwargs)


class Essay(models.Model):
    prompt = models.ForeignKey(Prompt, null=True, blank=True, on_delete=models.PROTECT, related_name="essays")
    text = models.TextField()
    # Deduplication key: the same essay (ignoring case and whitespace) is stored once.
    text_hash = models.CharField(max_length=64, unique=True, editable=False)
    origin = models.CharField(max_length=64, db_index=True, help_text="Dataset the essay came from.")
    origin_row = models.PositiveIntegerField(null=True, blank=True, help_text="Line of the source file.")
    origin_id = models.CharField(max_length=128, blank=True, help_text="Id in the source dataset, if any.")
    split = models.CharField(max_length=8, choices=Split.choices, db_index=True)

    band = band_field(help_text="Reference overall band, when known.")
    # The raw chillies file labels some essays only as "<4": a fact of its own, never stored as 4.0.
    band_below_4 = models.BooleanField(default=False, help_text="Reference says only 'below 4'.")
    task_response = band_field()
    coherence = band_field()
    lexical = band_field()
    grammar = band_field()
    # Written by GPT from the label: it leaks the band, so it must never be a model input.
    leaky_evaluation = models.TextField(blank=True, help_text="Never a model input (states the label).")

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["split", "band"])]

    def __str__(self):
        return f"Essay {self.pk} ({self.origin}, {self.split})"

    def save(self, *args, **kwargs):
        self.text_hash = text_hash(self.text)
        super().save(*args, **kwargs)

    @property
    def question(self) -> str:
        return self.prompt.text if self.prompt_id else ""

    @property
    def word_count(self) -> int:
        return len(self.text.split())


class Rewrite(models.Model):
    """An LLM rewrite of an essay, as sent to raters."""

    essay = models.ForeignKey(Essay, on_delete=models.CASCADE, related_name="rewrites")
    text = models.TextField()
    model_version = models.ForeignKey(
        "labeling.ModelVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="rewrites"
    )
    training_round = models.ForeignKey(
        "labeling.TrainingRound", null=True, blank=True, on_delete=models.SET_NULL, related_name="rewrites"
    )
    generation = models.JSONField(default=dict, blank=True, help_text="Generation settings (temperature, ...).")
    chars_changed = models.PositiveIntegerField(help_text="Character-level Levenshtein distance to the original.")
    guard_applied = models.BooleanField(default=False, help_text="The guard replaced the output by the original.")
    scorer_band_before = band_field()
    scorer_band_after = band_field()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # Retrying a generation step never duplicates a round's rewrites.
            models.UniqueConstraint(fields=["essay", "training_round"], name="one_rewrite_per_essay_per_round"),
        ]

    def __str__(self):
        return f"Rewrite {self.pk} of essay {self.essay_id}"
