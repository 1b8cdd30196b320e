"""From an empty database the way `make run` starts (bootstrap_demo, then a real gpu worker), a rater in a real
Chromium first hears that pairs are being prepared, then rates a real pair of the first batch."""

from io import StringIO

import pytest
from django.core.management import call_command
from rating_helpers import PASSWORD, make_raters, screenshot

from labeling.models import FirstBatch, Rating, RatingItem

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_rater_rates_a_first_batch_pair_from_an_empty_database(
    page, login, live_server, celery_worker_factory, settings, tmp_path
):
    settings.DATA_DIR = tmp_path  # the admin password file
    settings.FIRST_BATCH_ESSAYS = 2
    # As make run's; a busy solo worker would not answer the start-up ping.
    gpu_worker = celery_worker_factory("gpu", queues="gpu")
    out = StringIO()
    call_command("bootstrap_demo", stdout=out)
    assert "First batch: 0/2 essays rewritten" in out.getvalue()
    batch = FirstBatch.latest()
    (rater,) = make_raters(1)
    login(rater.username, PASSWORD)
    page.goto(f"{live_server.url}/rate/")
    # Loading the models and rewriting an essay take the worker far longer than this page.
    assert "Pairs are being prepared" in page.inner_text("main")

    for _ in range(180):
        if RatingItem.objects.exists():
            break
        page.wait_for_timeout(1000)
    item = RatingItem.objects.select_related("essay", "rewrite").get()  # first pair ready; the second may follow
    assert item.rewrite.text != item.essay.text and item.essay_id in batch.essay_ids

    page.goto(f"{live_server.url}/rate/")
    assert "1 pair waiting" in page.inner_text("main")
    page.keyboard.press("n")
    page.wait_for_url("**/rate/a/**")
    page.keyboard.type("5")
    page.keyboard.press("Enter")
    page.keyboard.type("55")
    page.keyboard.press("c")  # B is better
    screenshot(page, "first-batch-pair")
    page.keyboard.press("Control+Enter")
    page.wait_for_url(f"{live_server.url}/rate/")
    rating = Rating.objects.get()
    assert rating.item_id == item.pk and rating.rater == rater
    # The second essay may still be rewriting: nothing more is needed of it, and a warm shutdown would wait for it.
    gpu_worker.kill()
