"""Many raters pressing "Next" and "Submit" at once on PostgreSQL: no item over K, no lost or doubled rating.

Each thread is a separate client with its own database connection, so the row locks really compete. SQLite serialises
every writer (IMMEDIATE transactions), so it cannot show these races: the tests skip there.
"""

from collections import Counter
from decimal import Decimal

from race_helpers import run_clients
from rating_helpers import make_items, make_raters

from labeling.models import Assignment, LedgerEntry, Rating, RatingItem
from labeling.rating.actions import RatingAnswer, submit_rating
from labeling.rating.assignment import claim_next, items_over_k


def test_simultaneous_next_never_reserves_an_item_more_than_k_times(postgres):
    make_items(5, k=2)
    raters = make_raters(24)
    got = []
    errors = run_clients(raters, lambda rater: got.append(claim_next(rater)))
    assert not errors
    reserved = [a for a in got if a is not None]
    assert max(Counter(a.item_id for a in reserved).values()) <= 2
    # Nobody is told "nothing left" while an item still has a free slot.
    assert len(reserved) == 10 and got.count(None) == 14


def test_raters_racing_through_a_batch_rate_every_item_exactly_k_times(postgres):
    batch = make_items(12, k=3)
    raters = make_raters(20)
    answer = RatingAnswer(band_a=Decimal("6.0"), band_b=Decimal("6.5"), better="B", active_seconds=0)

    def rate_until_done(rater):
        while (assignment := claim_next(rater)) is not None:
            submit_rating(assignment.pk, answer)
            submit_rating(assignment.pk, answer)  # an impatient double click

    errors = run_clients(raters, rate_until_done)
    assert not errors
    assert items_over_k() == 0
    assert sorted(batch.items.values_list("ratings_done", flat=True)) == [3] * 12
    assert Rating.objects.count() == 36
    assert Assignment.objects.filter(status="submitted").count() == 36
    assert LedgerEntry.objects.count() == 36
    assert sum(e.amount for e in LedgerEntry.objects.all()) == Decimal("72.00")
    seen = Rating.objects.values_list("rater_id", "item__essay_id")
    assert len(set(seen)) == len(seen)  # nobody rated an essay twice
    assert all(r.ratings_done == Rating.objects.filter(item=r).count() for r in RatingItem.objects.all())
