"""Human labels as training data: consensus bands per text and preference pairs.

Filled in by the rater workspace (approved ratings only); the exporters and the scorer/rewriter training read it.
The consensus band of a text is `consensus_band` over its approved ratings: the one definition the product uses (the
staff agreement page shows it too, beside a "provisional" band that also counts pending ratings).
Ratings of test-split essays are left out unless asked for: the test split is the benchmark and must stay unseen by
training (the evaluation of a round may include them to measure M with human bands).
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from labeling.models import Preference, Rating, ReviewStatus, Split


@dataclass(frozen=True)
class HumanBandLabel:
    """One approved rating of one text (an original essay or a rewrite)."""

    label_id: str  # stable id, e.g. "rating-12-a"
    question: str
    text: str
    band: Decimal
    rater: str
    rated_at: datetime
    round_number: int | None
    essay_id: int
    rewrite_id: int | None


@dataclass(frozen=True)
class PreferencePair:
    """chosen = the text with the higher consensus band; the original essay stands for "no change"."""

    prompt: str
    chosen: str
    rejected: str
    essay_id: int
    rewrite_id: int
    round_number: int | None


def consensus_band(values: Sequence[float], weights: Sequence[float] | None = None) -> float:
    """The consensus band of one text from its raters' bands: the mean; with weights (rater reliability), the
    weighted mean. Over approved ratings it is the product's consensus (consensus_human_labels)."""
    if weights is None:
        return sum(values) / len(values)
    return sum(v * w for v, w in zip(values, weights, strict=True)) / sum(weights)


def approved_ratings(round_number: int | None = None, include_test: bool = False):
    ratings = Rating.objects.filter(review_status=ReviewStatus.APPROVED).select_related(
        "rater", "item__essay__prompt", "item__rewrite", "item__batch__training_round"
    )
    if round_number is not None:
        ratings = ratings.filter(item__batch__training_round__number=round_number)
    if not include_test:
        ratings = ratings.exclude(item__essay__split=Split.TEST)
    return ratings.order_by("pk")


def _round_number(rating: Rating) -> int | None:
    training_round = rating.item.batch.training_round
    return training_round.number if training_round else None


def human_band_labels(round_number: int | None = None, include_test: bool = False) -> list[HumanBandLabel]:
    """Two labels per approved rating: the band of the original and the band of the rewrite."""
    labels = []
    for rating in approved_ratings(round_number, include_test):
        essay, rewrite = rating.item.essay, rating.item.rewrite
        for suffix, text, band, rewrite_id in (
            ("original", essay.text, rating.band_original, None),
            ("rewrite", rewrite.text, rating.band_rewrite, rewrite.pk),
        ):
            labels.append(
                HumanBandLabel(
                    label_id=f"rating-{rating.pk}-{suffix}",
                    question=essay.question,
                    text=text,
                    band=band,
                    rater=rating.rater.username,
                    rated_at=rating.submitted_at,
                    round_number=_round_number(rating),
                    essay_id=essay.pk,
                    rewrite_id=rewrite_id,
                )
            )
    return labels


def consensus_human_labels(round_number: int | None = None) -> dict[tuple[int, int | None], dict]:
    """Mean approved human band per text: (essay_id, rewrite_id or None) -> {question, text, band, n, rounds}."""
    grouped: dict[tuple[int, int | None], dict] = {}
    bands: dict[tuple[int, int | None], list[float]] = defaultdict(list)
    for label in human_band_labels(round_number):
        key = (label.essay_id, label.rewrite_id)
        entry = grouped.setdefault(key, {"question": label.question, "text": label.text, "rounds": set()})
        entry["rounds"].add(label.round_number)
        bands[key].append(float(label.band))
    for key, entry in grouped.items():
        entry["band"] = consensus_band(bands[key])
        entry["n"] = len(bands[key])
    return grouped


def preference_pairs(round_number: int | None = None, include_test: bool = False) -> list[PreferencePair]:
    """One pair per rated rewrite: the text with the higher mean approved band wins; on a tie, the majority of the
    raters' "which is better" answers; a full tie, or a rewrite identical to the original, gives no pair."""
    by_rewrite: dict[int, list[Rating]] = defaultdict(list)
    for rating in approved_ratings(round_number, include_test):
        by_rewrite[rating.item.rewrite_id].append(rating)
    pairs = []
    for ratings in by_rewrite.values():
        first = ratings[0]
        essay, rewrite = first.item.essay, first.item.rewrite
        if rewrite.text == essay.text:
            continue  # the guard kept the original: nothing to prefer
        margin = sum(r.band_rewrite - r.band_original for r in ratings)
        if margin == 0:
            margin = sum((r.preference == Preference.REWRITE) - (r.preference == Preference.ORIGINAL) for r in ratings)
        if margin == 0:
            continue
        chosen, rejected = (rewrite.text, essay.text) if margin > 0 else (essay.text, rewrite.text)
        rounds = [n for n in map(_round_number, ratings) if n is not None]
        pairs.append(
            PreferencePair(
                prompt=essay.question,
                chosen=chosen,
                rejected=rejected,
                essay_id=essay.pk,
                rewrite_id=rewrite.pk,
                round_number=max(rounds) if rounds else None,
            )
        )
    return pairs
