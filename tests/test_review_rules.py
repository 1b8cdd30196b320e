"""Reviewing takes two people and a look: nobody approves or rejects their own ratings, "Approve all pending" leaves
out the ratings held for review (rated faster than the minimum reading time: approved one by one), and every
approval, rejection and payout records who did it."""

from decimal import Decimal

import pytest
from rating_helpers import make_items, make_raters, rate_all

from labeling.models import Rating, ReviewStatus, StaffAction, StaffActionKind
from labeling.rating.actions import RatingRefused, approve_ratings, reject_rating
from labeling.rating.payments import close_period
from labeling.roles import grant_roles, make_rater


@pytest.fixture
def reviewer_who_rates(make_user):
    """A staff reviewer who is also a rater (the same person may do both)."""
    user = make_user("boss", staff=True, roles=("reviewers",))
    make_rater(user)
    return user


@pytest.mark.django_db
def test_nobody_approves_or_rejects_their_own_ratings(reviewer_who_rates, client):
    make_items(4, k=2)
    (other,) = make_raters(1)
    own = rate_all(reviewer_who_rates)
    theirs = rate_all(other)
    assert approve_ratings(Rating.objects.all(), reviewer_who_rates) == len(theirs)
    assert {r.review_status for r in Rating.objects.filter(rater=reviewer_who_rates)} == {ReviewStatus.PENDING}
    with pytest.raises(RatingRefused, match="your own"):
        reject_rating(own[0].pk, reviewer_who_rates)

    client.force_login(reviewer_who_rates)
    response = client.post(f"/staff/ratings/{own[0].pk}/review/", {"action": "approve"}, follow=True)
    assert "cannot review your own" in response.content.decode()
    response = client.post("/staff/ratings/review/", {"action": "reject", "rater": reviewer_who_rates.pk}, follow=True)
    assert "cannot review your own" in response.content.decode()
    assert not Rating.objects.filter(rater=reviewer_who_rates).exclude(review_status=ReviewStatus.PENDING).exists()
    # Another reviewer can.
    colleague = make_raters(1, prefix="colleague")[0]
    grant_roles(colleague, "reviewers")
    assert reject_rating(own[0].pk, colleague) is True


@pytest.mark.django_db
def test_approve_all_leaves_ratings_rated_too_fast_for_a_look_of_their_own(make_user, client, settings):
    settings.RATING_MIN_READ_SECONDS = 60
    make_items(4, k=1)
    careful, hasty = make_raters(2)
    rate_all(careful, seconds=300)  # every item of the first batch
    make_items(3, k=1, tag="fast")
    rushed = rate_all(hasty, seconds=20)
    boss = make_user("boss", staff=True, roles=("reviewers",))
    client.force_login(boss)

    page = client.get("/staff/ratings/agreement/").content.decode()
    held_note = "3 held for review (rated faster than the minimum reading time) are left out"
    assert f"Approve 4 pending ratings? {held_note}" in page
    response = client.post("/staff/ratings/review/", {"action": "approve"}, follow=True)
    assert "Approved 4 ratings. Left pending: 3 held for review." in response.content.decode()
    assert {r.pk for r in Rating.objects.filter(review_status=ReviewStatus.PENDING)} == {r.pk for r in rushed}

    # One by one, after a look, on the rater's page (which flags them).
    page = client.get(f"/staff/raters/{hasty.pk}/").content.decode()
    assert page.count("held: not paid until approved") == 3
    assert f"Approve rating {rushed[0].pk}, rated in 20 s (under its minimum of 60 s), and pay it?" in page
    client.post(f"/staff/ratings/{rushed[0].pk}/review/", {"action": "approve"})
    assert Rating.objects.get(pk=rushed[0].pk).review_status == ReviewStatus.APPROVED


@pytest.mark.django_db
def test_every_money_action_records_who_did_it(make_user):
    make_items(2, k=1)
    (rater,) = make_raters(1)
    first, second = rate_all(rater)
    reviewer = make_user("reviewer", staff=True, roles=("reviewers",))
    clerk = make_user("clerk", staff=True, roles=("payouts",))
    approve_ratings(Rating.objects.filter(pk=first.pk), reviewer)
    reject_rating(second.pk, reviewer)
    period = close_period(user=clerk)
    actions = {(a.kind, a.actor.username, a.rating_id, a.amount) for a in StaffAction.objects.all()}
    assert actions == {
        (StaffActionKind.APPROVE, "reviewer", first.pk, None),
        (StaffActionKind.REJECT, "reviewer", second.pk, Decimal("-2.00")),
        (StaffActionKind.CLOSE_PERIOD, "clerk", None, Decimal("2.00")),
    }
    assert StaffAction.objects.get(kind=StaffActionKind.CLOSE_PERIOD).period == period
