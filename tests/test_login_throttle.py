"""Accounts hold money: repeated failed logins lock out the account, and separately the address they come from,
with a clear message; staff unlock them (django-axes, settings AXES_*)."""

import pytest
from django.test import Client
from rating_helpers import PASSWORD, make_raters

from labeling.models import StaffAction, StaffActionKind

LOGIN = "/accounts/login/"


def attempt(client: Client, username: str, password: str, address: str = "203.0.113.7"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.mark.django_db
def test_ten_wrong_passwords_lock_the_account_until_staff_unlock_it(settings, make_user):
    (rater,) = make_raters(1)
    client = Client()
    statuses = [attempt(client, rater.username, f"wrong-{i}").status_code for i in range(10)]
    # The first failures are answered as usual (the form again); from the limit on, the lockout page.
    limit = settings.AXES_FAILURE_LIMIT
    assert statuses[: limit - 1] == [200] * (limit - 1) and set(statuses[limit:]) == {429}
    locked = attempt(client, rater.username, PASSWORD)
    assert locked.status_code == 429 and "_auth_user_id" not in client.session
    assert (
        "Too many failed logins" in locked.content.decode() and "Even the right password is" in locked.content.decode()
    )
    # Per account: another address does not help.
    assert attempt(Client(), rater.username, PASSWORD, address="198.51.100.9").status_code == 429

    manager = Client()
    manager.force_login(make_user("manager", staff=True, roles=("rater managers",)))
    page = manager.get("/staff/raters/").content.decode()
    assert f"account <strong>{rater.username}</strong>" in page
    assert manager.post("/staff/raters/unlock/", {"kind": "account", "value": rater.username}).status_code == 302
    response = attempt(client, rater.username, PASSWORD)
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(rater.pk)
    action = StaffAction.objects.get(kind=StaffActionKind.UNLOCK)
    assert action.actor.username == "manager" and action.rater == rater


@pytest.mark.django_db
def test_failures_spread_over_accounts_lock_the_address(settings):
    raters = make_raters(settings.AXES_FAILURE_LIMIT + 1)
    for rater in raters[:-1]:
        attempt(Client(), rater.username, "guessed-wrong", address="192.0.2.50")
    last = raters[-1]
    assert attempt(Client(), last.username, PASSWORD, address="192.0.2.50").status_code == 429
    assert attempt(Client(), last.username, PASSWORD, address="192.0.2.51").status_code == 302


def test_the_address_behind_a_proxy_is_the_one_the_proxy_saw(rf, settings):
    from aes_site.login_throttle import client_ip

    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.2"
    settings.TRUSTED_PROXY_COUNT = 1  # the client's own "6.6.6.6" is not believed
    assert client_ip(request) == "203.0.113.7"
