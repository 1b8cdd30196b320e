"""Per-change verdicts are stored with the rating in terms of original/rewrite (whichever side the rater saw the
rewrite on), only for changes the pair has, and a retried submit stores them once."""

from decimal import Decimal

import pytest
from django.test import Client
from rating_helpers import PASSWORD, make_items, make_raters

from labeling.models import Assignment, EditVerdict
from labeling.rating.actions import RatingAnswer, submit_rating
from labeling.rating.assignment import claim_next

# make_items' pair: "Cars is a big problem in many city and people must to think." against
# "Cars are a big problem in many cities and people must think.": three changes in one passage.
CHANGES = [("is", "are"), ("city", "cities"), ("must to", "must")]


def answer(verdicts: dict) -> RatingAnswer:
    return RatingAnswer(band_a=Decimal("6"), band_b=Decimal("6.5"), better="B", edit_verdicts=verdicts)


@pytest.mark.django_db
@pytest.mark.parametrize("rewrite_side", ["A", "B"])
def test_verdicts_are_stored_as_original_or_rewrite(rewrite_side):
    make_items(2)
    (rater,) = make_raters(1)
    ratings = []
    # Change 1: A better; change 2: no verdict; change 3: about the same; 7 is not a change of this pair and "x"
    # is not a verdict: both are ignored. The first pair gets no verdict at all: they are optional.
    for verdicts in ({}, {0: "A", 2: "same", 7: "B", 1: "x"}):
        assignment = claim_next(rater)
        Assignment.objects.filter(pk=assignment.pk).update(rewrite_side=rewrite_side)
        ratings.append(submit_rating(assignment.pk, answer(verdicts)).rating)
    assert ratings[0].edit_verdicts.count() == 0
    stored = list(ratings[1].edit_verdicts.values_list("position", "before", "after", "verdict"))
    a_is = "rewrite" if rewrite_side == "A" else "original"
    assert stored == [(0, "is", "are", a_is), (2, "must to", "must", "same")]
    verdict = ratings[1].edit_verdicts.get(position=0)
    essay = ratings[1].item.essay.text
    assert essay[verdict.original_start : verdict.original_end] == "is"
    assert verdict.sentence_before.endswith("must to think.") and verdict.sentence_after.endswith("must think.")
    assert essay[verdict.passage_start :].startswith(verdict.sentence_before)
    assert verdict.gold_expected == ""


@pytest.mark.django_db
def test_a_retried_submit_stores_the_verdicts_once_over_http():
    make_items(1)
    (rater,) = make_raters(1)
    client = Client()
    client.login(username=rater.username, password=PASSWORD)
    url = client.post("/rate/next/").url
    page = client.get(url).content.decode()
    assert page.count('name="edit_') == len(CHANGES)
    form = {"band_a": "6", "band_b": "6.5", "better": "A", "edit_0": "B", "edit_1": "", "edit_2": "A", "then": "home"}
    assert client.post(url + "submit/", form).status_code == 302
    assert client.post(url + "submit/", form).status_code == 302  # double click
    side = Assignment.objects.get().rewrite_side
    b_is, a_is = ("original", "rewrite") if side == "A" else ("rewrite", "original")
    assert list(EditVerdict.objects.values_list("position", "verdict")) == [(0, b_is), (2, a_is)]
    assert client.post(url + "submit/", {**form, "edit_0": "maybe"}).status_code == 302  # already saved: no 400


@pytest.mark.django_db
def test_the_admin_lists_verdicts_read_only(admin_client):
    make_items(1)
    (rater,) = make_raters(1)
    assignment = claim_next(rater)
    submit_rating(assignment.pk, answer({0: "same"}))
    page = admin_client.get("/admin/labeling/editverdict/?verdict=same")
    assert page.status_code == 200 and page.context["cl"].result_count == 1
    verdict = EditVerdict.objects.get()
    detail = admin_client.get(f"/admin/labeling/editverdict/{verdict.pk}/change/")
    assert detail.status_code == 200 and b'name="verdict"' not in detail.content  # shown, not editable
