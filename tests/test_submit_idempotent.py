"""A double click, a retry or a back-button resubmit stores one rating and pays once."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone
from rating_helpers import PASSWORD, make_items, make_raters

from labeling.models import Assignment, LedgerEntry, Rating
from labeling.rating.actions import RatingAnswer, RatingRefused, submit_rating
from labeling.rating.assignment import claim_next

ANSWER = RatingAnswer(band_a=Decimal("6.5"), band_b=Decimal("5.0"), better="A", active_seconds=0)
FORM = {"band_a": "6.5", "band_b": "5", "better": "A", "comment": "", "active_seconds": "90", "then": "home"}


@pytest.mark.django_db
def test_second_submit_of_an_assignment_stores_and_pays_nothing_new():
    make_items(1)
    (rater,) = make_raters(1)
    assignment = claim_next(rater)
    first = submit_rating(assignment.pk, ANSWER)
    second = submit_rating(assignment.pk, RatingAnswer(band_a=Decimal("2"), band_b=Decimal("2"), better="same"))
    assert first.created and not second.created
    assert second.rating.pk == first.rating.pk
    assert Rating.objects.count() == 1 and LedgerEntry.objects.count() == 1
    assert Rating.objects.get().band_original + Rating.objects.get().band_rewrite == Decimal("11.5")


@pytest.mark.django_db
def test_bands_are_stored_by_original_and_rewrite_not_by_side():
    make_items(2)
    (rater,) = make_raters(1)
    for _ in range(2):
        assignment = claim_next(rater)
        rating = submit_rating(assignment.pk, ANSWER).rating
        a_is_rewrite = assignment.rewrite_side == "A"
        assert rating.band_rewrite == (Decimal("6.5") if a_is_rewrite else Decimal("5.0"))
        assert rating.preference == ("rewrite" if a_is_rewrite else "original")


@pytest.mark.django_db
def test_http_resubmit_and_back_button(client):
    make_items(1)
    (rater,) = make_raters(1)
    client.login(username=rater.username, password=PASSWORD)
    url = client.post("/rate/next/").url
    token = url.rstrip("/").split("/")[-1]
    assert client.post(f"/rate/a/{token}/submit/", FORM).status_code == 302
    resubmit = client.post(f"/rate/a/{token}/submit/", FORM, follow=True)
    assert b"nothing was stored twice" in resubmit.content
    back = client.get(url, follow=True)  # the back button lands on the finished pair
    assert back.redirect_chain[-1][0] == "/rate/"
    assert Rating.objects.count() == 1
    assert LedgerEntry.objects.get().amount == Decimal("2.00")
    assert Assignment.objects.get().status == "submitted"


@pytest.mark.django_db
def test_invalid_form_stores_nothing(client):
    make_items(1)
    (rater,) = make_raters(1)
    client.login(username=rater.username, password=PASSWORD)
    token = client.post("/rate/next/").url.rstrip("/").split("/")[-1]
    for bad in ({**FORM, "band_a": "6.3"}, {**FORM, "band_b": "9.5"}, {**FORM, "better": ""}, {**FORM, "band_a": ""}):
        assert client.post(f"/rate/a/{token}/submit/", bad).status_code == 400
    assert Rating.objects.count() == 0 and LedgerEntry.objects.count() == 0


@pytest.mark.django_db
def test_late_submit_is_refused_only_when_the_slot_went_to_someone_else():
    make_items(1, k=1)
    early, late = make_raters(2)
    start = timezone.now()
    stale = claim_next(early, now=start)
    after_expiry = start + timedelta(hours=2)
    # Nobody took the slot: the late answer is still welcome.
    assert submit_rating(stale.pk, ANSWER, now=after_expiry).created

    make_items(1, k=1, round_number=2, tag="r2")
    stale = claim_next(early, now=start)
    taken = claim_next(late, now=after_expiry)
    assert taken.item_id == stale.item_id  # the expired reservation went back to the pool
    submit_rating(taken.pk, ANSWER, now=after_expiry)
    with pytest.raises(RatingRefused):
        submit_rating(stale.pk, ANSWER, now=after_expiry)
    assert Rating.objects.filter(item_id=stale.item_id).count() == 1


@pytest.mark.django_db(transaction=True)
def test_simultaneous_double_submit_from_two_connections():
    make_items(1)
    (rater,) = make_raters(1)
    assignment = claim_next(rater)
    barrier = threading.Barrier(4)
    outcomes, errors = [], []

    def press_submit():
        try:
            barrier.wait()
            outcomes.append(submit_rating(assignment.pk, ANSWER).created)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=press_submit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(outcomes) == [False, False, False, True]
    assert Rating.objects.count() == 1 and LedgerEntry.objects.count() == 1
