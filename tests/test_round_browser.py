"""Staff in a real browser: launch a round, watch it update live, compare rounds, promote a model version.

No Celery worker runs here: the test plays the worker by writing the step rows, as a worker would, while the page
polls its status endpoint. (The end-to-end run with a real worker is a separate test.)
"""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from labeling.models import (
    Essay,
    ModelKind,
    ModelVersion,
    Promotion,
    Rewrite,
    RoundStatus,
    RoundStep,
    Split,
    TrainingRound,
)
from rl.metrics import band_metrics

pytestmark = pytest.mark.browser

RECIPE = """\
name: browser
stage: sft+rl
policy:
  model: packaged:smollm2-135m-instruct
rl:
  max_steps: 4
"""


def screenshot(page, name: str) -> None:
    folder = os.environ.get("AES_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def wait_for_pictures(page) -> None:
    """Curve pictures loaded and progress bars done moving, so a screenshot shows what staff see."""
    page.wait_for_function("[...document.images].every((img) => img.hidden || (img.complete && img.naturalWidth > 0))")
    page.wait_for_timeout(500)


def play_worker_first_half(training_round: TrainingRound) -> None:
    """What a worker writes while the scorer trains and the policy is being optimised."""
    now = timezone.now()
    steps = {s.name: s for s in training_round.steps.all()}
    RoundStep.objects.filter(pk=steps["train_scorer"].pk).update(
        status=RoundStatus.SUCCEEDED, progress_done=1, progress_total=1, attempts=1, worker="gpu1@box:1"
    )
    RoundStep.objects.filter(pk=steps["sft"].pk).update(status=RoundStatus.SKIPPED, log="skipped: no warm start\n")
    RoundStep.objects.filter(pk=steps["fit_verdicts"].pk).update(
        status=RoundStatus.SKIPPED, log="skipped: too few labelled edits\n"
    )
    history = [
        {"step": i, "reward": 0.05 * i, "kl": 0.01 * i, "loss": 1.0 / i, "chars_changed": 30 - 3 * i}
        for i in range(1, 4)
    ]
    RoundStep.objects.filter(pk=steps["optimise_policy"].pk).update(
        status=RoundStatus.RUNNING,
        progress_done=3,
        progress_total=10,
        started_at=now - timedelta(seconds=30),
        progress_since=now - timedelta(seconds=30),  # the training steps' phase began with the step
        heartbeat_at=now,
        attempts=1,
        worker="gpu1@box:1",
        log="[12:00:01] started on gpu1@box:1 (attempt 1)\n[12:00:31] step 3: reward 0.15\n",
        metrics={"history": history},
    )


def play_worker_to_the_end(training_round: TrainingRound) -> None:
    RoundStep.objects.filter(
        training_round=training_round, status__in=[RoundStatus.PENDING, RoundStatus.RUNNING]
    ).update(status=RoundStatus.SUCCEEDED, progress_done=10, progress_total=10, finished_at=timezone.now())
    true = [4.5, 5.0, 5.5, 5.5, 6.0, 6.0, 6.5, 6.5, 7.0, 7.5, 8.0, 6.0]
    predicted = [5.1, 5.2, 5.4, 5.9, 5.8, 6.3, 6.2, 6.9, 6.6, 7.0, 7.1, 6.0]
    ModelVersion.objects.create(
        kind=ModelKind.SCORER,
        name="scorer of the browser round",
        artifact_path="scorers/b",
        training_round=training_round,
        metrics={
            "test": band_metrics(true, predicted),
            "perturbations": {
                "repeat_paragraph": {"n": 12, "raised_share": 0.0, "mean_change": -0.21},
                "append_fancy_words": {"n": 12, "raised_share": 0.08, "mean_change": -0.05},
            },
        },
    )
    ModelVersion.objects.create(
        kind=ModelKind.REWRITER,
        name="rewriter of the browser round",
        artifact_path="rw/b",
        training_round=training_round,
    )
    essay = Essay.objects.create(
        text="Some people thinks that goverment should pay for university. I agree with this opinion.",
        origin="browser-test",
        split=Split.POOL,
    )
    Rewrite.objects.create(
        essay=essay,
        training_round=training_round,
        text="Some people think that the government should pay for university. I agree with this opinion.",
        chars_changed=12,
        scorer_band_before=5.5,
        scorer_band_after=6.0,
    )
    new = {"m": 0.35, "harm_share": 0.0, "good_small_share": 0.35, "mean_chars_changed": 14.2, "n": 20}
    baseline = {"m": -0.15, "harm_share": 0.05, "good_small_share": 0.35, "mean_chars_changed": 61.0, "n": 20}
    TrainingRound.objects.filter(pk=training_round.pk).update(
        status=RoundStatus.SUCCEEDED,
        finished_at=timezone.now(),
        active_model_key=None,
        metrics={
            **{k: new[k] for k in ("m", "harm_share", "good_small_share")},
            "by_policy": {"new": new, "baseline": baseline},
        },
    )


def test_staff_launch_watch_compare_and_promote(page, live_server, login, make_user, settings, tmp_path):
    (tmp_path / "browser.yaml").write_text(RECIPE)
    settings.ROUND_RECIPES_DIR = tmp_path
    staff = make_user("boss", staff=True)
    TrainingRound.objects.create(
        number=1,
        recipe="browser",
        config={"rl": {"max_steps": 2}},
        status=RoundStatus.SUCCEEDED,
        metrics={"m": 0.1},
        started_at=timezone.now() - timedelta(hours=1),
        finished_at=timezone.now() - timedelta(minutes=50),
    )
    login("boss")

    # Launch from the form, with an override.
    page.click("text=Rounds")
    page.click("text=Launch a round")
    assert page.get_attribute("#id_steps", "placeholder") == "4"  # the recipe's value
    page.fill("#id_steps", "10")
    page.select_option("#id_algorithm", "rloo")
    screenshot(page, "round-launch-form")
    page.click("#launch-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/rounds/2/")
    training_round = TrainingRound.objects.get(number=2)
    assert training_round.config["rl"]["max_steps"] == 10 and training_round.config["rl"]["algorithm"] == "rloo"
    assert training_round.created_by == staff
    assert page.text_content("#round-status") == "running"

    # The page follows the worker without reloading.
    page.evaluate("window.notReloaded = true")
    play_worker_first_half(training_round)
    row = 'tr[data-step="optimise_policy"]'
    page.wait_for_function(
        f"document.querySelector('{row} [data-field=progress]').textContent === '3 of 10'", timeout=10000
    )
    assert page.text_content(f'{row} [data-field="status"]') == "running"
    assert page.text_content(f'{row} [data-field="eta"]').endswith("s")  # 30 s for 3 of 10: about 70 s left
    assert "step 3: reward 0.15" in page.text_content(f'{row} [data-field="log"]')
    page.wait_for_function("document.querySelector('img[data-curve=reward]').src.endsWith('?v=3')")
    assert page.is_visible("img[data-curve=reward]") and page.is_hidden("img[data-curve=m]")  # no M points yet
    wait_for_pictures(page)
    screenshot(page, "round-running")

    play_worker_to_the_end(training_round)
    page.wait_for_function("document.body.dataset.polling === 'stopped'", timeout=10000)
    assert page.evaluate("window.notReloaded") is True
    assert page.text_content("#round-status") == "succeeded"
    assert page.is_hidden("#cancel-form")
    metrics = page.text_content("#round-metrics")
    assert "few-shot baseline" in metrics and "0.35" in metrics and "-0.15" in metrics
    assert page.locator(".diff ins", has_text="government").count() == 1
    wait_for_pictures(page)
    screenshot(page, "round-finished")

    # Promote the round's rewriter from its page.
    page.click("button[data-promote=rewriter]")
    page.wait_for_url(f"{live_server.url}/rounds/2/")
    assert "is now the promoted rewriter" in page.text_content(".messages")
    promotion = Promotion.objects.get()
    assert promotion.version.name == "rewriter of the browser round" and promotion.user == staff

    # Compare the two rounds side by side.
    page.click("text=← All rounds")
    page.check('input[name=n][value="1"]')
    page.check('input[name=n][value="2"]')
    screenshot(page, "rounds-table")
    page.click("text=Compare selected")
    table = page.text_content("#compare-table")
    assert "Round 2" in table and "Round 1" in table and "0.350" in table and "0.100" in table
    assert "rl.max_steps" in page.text_content("main")
    screenshot(page, "rounds-compare")

    # The models page shows who promoted what.
    page.click("header >> text=Models")
    assert "boss" in page.text_content("#promotion-history")
    screenshot(page, "models")

    # The scorer's evaluation page.
    page.click("text=scorer of the browser round")
    assert "append_fancy_words" in page.text_content("#perturbations")
    assert page.locator(".charts img").count() == 3
    wait_for_pictures(page)
    screenshot(page, "scorer-evaluation")
