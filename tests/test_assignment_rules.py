"""Who gets which item: K per item, never the same item or essay twice in a round, expiry, priority, gold share."""

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone
from rating_helpers import make_items, make_raters, make_rewrites

from labeling.models import Assignment, RatingBatch, RatingItem, Rewrite
from labeling.rating.actions import RatingAnswer, submit_rating
from labeling.rating.assignment import available_items, claim_next
from labeling.rating.batches import create_rating_items, gold_target, set_uncertainty


@pytest.mark.django_db
def test_each_item_gets_k_raters_and_a_rater_never_gets_an_item_twice():
    make_items(3, k=2)
    raters = make_raters(3)
    answer = RatingAnswer(band_a=6, band_b=6, better="same")
    for rater in raters:
        while (assignment := claim_next(rater)) is not None:
            submit_rating(assignment.pk, answer)
    per_item = Counter(Assignment.objects.values_list("item_id", flat=True))
    assert sorted(per_item.values()) == [2, 2, 2]
    pairs = Assignment.objects.values_list("item_id", "rater_id")
    assert len(set(pairs)) == len(pairs)


@pytest.mark.django_db
def test_a_rater_holds_one_reservation_at_a_time():
    make_items(3)
    (rater,) = make_raters(1)
    first = claim_next(rater)
    assert claim_next(rater).pk == first.pk
    assert Assignment.objects.count() == 1


@pytest.mark.django_db
def test_rater_never_rates_an_essay_twice_within_one_round():
    training_round, rewrites = make_rewrites(1, round_number=3)
    # A second rewrite of the same essay in the same round's batch (e.g. a re-generation added later).
    batch = create_rating_items(training_round, rewrites, k=1, gold_share=0).batch
    other = Rewrite.objects.create(essay=rewrites[0].essay, text="Another rewrite of it.", chars_changed=30)
    RatingItem.objects.create(batch=batch, essay=rewrites[0].essay, rewrite=other, ratings_needed=1)
    (rater,) = make_raters(1)
    first = claim_next(rater)
    submit_rating(first.pk, RatingAnswer(band_a=5, band_b=5, better="same"))
    assert claim_next(rater) is None
    assert available_items(make_raters(1, prefix="fresh")[0]).count() == 1
    assert RatingBatch.objects.count() == 1


@pytest.mark.django_db
def test_abandoned_reservation_returns_to_the_pool_after_expiry():
    make_items(1, k=1)
    early, late = make_raters(2)
    now = timezone.now()
    claim_next(early, now=now)
    assert claim_next(late, now=now + timedelta(minutes=29)) is None
    taken = claim_next(late, now=now + timedelta(minutes=31))
    assert taken is not None and taken.rater == late


@pytest.mark.django_db
def test_newest_round_first_then_most_uncertain():
    old = make_items(2, round_number=1, tag="old")
    new = make_items(3, round_number=2, tag="new")
    items = list(new.items.order_by("pk"))
    set_uncertainty({items[0].pk: 0.1, items[1].pk: 0.9, items[2].pk: 0.5})
    (rater,) = make_raters(1)
    order = [i.pk for i in available_items(rater)]
    assert order[:3] == [items[1].pk, items[2].pk, items[0].pk]
    assert set(order[3:]) == set(old.items.values_list("pk", flat=True))


@pytest.mark.django_db
def test_gold_share_and_idempotent_batch_creation():
    # Banded val essays with rewrites from an earlier round are the gold candidates.
    make_rewrites(5, round_number=1, split="val", band="7.0", tag="gold")
    training_round, rewrites = make_rewrites(18, round_number=2, tag="pool")
    first = create_rating_items(training_round, rewrites, k=3, gold_share=0.1)
    assert gold_target(18, 0.1) == 2
    assert (first.items, first.gold_items, first.created) == (20, 2, 20)
    again = create_rating_items(training_round, rewrites, k=3, gold_share=0.1)
    assert (again.items, again.gold_items, again.created) == (20, 2, 0)
    assert set(first.batch.items.values_list("ratings_needed", flat=True)) == {3}
    gold = first.batch.items.filter(is_gold=True)
    assert all(item.essay.band is not None and item.essay.split == "val" for item in gold)


@pytest.mark.django_db
def test_test_split_essays_are_never_gold():
    make_rewrites(5, round_number=1, split="test", band="7.0", tag="bench")
    training_round, rewrites = make_rewrites(9, round_number=2, tag="pool")
    assert create_rating_items(training_round, rewrites, k=2, gold_share=0.1).gold_items == 0
