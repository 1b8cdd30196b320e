"""In a real Chromium: a rater rates a pair with the keyboard only and sees the earnings; the draft survives a reload;
staff see the agreement page with its charts. Screenshots go to $AES_SCREENSHOT_DIR when it is set."""

import os
from decimal import Decimal
from pathlib import Path

import pytest
from rating_helpers import PASSWORD, make_items, make_raters

from labeling.models import Assignment, LedgerEntry, Rating

pytestmark = pytest.mark.browser

ESSAY = (
    "Some people believe that cars should be banned from city centres, while others think this would harm "
    "businesses. In my opinion, limiting cars brings more benefits than drawbacks.\n\n"
    "On the one hand, fewer cars means cleaner air and safer streets for pedestrians and cyclists. "
) * 3


def screenshot(page, name: str) -> None:
    folder = os.environ.get("AES_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=False)


@pytest.fixture
def one_pair(transactional_db):
    batch = make_items(1, k=2)
    item = batch.items.get()
    item.essay.text, item.rewrite.text = ESSAY, ESSAY.replace("cars means", "cars mean").replace("In my", "To my")
    item.essay.save()
    item.rewrite.save()
    (rater,) = make_raters(1)
    return rater


def test_rater_rates_a_pair_with_the_keyboard_only(page, login, live_server, one_pair):
    login(one_pair.username, PASSWORD)
    page.goto(f"{live_server.url}/rate/")
    assert "1 pair waiting" in page.inner_text("main")
    page.keyboard.press("n")
    page.wait_for_url("**/rate/a/**")
    assert page.locator("#id_band_a").evaluate("el => el === document.activeElement")
    assert "words" in page.inner_text("#side-a h2")
    page.keyboard.type("65")
    page.keyboard.press("Enter")  # next required field: band B
    page.keyboard.type("7")
    page.keyboard.press("Tab")  # into B's criteria
    page.keyboard.type("7.5")
    page.keyboard.press("c")  # B is better
    page.keyboard.press("m")
    page.keyboard.type("B reads better")
    page.keyboard.press("Escape")
    assert page.input_value("#id_band_a") == "6.5"
    page.wait_for_timeout(2200)  # reading time: the active clock ticks while the rater was recently active
    assert page.inner_text("#active-clock") != "0:00"
    screenshot(page, "rating-page")
    page.keyboard.press("Control+Enter")
    page.wait_for_url(f"{live_server.url}/rate/")
    assert "USD 2.00" in page.inner_text("#earned-today")
    assert page.inner_text("#today-count") == "1"
    screenshot(page, "rater-home-after-submit")

    rating = Rating.objects.get()
    assignment = Assignment.objects.get()
    rewrite_a = assignment.rewrite_side == "A"
    assert (rating.band_rewrite, rating.band_original) == (
        (Decimal("6.5"), Decimal("7.0")) if rewrite_a else (Decimal("7.0"), Decimal("6.5"))
    )
    assert rating.preference == ("original" if rewrite_a else "rewrite")
    assert rating.criteria == {"original" if rewrite_a else "rewrite": {"task_response": 7.5}}
    assert rating.comment == "B reads better"
    assert rating.active_seconds >= 1
    assert LedgerEntry.objects.get().amount == Decimal("2.00")


def test_draft_survives_a_reload_and_skip_works_by_keyboard(page, login, live_server, one_pair):
    login(one_pair.username, PASSWORD)
    page.goto(f"{live_server.url}/rate/")
    page.keyboard.press("n")
    page.wait_for_url("**/rate/a/**")
    page.keyboard.type("5")
    page.keyboard.press("x")
    page.reload()
    assert page.input_value("#id_band_a") == "5"
    assert page.locator("input[name=better][value=same]").is_checked()
    page.keyboard.press("s")
    page.keyboard.press("2")  # not English
    page.wait_for_url(f"{live_server.url}/rate/")
    assignment = Assignment.objects.get()
    assert (assignment.status, assignment.skip_reason) == ("skipped", "not_english")
    assert Rating.objects.count() == 0


def test_staff_agreement_page_shows_charts(page, login, live_server, transactional_db, make_user):
    from rating_helpers import make_rewrites

    from labeling.rating.actions import RatingAnswer, submit_rating
    from labeling.rating.assignment import claim_next
    from labeling.rating.batches import create_rating_items

    _, gold = make_rewrites(3, round_number=1, split="val", band="6.5", tag="gold")
    training_round, pool = make_rewrites(12, round_number=2, tag="pool")
    batch = create_rating_items(training_round, pool, k=2, gold_share=0.2).batch
    for i, rater in enumerate(make_raters(4)):
        n = 0
        while (assignment := claim_next(rater)) is not None and n < 7:
            # Raters roughly agree: a band per essay, plus half a band of personal bias for two of them.
            base = Decimal(5 + assignment.item.essay_id % 3) + Decimal("0.5") * (i % 2)
            submit_rating(assignment.pk, RatingAnswer(band_a=base, band_b=base + Decimal("0.5"), better="B"))
            n += 1
    make_user("boss", staff=True)
    login("boss", PASSWORD)
    page.goto(f"{live_server.url}/staff/ratings/agreement/?batch={batch.pk}")
    assert page.locator("svg").count() == 2
    assert page.inner_text("#alpha") != "—"
    assert page.locator("#raters tr").count() == 5
    screenshot(page, "staff-agreement")
