"""Queue rating items for a round: its original+rewrite pairs plus a share of gold pairs.

A gold pair is a rewrite of an essay whose reference band we trust (published train/val band, not "<4"). It looks
exactly like any other pair; the rater's band for the original side measures their bias and error.
"""

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from labeling.models import Essay, RatingBatch, RatingItem, Rewrite, Split, TrainingRound


@dataclass(frozen=True)
class BatchSummary:
    batch: RatingBatch
    created: int  # items created by this call (0 when called again)
    items: int
    gold_items: int


def trusted_gold_essays():
    """Essays whose reference band can score raters; test essays never (they stay unseen by training)."""
    return Essay.objects.filter(split__in=[Split.TRAIN, Split.VAL], band__isnull=False, band_below_4=False)


def gold_target(normal_items: int, gold_share: float) -> int:
    """Gold items so that gold / (normal + gold) is about gold_share."""
    if gold_share <= 0 or normal_items == 0:
        return 0
    return round(normal_items * gold_share / (1.0 - gold_share))


@transaction.atomic
def create_rating_items(
    training_round: TrainingRound | None,
    rewrites: Iterable[Rewrite],
    k: int | None = None,
    gold_share: float | None = None,
    name: str = "",
) -> BatchSummary:
    """Create (once) the batch of `training_round` and its items; calling it again adds only what is missing.

    Without a round the batch is found by `name`. Rewrites whose guard returned the original unchanged are still
    queued: humans confirm "no change" pairs too.
    """
    k = k or settings.RATING_DEFAULT_K
    gold_share = settings.RATING_GOLD_SHARE if gold_share is None else gold_share
    if training_round is not None:
        batch, _ = RatingBatch.objects.get_or_create(
            training_round=training_round,
            defaults={
                "name": name or f"Round {training_round.number}",
                "ratings_per_item": k,
                "gold_share": gold_share,
            },
        )
    else:
        if not name:
            raise ValueError("a batch without a round needs a name")
        batch, _ = RatingBatch.objects.get_or_create(
            name=name, training_round=None, defaults={"ratings_per_item": k, "gold_share": gold_share}
        )
    batch = RatingBatch.objects.select_for_update().get(pk=batch.pk)  # concurrent calls add items one at a time

    trusted_ids = set(trusted_gold_essays().values_list("pk", flat=True))
    existing = set(batch.items.values_list("rewrite_id", flat=True))
    wanted = [r for r in rewrites if r.pk not in existing]
    rng = random.Random(f"{batch.pk}:{len(existing)}")

    normal = batch.items.filter(is_gold=False).count() + sum(1 for r in wanted if r.essay_id not in trusted_ids)
    gold_now = batch.items.filter(is_gold=True).count() + sum(1 for r in wanted if r.essay_id in trusted_ids)
    missing_gold = max(0, gold_target(normal, batch.gold_share) - gold_now)
    if missing_gold:
        used_essays = set(batch.items.values_list("essay_id", flat=True)) | {r.essay_id for r in wanted}
        candidates = list(
            Rewrite.objects.filter(essay_id__in=trusted_ids)
            .exclude(essay_id__in=used_essays)
            .exclude(pk__in=existing)
            .order_by("pk")
        )
        rng.shuffle(candidates)
        one_per_essay = {}
        for rewrite in candidates:
            one_per_essay.setdefault(rewrite.essay_id, rewrite)
        wanted += list(one_per_essay.values())[:missing_gold]

    # Shuffled, so gold items do not sit together at the end of the queue.
    rng.shuffle(wanted)
    RatingItem.objects.bulk_create(
        [
            RatingItem(
                batch=batch,
                essay_id=r.essay_id,
                rewrite=r,
                is_gold=r.essay_id in trusted_ids,
                ratings_needed=batch.ratings_per_item,
            )
            for r in wanted
        ]
    )
    return BatchSummary(
        batch=batch,
        created=len(wanted),
        items=batch.items.count(),
        gold_items=batch.items.filter(is_gold=True).count(),
    )


def set_uncertainty(values: Mapping[int, float]) -> int:
    """Scorer hook: item id -> uncertainty (e.g. predictive std); higher is rated sooner. Fill gold items too,
    or they would sort last and stand out."""
    items = list(RatingItem.objects.filter(pk__in=values))
    for item in items:
        item.uncertainty = float(values[item.pk])
    return RatingItem.objects.bulk_update(items, ["uncertainty"])
