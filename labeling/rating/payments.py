"""Rater pay: an append-only Decimal ledger (one earning per rating, one reversal if rejected) and payout periods.

Pending ratings are earned but not yet payable; closing a period pays every entry of a reviewed rating (approved:
its earning; rejected: earning and reversal, which cancel out) created before the period's end.
"""

import csv
import io
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from labeling.models import LedgerEntry, LedgerKind, Payout, PayoutPeriod, Rating, ReviewStatus

CENT = Decimal("0.01")


def pay_per_essay() -> Decimal:
    return Decimal(str(settings.RATING_PAY_PER_ESSAY)).quantize(CENT)


def pay_per_pair() -> Decimal:
    """A pair is two rated essays."""
    return (pay_per_essay() * 2).quantize(CENT)


def currency() -> str:
    return settings.RATING_CURRENCY


def record_earning(rating: Rating, now=None) -> LedgerEntry:
    return LedgerEntry.objects.create(
        rater_id=rating.rater_id,
        rating=rating,
        kind=LedgerKind.EARNING,
        amount=pay_per_pair(),
        currency=currency(),
        created_at=now or timezone.now(),
    )


def record_reversal(rating: Rating, now=None) -> LedgerEntry | None:
    earning = LedgerEntry.objects.filter(rating=rating, kind=LedgerKind.EARNING).first()
    if earning is None or LedgerEntry.objects.filter(rating=rating, kind=LedgerKind.REVERSAL).exists():
        return None
    return LedgerEntry.objects.create(
        rater_id=rating.rater_id,
        rating=rating,
        kind=LedgerKind.REVERSAL,
        amount=-earning.amount,
        currency=earning.currency,
        created_at=now or timezone.now(),
    )


def _sum(qs) -> Decimal:
    return (qs.aggregate(total=Sum("amount"))["total"] or Decimal("0")).quantize(CENT)


@dataclass(frozen=True)
class Earnings:
    total: Decimal  # everything earned, net of reversals
    pending_review: Decimal  # earned, waiting for staff review
    payable: Decimal  # reviewed, not yet in a payout
    paid: Decimal
    today: Decimal
    currency: str


def earnings_of(rater) -> Earnings:
    entries = LedgerEntry.objects.filter(rater=rater)
    pending = Q(rating__review_status=ReviewStatus.PENDING)
    start_of_day = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return Earnings(
        total=_sum(entries),
        pending_review=_sum(entries.filter(pending)),
        payable=_sum(entries.filter(payout__isnull=True).exclude(pending)),
        paid=_sum(entries.filter(payout__isnull=False)),
        today=_sum(entries.filter(created_at__gte=start_of_day)),
        currency=currency(),
    )


def payable_entries(ends_at):
    return LedgerEntry.objects.filter(payout__isnull=True, created_at__lt=ends_at).exclude(
        rating__review_status=ReviewStatus.PENDING
    )


@transaction.atomic
def close_period(ends_at=None, user=None) -> PayoutPeriod:
    """One payout per rater with payable entries before `ends_at` (default: now)."""
    ends_at = ends_at or timezone.now()
    period = PayoutPeriod.objects.create(ends_at=ends_at, closed_at=timezone.now(), closed_by=user)
    # Lock the entries first (two staff closing at once must not pay an entry twice), then sum them.
    locked = list(payable_entries(ends_at).select_for_update(of=("self",)).values_list("pk", flat=True))
    totals = (
        LedgerEntry.objects.filter(pk__in=locked)
        .order_by()
        .values("rater")
        .annotate(
            amount=Sum("amount"),
            ratings=Count("rating", filter=Q(kind=LedgerKind.EARNING, rating__review_status=ReviewStatus.APPROVED)),
        )
    )
    for row in list(totals):
        payout = Payout.objects.create(
            period=period,
            rater_id=row["rater"],
            amount=row["amount"].quantize(CENT),
            currency=currency(),
            ratings=row["ratings"],
        )
        LedgerEntry.objects.filter(pk__in=locked, rater_id=row["rater"]).update(payout=payout)
    return period


def payouts_csv(period: PayoutPeriod) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["period_end", "rater", "email", "ratings", "amount", "currency"])
    for payout in period.payouts.select_related("rater").order_by("rater__username"):
        writer.writerow(
            [
                period.ends_at.isoformat(),
                payout.rater.username,
                payout.rater.email,
                payout.ratings,
                f"{payout.amount:.2f}",
                payout.currency,
            ]
        )
    return buffer.getvalue()
