"""Rater pay: an append-only Decimal ledger (one earning per rating, one reversal if rejected) and payout periods.

Pending ratings are earned but not yet payable; closing a period pays every entry of a reviewed rating (approved:
its earning; rejected: earning and reversal, which cancel out) created before the period's end. A rating rejected
after it was paid leaves its reversal alone: it is deducted from the rater's next payout, shown as a deduction; when
it outweighs what the rater earned, nothing is paid and the rest is carried over to the next period, never a negative
payout.
"""

import csv
import io
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from labeling.models import (
    LedgerEntry,
    LedgerKind,
    Payout,
    PayoutPeriod,
    Rating,
    ReviewStatus,
    StaffAction,
    StaffActionKind,
)

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


def payable_totals(entries) -> list[dict]:
    """Per rater: net (the sum), earned (positive entries), deductions (negative entries), approved ratings."""
    return list(
        entries.order_by()
        .values("rater")
        .annotate(
            net=Sum("amount"),
            earned=Coalesce(Sum("amount", filter=Q(amount__gt=0)), Decimal("0")),
            deductions=Coalesce(Sum("amount", filter=Q(amount__lt=0)), Decimal("0")),
            ratings=Count("rating", filter=Q(kind=LedgerKind.EARNING, rating__review_status=ReviewStatus.APPROVED)),
        )
        .order_by("rater")
    )


@transaction.atomic
def close_period(ends_at=None, user=None) -> PayoutPeriod | None:
    """One payout per rater with payable entries before `ends_at` (default: now); None, and no period, when there is
    nothing to settle. A rater whose entries sum below zero is paid nothing: a payout row of 0 shows the deduction
    carried over, and the entries stay unpaid, to be settled against the next period's earnings."""
    ends_at = ends_at or timezone.now()
    # Lock the entries first (two staff closing at once must not pay an entry twice), then sum them.
    locked = list(payable_entries(ends_at).select_for_update(of=("self",)).values_list("pk", flat=True))
    totals = payable_totals(LedgerEntry.objects.filter(pk__in=locked))
    if not any(row["net"] >= 0 for row in totals):  # nothing, or only deductions to carry over
        return None
    period = PayoutPeriod.objects.create(ends_at=ends_at, closed_at=timezone.now(), closed_by=user)
    for row in totals:
        carried = min(row["net"], Decimal("0"))
        payout = Payout.objects.create(
            period=period,
            rater_id=row["rater"],
            amount=(row["net"] - carried).quantize(CENT),
            earned=row["earned"].quantize(CENT),
            deductions=row["deductions"].quantize(CENT),
            carried_over=carried.quantize(CENT),
            currency=currency(),
            ratings=row["ratings"] if not carried else 0,
        )
        if not carried:
            LedgerEntry.objects.filter(pk__in=locked, rater_id=row["rater"]).update(payout=payout)
    paid = sum((row["net"] for row in totals if row["net"] > 0), Decimal("0"))
    StaffAction.objects.create(actor=user, kind=StaffActionKind.CLOSE_PERIOD, period=period, amount=paid)
    return period


# A spreadsheet reads a cell starting with one of these as a formula (CSV injection): such text is quoted.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(value: str) -> str:
    """Text from users (names, emails) as a spreadsheet shows it, never as a formula."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def payouts_csv(period: PayoutPeriod) -> str:
    """One row per payout; deductions are rejections of ratings paid earlier, carried_over what the next period
    deducts (both zero or negative). The amount is what to pay, never below zero."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        ["period_end", "rater", "email", "ratings", "earned", "deductions", "amount", "carried_over", "currency"]
    )
    for payout in period.payouts.select_related("rater").order_by("rater__username"):
        writer.writerow(
            [
                period.ends_at.isoformat(),
                spreadsheet_text(payout.rater.username),
                spreadsheet_text(payout.rater.email),
                payout.ratings,
                f"{payout.earned:.2f}",
                f"{payout.deductions:.2f}",
                f"{payout.amount:.2f}",
                f"{payout.carried_over:.2f}",
                payout.currency,
            ]
        )
    return buffer.getvalue()
