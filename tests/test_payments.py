"""Rater pay in Decimal: one earning per rating, reversal on rejection, payout periods and the payouts CSV."""

import csv
import io
from decimal import Decimal

import pytest
from rating_helpers import PASSWORD, make_items, make_raters, rate_all

from labeling.models import LedgerEntry, Payout, Rating
from labeling.rating.actions import approve_ratings, reject_rating
from labeling.rating.payments import close_period, earnings_of, pay_per_pair, payouts_csv


@pytest.mark.django_db
def test_a_pair_pays_two_essays_as_decimal(settings):
    assert pay_per_pair() == Decimal("2.00")
    settings.RATING_PAY_PER_ESSAY = "1.15"
    assert pay_per_pair() == Decimal("2.30")
    make_items(3)
    (rater,) = make_raters(1)
    rate_all(rater)
    amounts = list(LedgerEntry.objects.values_list("amount", flat=True))
    assert amounts == [Decimal("2.30")] * 3 and all(isinstance(a, Decimal) for a in amounts)
    assert earnings_of(rater).total == Decimal("6.90")  # 3 x 2.30 exactly, no float drift


@pytest.mark.django_db
def test_rejection_reverses_pay_once():
    make_items(2)
    (rater,) = make_raters(1)
    boss = make_raters(1, prefix="boss")[0]
    first, second = rate_all(rater)
    assert reject_rating(first.pk, boss) is True
    assert reject_rating(first.pk, boss) is False
    assert LedgerEntry.objects.filter(rating=first).count() == 2
    e = earnings_of(rater)
    assert e.total == Decimal("2.00") and e.pending_review == Decimal("2.00") and e.payable == Decimal("0.00")


@pytest.mark.django_db
def test_period_pays_reviewed_ratings_and_csv_lists_them():
    make_items(3)
    alice, bob = make_raters(2)
    boss = make_raters(1, prefix="boss")[0]
    a1, a2, a3 = rate_all(alice)
    (b1, b2, b3) = rate_all(bob)
    approve_ratings(Rating.objects.filter(pk__in=[a1.pk, a2.pk, b1.pk]), boss)
    reject_rating(a3.pk, boss)  # earning and reversal both settle: net 0
    period = close_period(user=boss)
    payouts = {p.rater.username: p for p in Payout.objects.filter(period=period)}
    assert payouts[alice.username].amount == Decimal("4.00") and payouts[alice.username].ratings == 2
    assert payouts[bob.username].amount == Decimal("2.00")
    # Bob's two pending ratings wait; nothing is paid twice by the next period.
    assert earnings_of(bob).pending_review == Decimal("4.00")
    approve_ratings(Rating.objects.filter(rater=bob), boss)
    later = close_period(user=boss)
    assert [(p.rater.username, p.amount) for p in later.payouts.all()] == [(bob.username, Decimal("4.00"))]
    assert earnings_of(alice).paid == Decimal("4.00") and earnings_of(bob).paid == Decimal("6.00")

    rows = list(csv.DictReader(io.StringIO(payouts_csv(period))))
    assert [(r["rater"], r["amount"], r["ratings"], r["currency"]) for r in rows] == [
        (alice.username, "4.00", "2", "USD"),
        (bob.username, "2.00", "1", "USD"),
    ]


@pytest.mark.django_db
def test_staff_download_payouts_csv_and_raters_cannot(client, make_user):
    make_items(1)
    (rater,) = make_raters(1)
    rate_all(rater)
    staff = make_user("boss", staff=True)
    approve_ratings(Rating.objects.all(), staff)
    period = close_period(user=staff)
    client.login(username=rater.username, password=PASSWORD)
    assert client.get(f"/staff/payouts/{period.pk}.csv").status_code == 403
    client.login(username="boss", password=PASSWORD)
    response = client.get(f"/staff/payouts/{period.pk}.csv")
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    assert f"{rater.username},{rater.email},1,2.00,0.00,2.00,0.00,USD" in response.content.decode()
