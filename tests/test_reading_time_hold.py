"""A rating submitted faster than its pair's minimum reading time (a base time plus a time per change) is held: it
earns nothing until a reviewer approves it, "Approve all" leaves it out, approving it pays it once, and the staff
and rater pages say so. The rater's rejected ratings read plainly."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from rating_helpers import PASSWORD, make_items, make_raters

from labeling.models import LedgerEntry, Rating
from labeling.rating.actions import RatingAnswer, approve_ratings, min_reading_seconds, reject_rating, submit_rating
from labeling.rating.assignment import claim_next
from labeling.rating.payments import earnings_of


@pytest.fixture
def minimum(settings):
    settings.RATING_MIN_READ_SECONDS = 20
    settings.RATING_MIN_READ_SECONDS_PER_CHANGE = 4


def rate(rater, active_seconds: int) -> Rating:
    assignment = claim_next(rater)
    answer = RatingAnswer(band_a=Decimal("6"), band_b=Decimal("6.5"), better="B", active_seconds=active_seconds)
    return submit_rating(assignment.pk, answer, now=assignment.reserved_at + timedelta(minutes=5)).rating


def client_of(user) -> Client:
    client = Client()
    client.login(username=user.username, password=PASSWORD)
    return client


@pytest.mark.django_db
def test_too_fast_is_held_and_paid_once_only_after_approval(minimum, make_user):
    make_items(3)  # each pair has three changes: minimum 20 + 3 x 4 = 32 s
    (rater,) = make_raters(1)
    assert min_reading_seconds(3) == 32
    fast, slow, other_fast = rate(rater, 31), rate(rater, 32), rate(rater, 2)
    assert (fast.held, fast.min_seconds, slow.held, other_fast.held) == (True, 32, False, True)
    assert not fast.ledger_entries.exists() and slow.ledger_entries.get().amount == Decimal("2.00")
    assert earnings_of(rater).total == Decimal("2.00")

    boss = make_user("boss", staff=True)
    page = client_of(boss).get("/staff/ratings/agreement/").content.decode()
    assert "not paid until a reviewer approves it" in page and page.count("Approve &amp; pay") == 2
    response = client_of(boss).post("/staff/ratings/review/", {"action": "approve"}, follow=True)
    assert "Approved 1 rating. Left pending: 2 held for review." in response.content.decode()
    assert Rating.objects.filter(held=True, review_status="pending").count() == 2

    assert approve_ratings(Rating.objects.filter(pk=fast.pk), boss) == 1
    assert approve_ratings(Rating.objects.filter(pk=fast.pk), boss) == 0  # a second approval pays nothing more
    assert client_of(boss).post(f"/staff/ratings/{fast.pk}/review/", {"action": "approve"}).status_code == 302
    assert fast.ledger_entries.get().amount == Decimal("2.00")
    assert earnings_of(rater).total == Decimal("4.00")
    assert reject_rating(other_fast.pk, boss) is True  # held and rejected: never paid, nothing to reverse
    assert not other_fast.ledger_entries.exists()
    assert LedgerEntry.objects.count() == 2


@pytest.mark.django_db
def test_rater_pages_say_what_a_pair_pays_and_why_a_rating_is_held(minimum, make_user):
    make_items(3)
    (rater,) = make_raters(1)
    client = client_of(rater)
    url = client.post("/rate/next/").url
    page = client.get(url).content.decode()
    assert 'This pair pays <b id="pair-pay">USD 2.00</b>' in page and ">32 s</b>" in page
    form = {"band_a": "6", "band_b": "7", "better": "B", "active_seconds": "5", "then": "home"}
    response = client.post(url + "submit/", form, follow=True)
    text = response.content.decode()
    assert "held for review" in text and "minimum reading time of" in text
    assert "1 rating held for review" in text and "held for review: paid once approved" in text


@pytest.mark.django_db
def test_a_rejected_rating_reads_plainly_on_the_raters_home(make_user):
    make_items(2)
    (rater,) = make_raters(1)
    first, _ = rate(rater, 100), rate(rater, 100)
    reject_rating(first.pk, make_user("boss", staff=True))
    page = client_of(rater).get("/rate/").content.decode()
    assert "0.00 (2.00 reversed: rejected)" in page and "2.00 (pending review)" in page
    assert "-2.00" not in page
