"""A refused request gets a styled 403 page with a way back, and the server log gets one line for it, no traceback;
other errors keep their tracebacks."""

import logging
import sys

import pytest
from django.test import Client
from rating_helpers import PASSWORD, make_raters

from aes_site.log_filters import PlainForbidden


@pytest.mark.django_db
def test_a_rater_on_a_staff_page_gets_a_styled_page_with_a_way_back_and_one_log_line(caplog, make_user):
    (rater,) = make_raters(1)
    client = Client()
    client.login(username=rater.username, password=PASSWORD)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get("/staff/payouts/")
    assert response.status_code == 403
    page = response.content.decode()
    assert 'id="forbidden"' in page and "This page is not for your account" in page
    assert 'id="way-back" href="/rate/"' in page and "/staff/payouts/" in page
    assert '<header class="top">' in page  # the site's own frame, navigation included
    records = [r for r in caplog.records if r.name == "django.request"]
    assert [r.getMessage() for r in records] == ["Forbidden (Permission denied): /staff/payouts/"]
    assert records[0].exc_info is None
    handler = logging.StreamHandler()
    assert "Traceback" not in handler.format(records[0])

    make_user("visitor")  # neither rater nor staff: the way back is to log out
    client.login(username="visitor", password=PASSWORD)
    page = client.get("/rate/").content.decode()
    assert 'id="way-back">Log out and sign in with another account' in page


def test_other_exceptions_keep_their_traceback():
    try:
        raise ValueError("a real bug")
    except ValueError:
        record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "boom", None, sys.exc_info())
    assert PlainForbidden().filter(record) is True
    assert "Traceback" in logging.Formatter().format(record)
