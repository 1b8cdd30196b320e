"""Rater accounts: a new rater gets a set-password link shown once in the response (no password in a page or in the
readable message cookie), and staff deactivate a rater: logged out, open pairs released, earned pay kept."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rating_helpers import PASSWORD, make_items, make_raters

from labeling.models import Assignment, Rating, StaffAction, StaffActionKind
from labeling.rating.actions import RatingAnswer, approve_ratings, submit_rating
from labeling.rating.assignment import claim_next
from labeling.rating.payments import close_period, earnings_of
from labeling.roles import is_rater


@pytest.fixture
def manager(make_user):
    client = Client()
    client.force_login(make_user("manager", staff=True, roles=("rater managers",)))
    return client


@pytest.mark.django_db
def test_a_new_rater_sets_their_password_through_a_link_shown_once(manager):
    response = manager.post("/staff/raters/", {"username": "newbie", "email": "n@example.org"})
    assert response.status_code == 200  # the page itself, not a redirect that a message cookie would follow
    page = response.content.decode()
    link = page.split('id="set-password-link" readonly value="')[1].split('"')[0]
    assert link.startswith("http://testserver/accounts/reset/")
    assert "messages" not in response.cookies and "password" not in str(response.cookies).lower()
    newbie = get_user_model().objects.get(username="newbie")
    assert is_rater(newbie) and not newbie.has_usable_password()
    assert "set-password-link" not in manager.get("/staff/raters/").content.decode()  # shown once

    rater = Client()
    form = rater.get(link, follow=True)  # Django swaps the token for a session-bound URL
    set_url = form.redirect_chain[-1][0]
    done = rater.post(set_url, {"new_password1": "a-long-new-pw-42", "new_password2": "a-long-new-pw-42"}, follow=True)
    assert "Password set" in done.content.decode()
    assert Client().login(username="newbie", password="a-long-new-pw-42")
    assert "no longer works" in Client().get(link, follow=True).content.decode()  # used once
    kinds = list(StaffAction.objects.filter(rater=newbie).values_list("kind", flat=True))
    assert sorted(kinds) == sorted([StaffActionKind.CREATE_RATER, StaffActionKind.PASSWORD_LINK])


@pytest.mark.django_db
def test_a_deactivated_rater_is_logged_out_their_pairs_go_to_others_and_their_pay_stays(manager, make_user):
    make_items(2, k=1)
    leaver, stayer = make_raters(2)
    session = Client()
    session.login(username=leaver.username, password=PASSWORD)
    rated = submit_rating(claim_next(leaver).pk, RatingAnswer(band_a=Decimal("6"), band_b=Decimal("7"), better="B"))
    open_assignment = claim_next(leaver)  # the second pair, reserved and not rated
    assert claim_next(stayer) is None  # k=1: nothing left for anyone else

    response = manager.post(f"/staff/raters/{leaver.pk}/", {"action": "deactivate"}, follow=True)
    assert "deactivated; 1 open assignments released" in response.content.decode()
    assert session.get("/rate/").status_code == 302  # logged out
    assert not Client().login(username=leaver.username, password=PASSWORD)
    assert Assignment.objects.get(pk=open_assignment.pk).is_expired
    assert claim_next(stayer).item_id == open_assignment.item_id

    assert earnings_of(leaver).total == Decimal("2.00")
    approve_ratings(Rating.objects.filter(pk=rated.rating.pk), make_raters(1, prefix="boss")[0])
    period = close_period()
    assert period.payouts.get(rater=leaver).amount == Decimal("2.00")

    action = StaffAction.objects.get(kind=StaffActionKind.DEACTIVATE)
    assert action.actor.username == "manager" and action.rater == leaver
    manager.post(f"/staff/raters/{leaver.pk}/", {"action": "reactivate"})
    assert Client().login(username=leaver.username, password=PASSWORD)


@pytest.mark.django_db
def test_a_rater_manager_cannot_take_over_a_staff_account(manager, make_user):
    admin = make_user("root", superuser=True)
    reviewer = make_user("reviewer", staff=True, roles=("reviewers",))
    for target in (admin, reviewer):
        response = manager.post(f"/staff/raters/{target.pk}/", {"action": "password_link"}, follow=True)
        assert "set-password-link" not in response.content.decode()
        assert "managed in the Django admin" in response.content.decode()
        manager.post(f"/staff/raters/{target.pk}/", {"action": "deactivate"})
        target.refresh_from_db()
        assert target.is_active
    assert not StaffAction.objects.exists()
