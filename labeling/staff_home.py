"""The staff home page's getting-started checklist: one line per thing a working deployment needs, each saying where
it stands and linking to the page that does it."""

from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import F, Sum
from django.urls import reverse
from django.utils import timezone

from .models import Essay, ModelKind, ModelVersion, Rating, RatingItem, RoundStatus, Split, TrainingRound
from .rating.payments import currency, payable_entries
from .roles import RATERS_GROUP


@dataclass(frozen=True)
class ChecklistLine:
    key: str
    done: bool
    text: str  # where it stands
    url: str
    action: str  # the link's words: what to do there


def essays_line() -> ChecklistLine:
    counts = {split: Essay.objects.filter(split=split).count() for split in Split.values}
    labelled, pool = counts[Split.TRAIN] + counts[Split.VAL], counts[Split.POOL]
    text = ", ".join(f"{counts[split]} {split}" for split in Split.values) + " essays"
    return ChecklistLine(
        "essays", labelled > 0 and pool > 0, text, reverse("admin:labeling_essay_changelist"), "Essays (import_essays)"
    )


def scorer_line() -> ChecklistLine:
    scorer = ModelVersion.promoted(ModelKind.SCORER)
    text = f"promoted scorer: {scorer}" if scorer else "no scorer promoted yet"
    return ChecklistLine("scorer", scorer is not None, text, reverse("models"), "Train or promote a scorer")


def raters_line() -> ChecklistLine:
    raters = get_user_model().objects.filter(groups__name=RATERS_GROUP, is_active=True).count()
    return ChecklistLine(
        "raters",
        raters > 0,
        f"{raters} active rater account{'s' if raters != 1 else ''}",
        reverse("staff_raters"),
        "Create raters",
    )


def round_line() -> ChecklistLine:
    finished = TrainingRound.objects.filter(status=RoundStatus.SUCCEEDED).count()
    running = TrainingRound.objects.filter(status=RoundStatus.RUNNING).count()
    text = f"{finished} round{'s' if finished != 1 else ''} finished" + (f", {running} running" if running else "")
    url, action = (reverse("rounds"), "Rounds") if finished or running else (reverse("round_new"), "Launch a round")
    return ChecklistLine("round", finished > 0, text, url, action)


def pairs_line(now) -> ChecklistLine:
    waiting = RatingItem.objects.filter(ratings_done__lt=F("ratings_needed")).count()
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    rated_today = Rating.objects.filter(submitted_at__gte=midnight).count()
    text = f"{waiting} pair{'s' if waiting != 1 else ''} waiting for ratings, {rated_today} rated today"
    return ChecklistLine("pairs", waiting > 0 or rated_today > 0, text, reverse("staff_ratings"), "Ratings")


def payouts_line(now) -> ChecklistLine:
    due = payable_entries(now).aggregate(total=Sum("amount"))["total"] or Decimal("0")
    text = f"{due:.2f} {currency()} due to raters" if due > 0 else "no payouts due"
    return ChecklistLine("payouts", due <= 0, text, reverse("staff_payouts"), "Payouts")


def getting_started(now=None) -> list[ChecklistLine]:
    now = now or timezone.now()
    return [essays_line(), scorer_line(), raters_line(), round_line(), pairs_line(now), payouts_line(now)]
