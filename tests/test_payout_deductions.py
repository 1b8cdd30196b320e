"""Payout periods say what they pay: none is created with nothing to pay, a rejection after a payout is a deduction
carried over (never a silent negative payout), and the payouts CSV cannot be read as formulas by a spreadsheet."""

import csv
import io
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from rating_helpers import make_items, make_raters, rate_all

from labeling.models import LedgerEntry, PayoutPeriod, Rating
from labeling.rating.actions import approve_ratings, reject_rating
from labeling.rating.payments import close_period, earnings_of, payouts_csv
from labeling.roles import make_rater


def csv_rows(period) -> dict[str, dict]:
    return {row["rater"]: row for row in csv.DictReader(io.StringIO(payouts_csv(period)))}


@pytest.mark.django_db
def test_closing_with_nothing_payable_creates_no_period(make_user, client):
    make_items(1)
    (rater,) = make_raters(1)
    rate_all(rater)  # pending review: not payable yet
    clerk = make_user("clerk", staff=True, roles=("payouts",))
    assert close_period(user=clerk) is None
    client.force_login(clerk)
    response = client.post("/staff/payouts/", follow=True)
    assert "Nothing to pay: no period was closed." in response.content.decode()
    assert not PayoutPeriod.objects.exists()


@pytest.mark.django_db
def test_a_rejection_after_a_payout_is_a_deduction_carried_over_never_a_negative_payout(make_user, client):
    make_items(2)
    alice, bob = make_raters(2)
    boss = make_raters(1, prefix="boss")[0]
    alice_first, alice_second = rate_all(alice)
    (bob_first, bob_second) = rate_all(bob)
    approve_ratings(Rating.objects.filter(pk__in=[bob_first.pk, alice_first.pk]), boss)
    first = close_period(user=boss)
    assert csv_rows(first)[bob.username]["amount"] == "2.00"

    # Bob's paid rating turns out to be bad; alice earns more in the meantime.
    reject_rating(bob_first.pk, boss)
    approve_ratings(Rating.objects.filter(pk=alice_second.pk), boss)
    second = close_period(user=boss)
    bob_row = csv_rows(second)[bob.username]
    assert (
        bob_row["ratings"],
        bob_row["earned"],
        bob_row["deductions"],
        bob_row["amount"],
        bob_row["carried_over"],
    ) == (
        "0",
        "0.00",
        "-2.00",
        "0.00",
        "-2.00",
    )
    assert csv_rows(second)[alice.username]["amount"] == "2.00"
    assert all(Decimal(row["amount"]) >= 0 for row in csv_rows(second).values())
    assert earnings_of(bob).payable == Decimal("-2.00")  # the reversal waits, unpaid, for the next period
    client.force_login(make_user("clerk", staff=True, roles=("payouts",)))
    assert "-2.00 carried over" in client.get("/staff/payouts/").content.decode()
    client.force_login(bob)
    assert "a deduction of -2.00 (a rating rejected after it was paid)" in client.get("/rate/").content.decode()

    # Bob's next approved rating pays what is left after the deduction.
    approve_ratings(Rating.objects.filter(pk=bob_second.pk), boss)
    third = close_period(user=boss)
    bob_row = csv_rows(third)[bob.username]
    assert (bob_row["earned"], bob_row["deductions"], bob_row["amount"], bob_row["carried_over"]) == (
        "2.00",
        "-2.00",
        "0.00",
        "0.00",
    )
    assert not LedgerEntry.objects.filter(rater=bob, payout__isnull=True).exists()
    # Over the three periods bob was paid exactly his net earnings: 2 earned, 2 reversed, 2 earned.
    paid = sum(Decimal(csv_rows(p).get(bob.username, {"amount": "0"})["amount"]) for p in (first, second, third))
    assert paid == earnings_of(bob).total == Decimal("2.00")


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["=HYPERLINK(evil)", "+31612345678", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"])
def test_the_payouts_csv_is_never_read_as_a_formula(name):
    make_items(1)
    rater = get_user_model().objects.create_user(name, f"{name.strip()}@example.org", "pw-for-tests-1")
    make_rater(rater)
    boss = make_raters(1, prefix="boss")[0]
    rate_all(rater)
    approve_ratings(Rating.objects.all(), boss)
    period = close_period(user=boss)
    (row,) = csv.DictReader(io.StringIO(payouts_csv(period)))
    assert row["rater"] == "'" + name
    assert row["email"].startswith("'") or not row["email"].startswith(("=", "+", "-", "@", "\t", "\r"))
    assert row["amount"] == "2.00"  # numbers stay numbers
