"""Human rating of blinded pairs: batches of items, assignments to raters, ratings, and the money ledger."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from .corpus import band_field


class RatingBatch(models.Model):
    """A set of pairs queued for raters, usually one per training round."""

    name = models.CharField(max_length=128)
    training_round = models.OneToOneField(
        "labeling.TrainingRound", null=True, blank=True, on_delete=models.SET_NULL, related_name="rating_batch"
    )
    ratings_per_item = models.PositiveSmallIntegerField(help_text="K: independent ratings each item needs.")
    gold_share = models.FloatField(default=0.0, help_text="Share of gold items (trusted reference band).")
    is_open = models.BooleanField(default=True, help_text="Closed batches hand out no new assignments.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.name


class RatingItem(models.Model):
    """One pair to rate: an original essay and one rewrite of it."""

    batch = models.ForeignKey(RatingBatch, on_delete=models.CASCADE, related_name="items")
    essay = models.ForeignKey("labeling.Essay", on_delete=models.PROTECT, related_name="rating_items")
    rewrite = models.ForeignKey("labeling.Rewrite", on_delete=models.PROTECT, related_name="rating_items")
    # Gold: the original has a trusted reference band; raters cannot tell (same page, same pay).
    is_gold = models.BooleanField(default=False)
    # A gold item may also carry the expected verdict of one change: the rewrite is the original with one injected
    # learner error (rl/corruptions.py). {"original_start", "original_end", "before", "after", "kind", "expected"}.
    gold_edit = models.JSONField(default=dict, blank=True)
    ratings_needed = models.PositiveSmallIntegerField()
    ratings_done = models.PositiveSmallIntegerField(default=0, help_text="Submitted ratings (not skips).")
    # Filled by the scorer: higher = the scorer is less sure, so humans should look at it sooner.
    uncertainty = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["batch", "rewrite"], name="one_item_per_rewrite_per_batch"),
        ]
        indexes = [models.Index(fields=["batch", "ratings_done"])]

    def __str__(self):
        return f"Item {self.pk} (essay {self.essay_id}, rewrite {self.rewrite_id})"


class AssignmentStatus(models.TextChoices):
    RESERVED = "reserved", "reserved"
    SUBMITTED = "submitted", "submitted"
    SKIPPED = "skipped", "skipped"


class Side(models.TextChoices):
    A = "A", "A"
    B = "B", "B"


def new_token() -> str:
    return uuid.uuid4().hex


class Assignment(models.Model):
    """One rater's reservation of one item; the token in the URL makes a submit idempotent."""

    item = models.ForeignKey(RatingItem, on_delete=models.CASCADE, related_name="assignments")
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rating_assignments")
    token = models.CharField(max_length=32, unique=True, default=new_token, editable=False)
    # Which side shows the rewrite: random per assignment, recorded here, never shown to the rater.
    rewrite_side = models.CharField(max_length=1, choices=Side.choices)
    status = models.CharField(
        max_length=16, choices=AssignmentStatus.choices, default=AssignmentStatus.RESERVED, db_index=True
    )
    skip_reason = models.CharField(max_length=32, blank=True)
    reserved_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-reserved_at"]
        constraints = [
            # A rater never gets the same item twice.
            models.UniqueConstraint(fields=["item", "rater"], name="one_assignment_per_item_per_rater"),
        ]
        indexes = [models.Index(fields=["rater", "status"]), models.Index(fields=["item", "status"])]

    def __str__(self):
        return f"Assignment {self.pk} of item {self.item_id} to {self.rater_id}"

    @property
    def is_expired(self) -> bool:
        return self.status == AssignmentStatus.RESERVED and self.expires_at <= timezone.now()


class ReviewStatus(models.TextChoices):
    PENDING = "pending", "pending review"
    APPROVED = "approved", "approved"
    REJECTED = "rejected", "rejected"


class Preference(models.TextChoices):
    ORIGINAL = "original", "original better"
    REWRITE = "rewrite", "rewrite better"
    SAME = "same", "about the same"


class Rating(models.Model):
    """A rater's answer for one assignment, stored in terms of original/rewrite (not the A/B they saw)."""

    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="rating")
    item = models.ForeignKey(RatingItem, on_delete=models.CASCADE, related_name="ratings")
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ratings")
    band_original = band_field()
    band_rewrite = band_field()
    # {"original": {"task_response": 6.5, ...}, "rewrite": {...}}; only the criteria the rater filled in.
    criteria = models.JSONField(default=dict, blank=True)
    preference = models.CharField(max_length=16, choices=Preference.choices)
    comment = models.TextField(blank=True)
    active_seconds = models.PositiveIntegerField(help_text="Time on the page with the rater active (idle excluded).")
    min_seconds = models.PositiveIntegerField(
        default=0, help_text="Minimum reading time for this pair's changes when it was submitted."
    )
    held = models.BooleanField(
        default=False, help_text="Submitted faster than the minimum reading time: not paid until a reviewer approves."
    )
    submitted_at = models.DateTimeField(default=timezone.now, db_index=True)
    review_status = models.CharField(
        max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.PENDING, db_index=True
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at"]

    def __str__(self):
        return f"Rating {self.pk} by {self.rater_id}"


class EditVerdict(models.Model):
    """A rater's verdict on one change of a pair (rl/changes.py), stored in terms of original/rewrite.

    The change's text and its passage are copied here, so a verdict keeps its meaning whatever later code computes.
    """

    rating = models.ForeignKey(Rating, on_delete=models.CASCADE, related_name="edit_verdicts")
    position = models.PositiveSmallIntegerField(help_text="Index of the change in the pair, in reading order.")
    original_start = models.PositiveIntegerField(help_text="Where the change starts in the original essay.")
    original_end = models.PositiveIntegerField()
    before = models.TextField(blank=True, help_text="The changed text in the original.")
    after = models.TextField(blank=True, help_text="What the rewrite has instead.")
    passage_start = models.PositiveIntegerField(help_text="Where the passage (the sentences holding it) starts.")
    sentence_before = models.TextField(help_text="The passage in the original.")
    sentence_after = models.TextField(help_text="The same passage in the rewrite.")
    verdict = models.CharField(max_length=16, choices=Preference.choices)
    gold_expected = models.CharField(
        max_length=16, blank=True, choices=Preference.choices, help_text="Set when this change is the gold edit."
    )

    class Meta:
        ordering = ["rating", "position"]
        constraints = [models.UniqueConstraint(fields=["rating", "position"], name="one_verdict_per_change")]

    def __str__(self):
        return f"{self.before!r} -> {self.after!r}: {self.verdict}"


class LedgerKind(models.TextChoices):
    EARNING = "earning", "earning"
    REVERSAL = "reversal", "reversal (rating rejected)"


class PayoutPeriod(models.Model):
    """Closing a period turns every payable ledger entry before its end into one payout per rater."""

    ends_at = models.DateTimeField(help_text="Entries created before this moment are paid in this period.")
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-ends_at"]

    def __str__(self):
        return f"Payout period ending {self.ends_at:%Y-%m-%d %H:%M}"


class Payout(models.Model):
    period = models.ForeignKey(PayoutPeriod, on_delete=models.PROTECT, related_name="payouts")
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payouts")
    amount = models.DecimalField(max_digits=12, decimal_places=2, help_text="What to pay: never below zero.")
    earned = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    deductions = models.DecimalField(
        max_digits=12, decimal_places=2, default=0, help_text="Rejections of ratings paid earlier (zero or negative)."
    )
    carried_over = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=0,
        help_text="Deductions larger than the earnings, left for the next period to settle (zero or negative).",
    )
    currency = models.CharField(max_length=3)
    ratings = models.PositiveIntegerField(help_text="Ratings whose earnings this payout settles.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["period", "rater"], name="one_payout_per_rater_per_period")]

    def __str__(self):
        return f"{self.amount} {self.currency} to {self.rater_id}"


class LedgerEntry(models.Model):
    """Append-only money record: +pay when a rating is submitted, -pay if staff reject it."""

    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ledger_entries")
    rating = models.ForeignKey(Rating, on_delete=models.PROTECT, related_name="ledger_entries")
    kind = models.CharField(max_length=16, choices=LedgerKind.choices)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    payout = models.ForeignKey(Payout, null=True, blank=True, on_delete=models.PROTECT, related_name="entries")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Paid once per rating, reversed at most once: retries and double clicks cannot pay twice.
            models.UniqueConstraint(fields=["rating", "kind"], name="one_ledger_entry_per_rating_and_kind"),
        ]

    def __str__(self):
        return f"{self.kind} {self.amount} {self.currency}"


class StaffActionKind(models.TextChoices):
    APPROVE = "approve", "approved a rating"
    REJECT = "reject", "rejected a rating (pay reversed)"
    CLOSE_PERIOD = "close_period", "closed a payout period"
    CREATE_RATER = "create_rater", "created a rater"
    PASSWORD_LINK = "password_link", "made a set-password link"
    DEACTIVATE = "deactivate", "deactivated a rater"
    REACTIVATE = "reactivate", "reactivated a rater"
    UNLOCK = "unlock", "unlocked a login"


class StaffAction(models.Model):
    """Who did what to money and rater accounts, and when: append-only, one row per rating approved or rejected.

    Its Meta also declares what staff may do: the permissions that labeling/roles.py hands out through role groups.
    """

    # Empty only for work done from the command line (a management command has no user).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=StaffActionKind.choices)
    rater = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="staff_actions"
    )
    rating = models.ForeignKey(Rating, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    period = models.ForeignKey(PayoutPeriod, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-pk"]
        permissions = [
            ("review_ratings", "Can approve and reject ratings"),
            ("manage_payouts", "Can see payouts, close payout periods and download the payouts CSV"),
            ("manage_raters", "Can create, deactivate and unlock rater accounts"),
            ("train_models", "Can launch, cancel and retry rounds, train scorers, promote and roll back models"),
        ]

    def __str__(self):
        return f"{self.actor_id} {self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}"
