"""Small builders shared by the rater-workspace tests: essays with rewrites queued as rating items, and raters."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from labeling.models import Essay, Prompt, Rating, Rewrite, Split, TrainingRound
from labeling.rating.actions import RatingAnswer, submit_rating
from labeling.rating.assignment import claim_next
from labeling.rating.batches import create_rating_items
from labeling.roles import create_rater

PASSWORD = "pw-for-tests-1"


def make_rewrites(n: int, round_number: int | None = 1, split: str = Split.POOL, band=None, tag: str = "e"):
    """n essays (each with a rewrite in the given round), distinct texts so deduplication keeps them all."""
    prompt, _ = Prompt.objects.get_or_create(text=f"Question {tag}: some people think cities should ban cars. Discuss.")
    training_round = None
    if round_number is not None:
        training_round, _ = TrainingRound.objects.get_or_create(number=round_number)
    rewrites = []
    for i in range(n):
        essay = Essay.objects.create(
            prompt=prompt,
            text=f"Essay {tag}-{round_number}-{i}. Cars is a big problem in many city and people must to think.",
            origin="test",
            split=split,
            band=Decimal(band) if band is not None else None,
        )
        rewrites.append(
            Rewrite.objects.create(
                essay=essay,
                text=f"Essay {tag}-{round_number}-{i}. Cars are a big problem in many cities and people must think.",
                training_round=training_round,
                chars_changed=12,
                scorer_band_before=Decimal("5.0"),
                scorer_band_after=Decimal("5.5"),
            )
        )
    return training_round, rewrites


def make_items(n: int, k: int = 2, round_number: int | None = 1, gold_share: float = 0.0, **kwargs):
    training_round, rewrites = make_rewrites(n, round_number=round_number, **kwargs)
    summary = create_rating_items(
        training_round, rewrites, k=k, gold_share=gold_share, name="" if training_round else f"batch-{n}-{k}"
    )
    return summary.batch


def make_raters(n: int, prefix: str = "rater"):
    return [create_rater(f"{prefix}{i}", f"{prefix}{i}@example.org", PASSWORD)[0] for i in range(n)]


def rate_all(rater, seconds: int = 0) -> list[Rating]:
    """Rate every pair available to the rater (bands 6 and 6.5, B better), each after `seconds` of active reading."""
    answer = RatingAnswer(band_a=Decimal("6"), band_b=Decimal("6.5"), better="B", active_seconds=seconds)
    ratings = []
    while (assignment := claim_next(rater, now=timezone.now() - timedelta(seconds=seconds))) is not None:
        ratings.append(submit_rating(assignment.pk, answer).rating)
    return ratings
