"""In a real Chromium: "Approve all pending" asks first, with the counts (ratings held for review, rated faster
than the minimum reading time, are left out), and rejecting a rating asks first; answering no changes nothing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rating_helpers import make_items, make_raters

from labeling.models import Rating, ReviewStatus
from labeling.rating.actions import RatingAnswer, submit_rating
from labeling.rating.assignment import claim_next

pytestmark = pytest.mark.browser


def rate(rater, seconds: int) -> None:
    assignment = claim_next(rater, now=timezone.now() - timedelta(seconds=seconds))
    submit_rating(assignment.pk, RatingAnswer(Decimal("6"), Decimal("6.5"), "B", active_seconds=seconds))


class Dialogs:
    """Answers the page's confirm() dialogs as told, and keeps their messages."""

    def __init__(self, page):
        self.messages: list[str] = []
        self.accept = False
        page.on("dialog", self.answer)

    def answer(self, dialog):
        self.messages.append(dialog.message)
        dialog.accept() if self.accept else dialog.dismiss()


def test_approve_all_and_reject_ask_first(page, login, live_server, make_user, transactional_db, settings):
    settings.RATING_MIN_READ_SECONDS = 60
    make_items(3, k=1)
    careful, hasty = make_raters(2)
    rate(careful, 200)
    rate(careful, 200)
    rate(hasty, 15)
    make_user("boss", staff=True, roles=("reviewers",))
    login("boss")
    dialogs = Dialogs(page)

    page.goto(f"{live_server.url}/staff/ratings/agreement/")
    page.click("#approve-all")  # answered "no"
    assert dialogs.messages[-1].startswith("Approve 2 pending ratings? 1 held for review")
    assert not Rating.objects.exclude(review_status=ReviewStatus.PENDING).exists()

    dialogs.accept = True
    page.click("#approve-all")
    page.wait_for_selector(".messages")
    assert "Approved 2 ratings. Left pending: 1 held for review." in page.inner_text(".messages")

    rushed = Rating.objects.get(rater=hasty)
    dialogs.accept = False
    page.goto(f"{live_server.url}/staff/raters/{hasty.pk}/")
    page.click("button[value=reject]")
    assert dialogs.messages[-1] == f"Reject rating {rushed.pk}?"  # held: nothing was paid to reverse
    assert Rating.objects.get(pk=rushed.pk).review_status == ReviewStatus.PENDING
