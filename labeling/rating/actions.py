"""What a rater does with an assignment (submit, skip) and what staff do with a rating (approve, reject).

Submitting is idempotent: the assignment row is locked, and a second submit of the same assignment (double click,
retry, back button) finds it submitted and returns the stored rating. A Rating is one-to-one with its assignment and
the ledger allows one earning per rating, so even a bug above this layer could not store or pay twice.

A rating submitted in less active time than the pair's minimum reading time (a base time plus a time per change) is
held: it earns nothing until a reviewer approves it, and approving it records the earning.
"""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.dispatch import Signal
from django.utils import timezone

from labeling.models import (
    Assignment,
    AssignmentStatus,
    EditVerdict,
    Preference,
    Rating,
    RatingItem,
    ReviewStatus,
    StaffAction,
    StaffActionKind,
)
from rl.changes import PairChanges, pair_changes

from .assignment import live_count
from .gold_edits import verdict_matches_gold
from .payments import record_earning, record_reversal

# Sent (after the commit) when approve_ratings approved at least one rating, with `count`: training listens (rater
# calibration of the scorer) without this package importing it.
ratings_approved = Signal()

CRITERIA = {
    "task_response": "Task Response",
    "coherence": "Coherence & Cohesion",
    "lexical": "Lexical Resource",
    "grammar": "Grammatical Range & Accuracy",
}
SKIP_REASONS = {
    "off_topic": "Off-topic (does not answer the question)",
    "not_english": "Not English",
    "broken_text": "Broken text (garbled, cut off, duplicated)",
}
BETTER_CHOICES = ("A", "B", "same")


def min_reading_seconds(changes: int) -> int:
    """The least active time a pair with this many changes takes to read: faster ratings are held for review."""
    return settings.RATING_MIN_READ_SECONDS + settings.RATING_MIN_READ_SECONDS_PER_CHANGE * changes


class RatingRefused(Exception):
    """The assignment cannot take this answer (skipped, or expired and given to someone else), or a reviewer tried
    to review their own rating."""


def parse_band(value) -> Decimal:
    """A band 0-9 in steps of 0.5, from a form value like "6.5" or "6,5"."""
    try:
        band = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None
    if not band.is_finite() or band < 0 or band > 9 or (band * 2) % 1 != 0:
        raise ValueError(f"a band is 0 to 9 in steps of 0.5, not {value!r}")
    return band.quantize(Decimal("0.1"))


@dataclass(frozen=True)
class RatingAnswer:
    """What the rater saw and entered, in terms of the sides A and B."""

    band_a: Decimal
    band_b: Decimal
    better: str  # "A", "B" or "same"
    criteria_a: dict[str, Decimal] = field(default_factory=dict)
    criteria_b: dict[str, Decimal] = field(default_factory=dict)
    comment: str = ""
    active_seconds: int = 0
    # Per-change verdicts, optional: change index (rl.changes order) -> "A", "B" or "same".
    edit_verdicts: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SubmitOutcome:
    rating: Rating
    created: bool  # False: this assignment was already submitted (a retry); nothing new stored or paid


def side_texts(assignment: Assignment) -> tuple[str, str]:
    """(text A, text B) as this rater sees them."""
    original, rewrite = assignment.item.essay.text, assignment.item.rewrite.text
    return (rewrite, original) if assignment.rewrite_side == "A" else (original, rewrite)


def _preference(better: str, rewrite_side: str) -> str:
    if better == "same":
        return Preference.SAME
    return Preference.REWRITE if better == rewrite_side else Preference.ORIGINAL


def _edit_verdicts(rating: Rating, changes: PairChanges, answer: RatingAnswer, rewrite_side: str) -> list[EditVerdict]:
    """The rater's verdicts per change in terms of original/rewrite; unknown change indexes and values are ignored."""
    verdicts = []
    for change in changes.changes:
        given = answer.edit_verdicts.get(change.index)
        if given not in BETTER_CHOICES:
            continue
        passage = changes.passages[change.passage]
        gold = verdict_matches_gold(rating.item.gold_edit, *change.original)
        verdicts.append(
            EditVerdict(
                rating=rating,
                position=change.index,
                original_start=change.original[0],
                original_end=change.original[1],
                before=changes.before(change),
                after=changes.after(change),
                passage_start=passage.original[0],
                sentence_before=changes.passage_before(passage),
                sentence_after=changes.passage_after(passage),
                verdict=_preference(given, rewrite_side),
                gold_expected=rating.item.gold_edit["expected"] if gold else "",
            )
        )
    return verdicts


def submit_rating(assignment_id: int, answer: RatingAnswer, now=None) -> SubmitOutcome:
    now = now or timezone.now()
    if answer.better not in BETTER_CHOICES:
        raise ValueError(f"better must be one of {BETTER_CHOICES}")
    # The texts never change once queued: diff them before taking any lock.
    changes = pair_changes(
        *Assignment.objects.filter(pk=assignment_id).values_list("item__essay__text", "item__rewrite__text").get()
    )
    with transaction.atomic():
        assignment = Assignment.objects.select_for_update().get(pk=assignment_id)
        if assignment.status == AssignmentStatus.SUBMITTED:
            return SubmitOutcome(Rating.objects.get(assignment=assignment), created=False)
        if assignment.status == AssignmentStatus.SKIPPED:
            raise RatingRefused("You skipped this pair.")
        # The item lock orders this submit with concurrent claims of the same item.
        item = RatingItem.objects.select_for_update().get(pk=assignment.item_id)
        if assignment.expires_at <= now and live_count(item.pk, now, exclude_assignment=assignment.pk) >= (
            item.ratings_needed
        ):
            raise RatingRefused("Your reservation expired and the pair went to other raters; nothing was saved.")

        rewrite_is_a = assignment.rewrite_side == "A"
        band_rewrite, band_original = (answer.band_a, answer.band_b) if rewrite_is_a else (answer.band_b, answer.band_a)
        crit_rewrite, crit_original = (
            (answer.criteria_a, answer.criteria_b) if rewrite_is_a else (answer.criteria_b, answer.criteria_a)
        )
        criteria = {
            side: {name: float(value) for name, value in values.items()}
            for side, values in (("original", crit_original), ("rewrite", crit_rewrite))
            if values
        }
        # Idle time is excluded in the browser; the server only refuses more than the time since the reservation.
        elapsed = max(0, int((now - assignment.reserved_at).total_seconds()))
        active_seconds = min(max(0, int(answer.active_seconds)), elapsed)
        min_seconds = min_reading_seconds(len(changes.changes))
        rating = Rating.objects.create(
            assignment=assignment,
            item=item,
            rater_id=assignment.rater_id,
            band_original=band_original,
            band_rewrite=band_rewrite,
            criteria=criteria,
            preference=_preference(answer.better, assignment.rewrite_side),
            comment=answer.comment.strip()[:4000],
            active_seconds=active_seconds,
            min_seconds=min_seconds,
            held=active_seconds < min_seconds,
            submitted_at=now,
        )
        EditVerdict.objects.bulk_create(_edit_verdicts(rating, changes, answer, assignment.rewrite_side))
        if not rating.held:
            record_earning(rating, now=now)
        assignment.status = AssignmentStatus.SUBMITTED
        assignment.finished_at = now
        assignment.save(update_fields=["status", "finished_at"])
        RatingItem.objects.filter(pk=item.pk).update(ratings_done=F("ratings_done") + 1)
        return SubmitOutcome(rating, created=True)


def skip_assignment(assignment_id: int, reason: str, now=None) -> Assignment:
    """Give the pair back with a reason; the rater never gets it again. Skipping twice is a no-op."""
    if reason not in SKIP_REASONS:
        raise ValueError(f"unknown skip reason {reason!r}")
    with transaction.atomic():
        assignment = Assignment.objects.select_for_update().get(pk=assignment_id)
        if assignment.status == AssignmentStatus.SUBMITTED:
            raise RatingRefused("This pair is already rated.")
        if assignment.status == AssignmentStatus.RESERVED:
            assignment.status = AssignmentStatus.SKIPPED
            assignment.skip_reason = reason
            assignment.finished_at = now or timezone.now()
            assignment.save(update_fields=["status", "skip_reason", "finished_at"])
        return assignment


def approve_ratings(ratings, reviewer) -> int:
    """Approve pending ratings (rejections are final: their pay was reversed), never the reviewer's own: those are
    left pending for someone else. Each approval is recorded with who did it, and a held rating (rated faster than its
    minimum reading time) earns its pay now. Returns how many changed.

    The pending rows are locked first, so two reviewers approving the same ratings at once approve and pay each once.
    """
    now = timezone.now()
    with transaction.atomic():
        pending = ratings.filter(review_status=ReviewStatus.PENDING).exclude(rater=reviewer)
        approved = list(pending.select_for_update(of=("self",)).values_list("pk", "rater_id", "held"))
        Rating.objects.filter(pk__in=[pk for pk, _, _ in approved]).update(
            review_status=ReviewStatus.APPROVED, reviewed_by=reviewer, reviewed_at=now
        )
        for rating in Rating.objects.filter(pk__in=[pk for pk, _, held in approved if held]):
            record_earning(rating, now=now)
        StaffAction.objects.bulk_create(
            StaffAction(actor=reviewer, kind=StaffActionKind.APPROVE, rating_id=pk, rater_id=rater_id, at=now)
            for pk, rater_id, _ in approved
        )
        if approved:
            transaction.on_commit(lambda: ratings_approved.send(sender=approve_ratings, count=len(approved)))
    return len(approved)


def reject_rating(rating_id: int, reviewer, now=None) -> bool:
    """Reject: not used for training, and its pay is reversed in the ledger (recorded with who did it). False if it
    was already rejected; RatingRefused for the reviewer's own rating."""
    now = now or timezone.now()
    with transaction.atomic():
        rating = Rating.objects.select_for_update().get(pk=rating_id)
        if rating.rater_id == reviewer.pk:
            raise RatingRefused("You cannot review your own ratings: another reviewer has to.")
        if rating.review_status == ReviewStatus.REJECTED:
            return False
        rating.review_status = ReviewStatus.REJECTED
        rating.reviewed_by = reviewer
        rating.reviewed_at = now
        rating.save(update_fields=["review_status", "reviewed_by", "reviewed_at"])
        reversal = record_reversal(rating, now=now)
        StaffAction.objects.create(
            actor=reviewer,
            kind=StaffActionKind.REJECT,
            rating=rating,
            rater_id=rating.rater_id,
            amount=reversal.amount if reversal else None,
            at=now,
        )
        return True
