"""Raters see only their own work: another rater's assignment is 404, staff pages are 403, CSRF is enforced, and the
rating page is blind (no model score, reference band or which side is the rewrite)."""

import re

import pytest
from django.test import Client
from rating_helpers import PASSWORD, make_items, make_raters

from labeling.models import Assignment, Essay, Rating

FORM = {"band_a": "6.5", "band_b": "5", "better": "A", "comment": "", "active_seconds": "90", "then": "home"}
STAFF_PAGES = [
    "/staff/ratings/",
    "/staff/ratings/agreement/",
    "/staff/raters/",
    "/staff/raters/1/",
    "/staff/payouts/",
    "/staff/payouts/1.csv",
]


def logged_in(user) -> Client:
    client = Client()
    client.login(username=user.username, password=PASSWORD)
    return client


@pytest.mark.django_db
def test_rater_cannot_open_or_submit_another_raters_assignment():
    make_items(2)
    owner, intruder = make_raters(2)
    url = logged_in(owner).post("/rate/next/").url
    token = url.rstrip("/").split("/")[-1]
    other = logged_in(intruder)
    assert other.get(url).status_code == 404
    assert other.post(f"/rate/a/{token}/submit/", FORM).status_code == 404
    assert other.post(f"/rate/a/{token}/skip/", {"reason": "not_english"}).status_code == 404
    assert Rating.objects.count() == 0 and Assignment.objects.get(token=token).status == "reserved"


@pytest.mark.django_db
@pytest.mark.parametrize("path", STAFF_PAGES)
def test_rater_gets_403_on_staff_pages(path):
    (rater,) = make_raters(1)
    assert logged_in(rater).get(path).status_code == 403


@pytest.mark.django_db
def test_rater_cannot_review_or_close_payouts_over_http():
    (rater,) = make_raters(1)
    client = logged_in(rater)
    assert client.post("/staff/ratings/review/", {"action": "approve"}).status_code == 403
    assert client.post("/staff/payouts/").status_code == 403
    assert client.post("/staff/raters/", {"username": "sneaky"}).status_code == 403


@pytest.mark.django_db
def test_anonymous_is_sent_to_login_and_non_raters_get_403(client, make_user):
    assert client.get("/rate/").url.startswith("/accounts/login/")
    assert client.get("/staff/ratings/").url.startswith("/accounts/login/")
    make_user("visitor")
    client.login(username="visitor", password=PASSWORD)
    assert client.get("/rate/").status_code == 403
    assert client.post("/rate/next/").status_code == 403


@pytest.mark.django_db
def test_csrf_is_enforced_on_next_and_submit():
    make_items(1)
    (rater,) = make_raters(1)
    client = Client(enforce_csrf_checks=True)
    client.login(username=rater.username, password=PASSWORD)
    assert client.post("/rate/next/").status_code == 403
    home = client.get("/rate/")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', home.content).group(1).decode()
    url = client.post("/rate/next/", {"csrfmiddlewaretoken": token}).url
    assert url.startswith("/rate/a/")
    assert client.post(url + "submit/", FORM).status_code == 403
    assert Rating.objects.count() == 0
    assert client.post(url + "submit/", {**FORM, "csrfmiddlewaretoken": token}).status_code == 302
    assert Rating.objects.count() == 1


@pytest.mark.django_db
def test_rating_page_is_blind():
    batch = make_items(1, split="val", band="8.5")  # a gold-like essay with a reference band
    item = batch.items.get()
    (rater,) = make_raters(1)
    client = logged_in(rater)
    page = client.get(client.post("/rate/next/").url).content.decode()
    essay = Essay.objects.get(pk=item.essay_id)
    unmarked = re.sub(r"</?mark[^>]*>", "", page)  # the changes are marked inside both texts
    assert essay.text in unmarked and item.rewrite.text in unmarked and essay.question in page
    lowered = page.lower()
    assert "rewrite" not in lowered and "original" not in lowered and "gold" not in lowered
    assert "8.5" not in page  # reference band
    assert "5.5" not in page  # scorer band after
    assert f"/{item.pk}/" not in page and "essay_id" not in lowered


@pytest.mark.django_db
def test_staff_create_raters_and_there_is_no_sign_up(client, make_user):
    from django.core.management import call_command

    from labeling.roles import is_rater, role_of

    call_command("create_rater", "cli_rater", "--password", "long-enough-pw-1")
    assert client.login(username="cli_rater", password="long-enough-pw-1")
    assert client.get("/rate/").status_code == 200
    assert client.get("/accounts/signup/").status_code == 404
    boss = make_user("boss", staff=True)
    client.force_login(boss)
    response = client.post("/staff/raters/", {"username": "invited", "email": "i@example.org"}, follow=True)
    assert b"set-password-link" in response.content  # tests/test_rater_accounts.py follows the link
    from django.contrib.auth import get_user_model

    invited = get_user_model().objects.get(username="invited")
    assert is_rater(invited) and role_of(invited) == "rater" and role_of(boss) == "staff"
