"""Approved ratings become training labels (band per text, preference pairs); pending and rejected ones do not."""

from decimal import Decimal

import pytest
from rating_helpers import make_items, make_raters

from labeling.corpus import labels
from labeling.models import Rating
from labeling.rating.actions import RatingAnswer, approve_ratings, reject_rating, submit_rating
from labeling.rating.assignment import claim_next


def rate(rater, original: str, rewrite: str, better: str = "same"):
    """Rate the next pair, giving bands by original/rewrite whatever side the rewrite is on."""
    assignment = claim_next(rater)
    rewrite_a = assignment.rewrite_side == "A"
    band_a, band_b = (rewrite, original) if rewrite_a else (original, rewrite)
    side = {"rewrite": "A" if rewrite_a else "B", "original": "B" if rewrite_a else "A", "same": "same"}[better]
    return submit_rating(
        assignment.pk, RatingAnswer(band_a=Decimal(band_a), band_b=Decimal(band_b), better=side)
    ).rating


@pytest.mark.django_db
def test_only_approved_ratings_are_labels():
    batch = make_items(1, k=3, round_number=4)
    item = batch.items.get()
    ok, bad, waiting = make_raters(3)
    boss = make_raters(1, prefix="boss")[0]
    good = rate(ok, "6.0", "6.5")
    rejected = rate(bad, "1.0", "9.0")
    rate(waiting, "5.0", "5.0")
    approve_ratings(Rating.objects.filter(pk__in=[good.pk, rejected.pk]), boss)
    reject_rating(rejected.pk, boss)

    found = labels.human_band_labels()
    assert {(x.label_id, x.band, x.rewrite_id) for x in found} == {
        (f"rating-{good.pk}-original", Decimal("6.0"), None),
        (f"rating-{good.pk}-rewrite", Decimal("6.5"), item.rewrite_id),
    }
    label = found[0]
    assert label.rater == ok.username and label.round_number == 4 and label.essay_id == item.essay_id
    assert label.question == item.essay.question and label.text in (item.essay.text, item.rewrite.text)
    assert labels.human_band_labels(round_number=4) == found
    assert labels.human_band_labels(round_number=3) == []

    (pair,) = labels.preference_pairs()
    assert (pair.chosen, pair.rejected) == (item.rewrite.text, item.essay.text)
    assert (pair.essay_id, pair.rewrite_id, pair.round_number) == (item.essay_id, item.rewrite_id, 4)


@pytest.mark.django_db
def test_preference_follows_consensus_band_then_votes():
    make_items(2, k=2)
    first, second = make_raters(2)
    boss = make_raters(1, prefix="boss")[0]
    # Item 1: consensus original 6.25 > rewrite 6.0 -> the original wins ("no change" is the better answer).
    # Item 2: equal bands; both raters say the rewrite is better -> the rewrite wins.
    rate(first, "6.5", "6.0")
    rate(first, "7.0", "7.0", better="rewrite")
    rate(second, "6.0", "6.0")
    rate(second, "7.0", "7.0", better="rewrite")
    approve_ratings(Rating.objects.all(), boss)
    pairs = {p.rewrite_id: p for p in labels.preference_pairs()}
    items = {r.item.rewrite_id: r.item for r in Rating.objects.select_related("item__essay", "item__rewrite")}
    winners = {rid: ("original" if p.chosen == items[rid].essay.text else "rewrite") for rid, p in pairs.items()}
    assert sorted(winners.values()) == ["original", "rewrite"]


@pytest.mark.django_db
def test_test_split_ratings_stay_out_of_training_labels():
    make_items(1, k=1, split="test", tag="bench")
    (rater,) = make_raters(1)
    rate(rater, "5.0", "6.0")
    approve_ratings(Rating.objects.all(), make_raters(1, prefix="boss")[0])  # nobody approves their own
    assert labels.human_band_labels() == [] and labels.preference_pairs() == []
    assert len(labels.human_band_labels(include_test=True)) == 2
    assert len(labels.preference_pairs(include_test=True)) == 1
