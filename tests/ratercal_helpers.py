"""Builders for the rater-calibration tests: a small trained scorer and real essays rated and approved."""

from decimal import Decimal

from rating_helpers import make_raters, rate_assignment
from round_helpers import import_small_corpus

from labeling.models import Essay, Rating, Rewrite, Split, TrainingRound
from labeling.rating.actions import approve_ratings
from labeling.rating.assignment import claim_next
from labeling.rating.batches import create_rating_items
from labeling.training.scoring import load_scorer_version, train_scorer_version


def trained_scorer(tmp_path, pool: int):
    """A fast scorer (TF-IDF + ridge) trained on 40 published essays, promoted; `pool` essays left to rate."""
    import_small_corpus(tmp_path, train=40, test=4, pool=pool, pool_words=None)  # bands of whole essays
    version = train_scorer_version({"family": "tfidf_ridge"}, include_human=False)
    version.promote(note="test")
    return version


def half_band(value: float) -> Decimal:
    return Decimal(str(min(9.0, max(0.0, round(value * 2) / 2))))


def rate_pool_essays(version, n: int, rater_band, approve: bool = True, round_number: int = 1):
    """n pool essays (each with a light rewrite) rated by one rater with rater_band(scorer's raw band) and approved
    by a reviewer: 2 n texts with consensus bands. Returns the ratings."""
    scorer = load_scorer_version(version, calibrated=False)
    training_round, _ = TrainingRound.objects.get_or_create(number=round_number)
    essays = list(Essay.objects.filter(split=Split.POOL, rewrites__isnull=True).order_by("pk")[:n])
    assert len(essays) == n, f"only {len(essays)} pool essays left to rate"
    rewrites = [
        Rewrite.objects.create(
            essay=essay,
            text=essay.text + "\n\nIn conclusion, both views have merit.",
            training_round=training_round,
            chars_changed=38,
        )
        for essay in essays
    ]
    create_rating_items(training_round, rewrites, k=1, gold_share=0.0)
    rater = make_raters(1, prefix=f"rater-r{round_number}-")[0]
    ratings = []
    for _ in rewrites:
        assignment = claim_next(rater)
        essay, rewrite = assignment.item.essay, assignment.item.rewrite
        original, rewritten = (p.band for p in scorer.predict([essay.question] * 2, [essay.text, rewrite.text]))
        ratings.append(rate_assignment(assignment, half_band(rater_band(original)), half_band(rater_band(rewritten))))
    if approve:
        boss = make_raters(1, prefix=f"boss-r{round_number}-")[0]
        approve_ratings(Rating.objects.filter(pk__in=[r.pk for r in ratings]), boss)
    return ratings
