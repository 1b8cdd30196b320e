"""Handing out rating items: K ratings per item, reservations with expiry, safe under concurrent "Next" clicks.

Correctness under concurrency: a claim locks the rater's user row (one claim per rater at a time) and then one item row
with SELECT ... FOR UPDATE SKIP LOCKED, and counts the item's live assignments again *after* taking the lock (a new
statement, so it sees every assignment committed by whoever held the lock before). Submits lock the same item row, so
an item never collects more than K live assignments. On SQLite the transactions are IMMEDIATE: writers are serialised.
"""

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from labeling.models import Assignment, AssignmentStatus, Rating, RatingItem, Side

# A claim retries when the item it locked filled up between its read and its lock.
CLAIM_ATTEMPTS = 8


def live_assignments_q(now, prefix: str = "") -> Q:
    """Assignments that hold a slot of their item: submitted ones and unexpired reservations."""
    return Q(**{f"{prefix}status": AssignmentStatus.SUBMITTED}) | Q(
        **{f"{prefix}status": AssignmentStatus.RESERVED, f"{prefix}expires_at__gt": now}
    )


def live_count(item_id: int, now, exclude_assignment: int | None = None) -> int:
    qs = Assignment.objects.filter(live_assignments_q(now), item_id=item_id)
    if exclude_assignment is not None:
        qs = qs.exclude(pk=exclude_assignment)
    return qs.count()


def available_items(rater, now=None) -> QuerySet:
    """Items this rater may claim now, best first: newest round, then where the scorer is least sure."""
    now = now or timezone.now()
    live = (
        Assignment.objects.filter(live_assignments_q(now), item=OuterRef("pk"))
        .order_by()
        .values("item")
        .annotate(n=Count("pk"))
        .values("n")
    )
    # The rater already saw this essay in this batch or in another batch of the same round (this item included).
    seen_essay = Assignment.objects.filter(rater=rater, item__essay=OuterRef("essay")).filter(
        Q(item__batch=OuterRef("batch"))
        | Q(item__batch__training_round__isnull=False, item__batch__training_round=OuterRef("batch__training_round"))
    )
    return (
        RatingItem.objects.filter(batch__is_open=True, ratings_done__lt=F("ratings_needed"))
        .annotate(live=Coalesce(Subquery(live, output_field=IntegerField()), Value(0)))
        .filter(live__lt=F("ratings_needed"))
        .exclude(Exists(seen_essay))
        .order_by(
            F("batch__training_round__number").desc(nulls_last=True),
            F("uncertainty").desc(nulls_last=True),
            "batch_id",
            "pk",
        )
    )


def current_assignment(rater, now=None) -> Assignment | None:
    now = now or timezone.now()
    return (
        Assignment.objects.filter(rater=rater, status=AssignmentStatus.RESERVED, expires_at__gt=now)
        .order_by("reserved_at")
        .first()
    )


def claim_next(rater, now=None) -> Assignment | None:
    """The rater's open reservation, else a fresh one on the best available item; None when nothing is left."""
    now = now or timezone.now()
    with transaction.atomic():
        # One claim per rater at a time (a double-clicked "Next" must not reserve two items).
        get_user_model().objects.select_for_update().filter(pk=rater.pk).first()
        current = current_assignment(rater, now)
        if current is not None:
            return current
        for _ in range(CLAIM_ATTEMPTS):
            candidates = available_items(rater, now)
            item = candidates.select_for_update(skip_locked=True, of=("self",)).first()
            if item is None:
                # Every candidate is locked by another claim right now: wait for the best one rather than
                # telling the rater that nothing is left.
                item = candidates.select_for_update(of=("self",)).first()
            if item is None:
                return None
            if live_count(item.pk, now) < item.ratings_needed:
                return Assignment.objects.create(
                    item=item,
                    rater=rater,
                    rewrite_side=secrets.choice([Side.A, Side.B]),
                    reserved_at=now,
                    expires_at=now + timedelta(minutes=settings.RATING_ASSIGNMENT_MINUTES),
                )
    return None


def items_over_k() -> int:
    """Items with more submitted ratings than they need: must always be 0."""
    counts = Rating.objects.values("item").annotate(n=Count("pk")).filter(n__gt=F("item__ratings_needed"))
    return counts.count()
