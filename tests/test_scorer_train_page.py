"""Staff train a scorer from the Models page: a real Celery worker trains it, the page follows the task live.

Browser test (Playwright + Debian's chromium) against the live server, with a real worker on the real Redis.
"""

import time

import pytest
from round_helpers import import_small_corpus

from labeling.models import ModelKind, ModelVersion, ScorerTraining

pytestmark = pytest.mark.browser


def test_a_scorer_trained_from_the_models_page_appears_promoted(
    celery_worker, live_server, page, login, make_user, tmp_path
):
    import_small_corpus(tmp_path, train=30, test=6, pool=2)
    make_user("boss", staff=True)
    login("boss")
    page.goto(f"{live_server.url}/models/")
    page.check("#scorer-training input[name=promote]")
    page.click("#scorer-training button[type=submit]")
    # The page polls the task and reloads once the new version exists.
    page.wait_for_selector("#training-status .badge.succeeded", timeout=300_000)
    version = ModelVersion.objects.get(kind=ModelKind.SCORER)
    assert version.is_promoted
    assert version.data_snapshot["published"] == 30
    row = page.locator(f'#versions-scorer tr[data-version="{version.pk}"]')
    assert "promoted" in row.inner_text()
    assert f"trained {version.name}" in page.inner_text("#training-status")
    page.click(f"#training-status a:text('{version.name}')")  # the new version's evaluation page
    page.wait_for_selector("h1")
    assert version.name in page.inner_text("h1")
    # The promotion records who asked for it.
    promotion = version.promotions.get()
    assert promotion.user.username == "boss" and promotion.note == "trained from the Models page"


def test_a_failed_training_says_why(celery_worker, client, make_user):
    make_user("boss", staff=True)
    client.login(username="boss", password="pw-for-tests-1")
    assert client.post("/models/train-scorer/").status_code == 302  # no essays imported: nothing to train on
    state = wait_for_training(client, ScorerTraining.objects.get().pk)
    assert state["state"] == "failed"
    assert "no labelled essays to train on" in state["message"]
    assert "no labelled essays to train on" in client.get("/models/").content.decode()
    assert not ModelVersion.objects.exists()


def test_raters_cannot_train_a_scorer(client, make_user):
    make_user("rater1")
    client.login(username="rater1", password="pw-for-tests-1")
    assert client.post("/models/train-scorer/").status_code == 403
    assert client.get("/models/train-scorer/1.json").status_code == 403


def wait_for_training(client, training_id: int, timeout: float = 300.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = client.get(f"/models/train-scorer/{training_id}.json").json()
        if state["state"] not in ("queued", "running"):
            return state
        time.sleep(0.5)
    raise AssertionError(f"the training task did not finish in {timeout} s: {state}")
