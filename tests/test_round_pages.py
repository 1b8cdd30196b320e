"""Staff pages of training rounds and model versions, over HTTP: access, launch, status, cancel, retry, promote.

The figures the pages show are made by the functions the round steps and scorer training write them with
(steps.scored_figures and evaluation_summary, scoring.evaluation_metrics on a real scorer, the step's training-log
forwarder), so the pages are tested on the shapes the product stores.
"""

from datetime import timedelta

import pytest
from django.template.defaultfilters import floatformat
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
from labeling.training import engine
from labeling.training.jsonsafe import json_safe
from labeling.training.round_figures import show
from labeling.training.scoring import evaluation_metrics
from labeling.training.step_context import StepContext
from labeling.training.steps import evaluation_summary, forward_training_logs, scored_figures
from rl.metrics import band_metrics

PASSWORD = "pw-for-tests-1"
TINY_RECIPE = """\
name: tiny
stage: sft+rl
policy:
  model: packaged:smollm2-135m-instruct
lora:
  r: 8
rl:
  algorithm: grpo
  max_steps: 2
  batch_size: 2
  learning_rate: 1.0e-4
"""


@pytest.fixture
def recipes(tmp_path, settings):
    folder = tmp_path / "recipes"
    folder.mkdir()
    (folder / "tiny.yaml").write_text(TINY_RECIPE)
    (folder / "dpo-only.yaml").write_text(TINY_RECIPE.replace("stage: sft+rl", "stage: dpo"))
    settings.ROUND_RECIPES_DIR = folder
    return folder


def make_round(number: int, status=RoundStatus.SUCCEEDED, metrics=None, config=None) -> TrainingRound:
    started = timezone.now() - timedelta(minutes=10 * number)
    return TrainingRound.objects.create(
        number=number,
        recipe="tiny",
        config=config or {"rl": {"max_steps": number}},
        status=status,
        metrics=metrics or {},
        started_at=started,
        finished_at=started + timedelta(minutes=3) if status != RoundStatus.RUNNING else None,
    )


def evaluated(new: tuple, baseline: tuple) -> dict:
    """The round metrics the evaluate step stores, from (bands before, bands after, chars changed) per policy."""
    results = {"new": scored_figures(*new), "baseline": scored_figures(*baseline)}
    return json_safe(evaluation_summary(results, len(new[0])))


GOOD_EDITS = ([5.0, 6.0, 6.5, 7.0], [5.5, 6.0, 7.0, 7.0], [12, 0, 30, 5])
HARMFUL_EDITS = ([5.0, 6.0, 6.5, 7.0], [5.0, 5.5, 6.5, 6.0], [40, 60, 0, 80])


def record_training_logs(step: RoundStep, logs: list[dict]) -> None:
    """Trainer log dicts (what rl.training's callback reports) through the step's own forwarder onto the step."""
    report = forward_training_logs(StepContext(step))
    for entry in logs:
        report(entry)


# Long enough to be scored (the Score page refuses texts under 50 words).
AN_ESSAY = "Some people think that cities should ban cars from their centres, and I partly agree with them. " * 4
STAFF_PAGES = ["/rounds/", "/rounds/new/", "/rounds/1/", "/rounds/1/status.json", "/models/", "/score/"]


@pytest.mark.django_db
@pytest.mark.parametrize("url", STAFF_PAGES)
def test_anonymous_users_are_sent_to_login(client, url):
    make_round(1)
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


@pytest.mark.django_db
def test_raters_get_403_on_every_staff_page_and_action(client, make_user):
    make_user("rater1")
    client.login(username="rater1", password=PASSWORD)
    training_round = make_round(1, status=RoundStatus.FAILED)
    version = ModelVersion.objects.create(kind=ModelKind.SCORER, name="s1", artifact_path="x")
    for url in STAFF_PAGES + ["/rounds/1/curves/reward.png", f"/models/{version.pk}/"]:
        assert client.get(url).status_code == 403, url
    for url in ["/rounds/new/", "/rounds/1/retry/", "/rounds/1/cancel/", f"/models/{version.pk}/promote/"]:
        assert client.post(url).status_code == 403, url
    training_round.refresh_from_db()
    version.refresh_from_db()
    assert training_round.status == RoundStatus.FAILED and not version.is_promoted
    assert not TrainingRound.objects.filter(number=2).exists()


@pytest.mark.django_db
def test_launch_form_lists_recipes_with_their_defaults(staff_client, recipes):
    response = staff_client.get("/rounds/new/")
    assert response.status_code == 200
    page = response.content.decode()
    assert '<option value="tiny"' in page and '<option value="dpo-only"' in page
    defaults = response.context["recipe_defaults"]
    assert defaults["tiny"]["algorithm"] == "GRPO" and defaults["tiny"]["steps"] == 2
    assert defaults["dpo-only"]["algorithm"] == "DPO"


@pytest.mark.django_db
def test_launch_post_creates_round_with_the_overrides_in_its_config(staff_client, recipes, tmp_path):
    other_policy = tmp_path / "other-policy"  # a local model folder: the form refuses one that does not exist
    other_policy.mkdir()
    response = staff_client.post(
        "/rounds/new/",
        {
            "recipe": "tiny",
            "algorithm": "rloo",
            "base_model": str(other_policy),
            "char_penalty": "0.02",
            "steps": "3",
            "learning_rate": "0.001",
            "batch_size": "4",
            "lora_rank": "4",
            "qlora": "off",
            "rewrite_essays": "5",
            "ratings_per_item": "3",
            "gold_share": "0.2",
            "extra": "rl.beta=0.02\n",
        },
    )
    training_round = TrainingRound.objects.get()
    assert response.status_code == 302 and response.url == f"/rounds/{training_round.number}/"
    config = training_round.config
    assert training_round.recipe == "tiny" and training_round.created_by.username == "boss"
    assert config["rl"]["algorithm"] == "rloo"
    assert config["rl"]["max_steps"] == 3
    assert config["rl"]["learning_rate"] == 0.001
    assert config["rl"]["batch_size"] == 4
    assert config["rl"]["beta"] == 0.02
    assert config["lora"]["r"] == 4
    assert config["policy"] == {**config["policy"], "model": str(other_policy), "load_in_4bit": False}
    assert config["rewriter"]["char_penalty"] == 0.02
    assert config["round"] == {
        "rewrite_essays": 5, "ratings_per_item": 3, "gold_share": 0.2, "eval_essays": 20, "gec_sentences": 100
    }  # fmt: skip
    assert "rl.algorithm=rloo" in config["overrides"]
    assert config["model_key"] == str(other_policy)
    assert training_round.status == RoundStatus.RUNNING
    assert training_round.steps.count() == len(engine.STEPS)


@pytest.mark.django_db
def test_choosing_dpo_switches_the_stage_and_steps_go_to_the_dpo_section(staff_client, recipes):
    staff_client.post("/rounds/new/", {"recipe": "tiny", "algorithm": "dpo", "steps": "7"})
    config = TrainingRound.objects.get().config
    assert config["stage"] == "dpo"
    assert config["dpo"]["max_steps"] == 7
    assert config["rl"]["max_steps"] == 2  # untouched


@pytest.mark.django_db
def test_blank_fields_keep_the_recipe_values(staff_client, recipes, settings):
    staff_client.post("/rounds/new/", {"recipe": "tiny"})
    config = TrainingRound.objects.get().config
    assert config["rl"]["max_steps"] == 2 and config["lora"]["r"] == 8 and config["stage"] == "sft+rl"
    assert config["round"]["ratings_per_item"] == settings.RATING_DEFAULT_K
    assert config["overrides"] == []


@pytest.mark.django_db
def test_a_bad_override_is_shown_and_launches_nothing(staff_client, recipes):
    response = staff_client.post("/rounds/new/", {"recipe": "tiny", "extra": "rl.no_such_setting=1"})
    assert response.status_code == 200
    assert "no_such_setting" in response.content.decode()
    assert not TrainingRound.objects.exists()


@pytest.mark.django_db
def test_launching_while_the_model_is_training_says_which_round_holds_it(staff_client, recipes):
    staff_client.post("/rounds/new/", {"recipe": "tiny"})
    response = staff_client.post("/rounds/new/", {"recipe": "tiny"})
    assert response.status_code == 200
    assert "Round 1 is already training packaged:smollm2-135m-instruct" in response.content.decode()
    assert TrainingRound.objects.count() == 1


def launched_round() -> TrainingRound:
    return engine.launch_round("tiny", {"model_key": "tiny-model"}, dispatch=False)


@pytest.mark.django_db
def test_status_json_reports_progress_eta_and_log(staff_client):
    training_round = launched_round()
    now = timezone.now()
    RoundStep.objects.filter(training_round=training_round, name="train_scorer").update(
        status=RoundStatus.RUNNING,
        progress_done=5,
        progress_total=10,
        started_at=now - timedelta(seconds=90),
        progress_since=now - timedelta(seconds=40),  # this phase began 40 s ago at item 0
        heartbeat_at=now,
        worker="gpu1@host:123",
        attempts=1,
        log="".join(f"line {i}\n" for i in range(20)),
        metrics={"history": [{"step": 1, "reward": 0.1}, {"step": 2, "reward": 0.3}]},
    )
    data = staff_client.get(f"/rounds/{training_round.number}/status.json").json()
    assert data["status"] == "running" and data["terminal"] is False
    step = data["steps"][0]
    assert step["name"] == "train_scorer" and step["title"] == "Retrain the scorer"
    assert (step["done"], step["total"], step["percent"]) == (5, 10, 50.0)
    assert step["eta"] in {"40s", "41s"}  # half of this phase done in 40 s: as long again
    assert step["worker"] == "gpu1@host:123" and step["attempts"] == 1
    assert step["log_tail"].splitlines() == [f"line {i}" for i in range(12, 20)]
    assert data["curve_version"] == 2
    assert [s["status"] for s in data["steps"][1:]] == ["pending"] * (len(engine.STEPS) - 1)


@pytest.mark.django_db
def test_status_json_notices_a_dead_worker(staff_client, settings):
    settings.ROUND_HEARTBEAT_TIMEOUT = 30
    training_round = launched_round()
    long_ago = timezone.now() - timedelta(minutes=5)
    RoundStep.objects.filter(training_round=training_round, name="train_scorer").update(
        status=RoundStatus.RUNNING, started_at=long_ago, heartbeat_at=long_ago, worker="gpu1@gone:1"
    )
    data = staff_client.get(f"/rounds/{training_round.number}/status.json").json()
    assert data["status"] == "failed" and data["terminal"] is True
    assert "gpu1@gone:1 stopped responding" in data["error"]
    assert data["steps"][0]["status"] == "failed"


@pytest.mark.django_db
def test_cancel_stops_a_round_that_has_no_step_running(staff_client):
    training_round = launched_round()
    response = staff_client.post(f"/rounds/{training_round.number}/cancel/")
    assert response.status_code == 302
    training_round.refresh_from_db()
    assert training_round.status == RoundStatus.CANCELLED and training_round.cancel_requested


@pytest.mark.django_db
def test_cancel_of_a_running_step_is_a_request_until_the_safe_point(staff_client):
    training_round = launched_round()
    training_round.steps.filter(name="train_scorer").update(status=RoundStatus.RUNNING, heartbeat_at=timezone.now())
    staff_client.post(f"/rounds/{training_round.number}/cancel/")
    training_round.refresh_from_db()
    assert training_round.status == RoundStatus.RUNNING and training_round.cancel_requested
    page = staff_client.get(f"/rounds/{training_round.number}/").content.decode()
    assert "Cancel requested" in page


@pytest.mark.django_db
def test_retry_resumes_a_failed_round_from_the_failed_step(staff_client):
    training_round = launched_round()
    steps = list(training_round.steps.order_by("order"))
    RoundStep.objects.filter(pk=steps[0].pk).update(status=RoundStatus.SUCCEEDED)
    RoundStep.objects.filter(pk=steps[1].pk).update(status=RoundStatus.FAILED, attempts=1)
    engine.finish_round(training_round, RoundStatus.FAILED, "step 'sft' failed: boom")
    page = staff_client.get(f"/rounds/{training_round.number}/").content.decode()
    assert "step &#x27;sft&#x27; failed: boom" in page

    response = staff_client.post(f"/rounds/{training_round.number}/retry/")
    assert response.status_code == 302
    training_round.refresh_from_db()
    assert training_round.status == RoundStatus.RUNNING and training_round.error == ""
    statuses = list(training_round.steps.order_by("order").values_list("status", flat=True))
    assert statuses[:2] == [RoundStatus.SUCCEEDED, RoundStatus.PENDING]


@pytest.mark.django_db
def test_retry_of_a_running_round_is_refused_with_a_message(staff_client):
    training_round = launched_round()
    response = staff_client.post(f"/rounds/{training_round.number}/retry/", follow=True)
    assert "only failed or cancelled rounds can be retried" in response.content.decode()


@pytest.mark.django_db
def test_promote_and_roll_back_record_who_and_when(staff_client):
    old = ModelVersion.objects.create(kind=ModelKind.REWRITER, name="rw-old", artifact_path="a")
    new = ModelVersion.objects.create(kind=ModelKind.REWRITER, name="rw-new", artifact_path="b")
    ModelVersion.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=1))
    before = timezone.now()
    staff_client.post(f"/models/{new.pk}/promote/", {"note": "better M"})
    assert ModelVersion.promoted(ModelKind.REWRITER).pk == new.pk

    listing = staff_client.get("/models/").content.decode()
    assert "Roll back to this" in listing and "better M" in listing

    response = staff_client.post(f"/models/{old.pk}/promote/")
    assert response.status_code == 302 and response.url == "/models/"
    assert ModelVersion.promoted(ModelKind.REWRITER).pk == old.pk
    rollback, promotion = Promotion.objects.order_by("-at", "-pk")[:2]
    assert rollback.version == old and rollback.previous == new and rollback.user.username == "boss"
    assert rollback.note == "roll back from rw-new" and rollback.at >= before
    assert promotion.version == new and promotion.note == "better M"
    history = staff_client.get("/models/").content.decode()
    assert history.count("boss") >= 2 and "roll back from rw-new" in history


@pytest.mark.django_db
def test_promote_from_the_round_page_returns_there(staff_client):
    training_round = make_round(1)
    scorer = ModelVersion.objects.create(
        kind=ModelKind.SCORER, name="s-r1", artifact_path="x", training_round=training_round
    )
    page = staff_client.get("/rounds/1/").content.decode()
    assert "Promote this scorer" in page
    response = staff_client.post(f"/models/{scorer.pk}/promote/", {"next": "/rounds/1/"})
    assert response.url == "/rounds/1/"
    assert ModelVersion.promoted(ModelKind.SCORER).pk == scorer.pk
    response = staff_client.post(f"/models/{scorer.pk}/promote/", {"next": "https://evil.example/"})
    assert response.url == "/models/"


@pytest.mark.django_db
def test_rounds_table_shows_every_round_newest_first_with_its_figures(staff_client):
    first_metrics, second_metrics = evaluated(HARMFUL_EDITS, GOOD_EDITS), evaluated(GOOD_EDITS, HARMFUL_EDITS)
    first = make_round(1, metrics=first_metrics)
    make_round(2, metrics=second_metrics)
    scorer_test = json_safe(band_metrics([5.0, 6.0, 6.5, 7.0, 8.0], [5.4, 6.2, 6.1, 7.5, 7.2]))
    ModelVersion.objects.create(
        kind=ModelKind.SCORER, name="s1", artifact_path="x", training_round=first, metrics={"test": scorer_test}
    )
    page = staff_client.get("/rounds/").content.decode()
    assert page.index('data-round="2"') < page.index('data-round="1"')
    figures = [second_metrics["m"], second_metrics["harm_share"], first_metrics["m"], first_metrics["harm_share"]]
    shown = [floatformat(f, "-3") for f in figures] + [floatformat(scorer_test[k], 3) for k in ("qwk", "mae")]
    for figure in [*shown, "3m 00s"]:
        assert figure in page, figure


@pytest.mark.django_db
def test_compare_view_puts_rounds_side_by_side_with_the_settings_that_differ(staff_client):
    first, second = evaluated(HARMFUL_EDITS, GOOD_EDITS), evaluated(GOOD_EDITS, HARMFUL_EDITS)
    make_round(1, metrics=first, config={"rl": {"max_steps": 10, "beta": 0.04}})
    make_round(2, metrics=second, config={"rl": {"max_steps": 20, "beta": 0.04}})
    make_round(3)
    response = staff_client.get("/rounds/compare/?n=1&n=2")
    assert response.status_code == 200
    figures = dict(response.context["figures"])
    assert second["m"] > first["m"]
    assert figures["M (scorer)"] == [show(second["m"]), show(first["m"])]
    assert dict(response.context["settings_rows"]) == {"rl.max_steps": ["20", "10"]}
    only_one = staff_client.get("/rounds/compare/?n=1", follow=True)
    assert "Select at least two rounds" in only_one.content.decode()


@pytest.mark.django_db
def test_round_page_shows_metrics_sample_diffs_and_curves(staff_client):
    metrics = evaluated(GOOD_EDITS, HARMFUL_EDITS)
    training_round = make_round(1, metrics=metrics)
    essay = Essay.objects.create(text="He go to school <b>every</b> day.", origin="test", split=Split.POOL)
    Rewrite.objects.create(
        essay=essay, training_round=training_round, text="He goes to school <b>every</b> day.", chars_changed=2
    )
    step = training_round.steps.create(name="optimise_policy", order=2, status=RoundStatus.SUCCEEDED)
    record_training_logs(
        step,
        [
            {"stage": "rl", "step": 1, "max_steps": 2, "loss": 0.7, "reward": 0.1, "kl": 0.0},
            {"stage": "rl", "step": 2, "max_steps": 2, "loss": 0.6, "reward": 0.3, "kl": 0.01},
        ],
    )
    page = staff_client.get("/rounds/1/").content.decode()
    assert "<del>go</del><ins>goes</ins>" in page
    assert "&lt;b&gt;every&lt;/b&gt;" in page and "<b>every</b>" not in page
    shown = page[page.index('id="round-metrics"') :]
    new, baseline = metrics["by_policy"]["new"], metrics["by_policy"]["baseline"]
    assert "few-shot baseline" in shown
    for figure in (new["m"], baseline["m"], new["half_band_m"], new["mean_chars_changed"], baseline["harm_share"]):
        assert floatformat(figure, "-3") in shown, figure
    assert "reward" in staff_client.get("/rounds/1/status.json").json()["curves_with_points"]
    response = staff_client.get("/rounds/1/curves/reward.png")
    assert response["Content-Type"] == "image/png" and response.content.startswith(b"\x89PNG")
    assert staff_client.get("/rounds/1/curves/nonsense.png").status_code == 404


@pytest.mark.django_db
def test_scorer_page_renders_metrics_charts_and_perturbations(staff_client, small_scorer):
    scorer, held_out = small_scorer
    metrics = json_safe(evaluation_metrics(scorer, held_out[:6]))  # what train_scorer_version stores
    version = ModelVersion.objects.create(kind=ModelKind.SCORER, name="s1", artifact_path="x", metrics=metrics)
    page = staff_client.get(f"/models/{version.pk}/").content.decode()
    for text in [
        "QWK",
        "Pearson r",
        "repeat_paragraph",
        "raised_half_band_share",
        floatformat(metrics["test"]["mae"], "-3"),
    ]:
        assert text in page, text
    for chart in ["calibration", "per_band_mae", "confusion"]:
        assert f"/models/{version.pk}/{chart}.png" in page
        response = staff_client.get(f"/models/{version.pk}/{chart}.png")
        assert response.status_code == 200 and response.content.startswith(b"\x89PNG"), chart


@pytest.mark.django_db
def test_scorer_page_of_figures_in_an_older_shape_says_so_instead_of_failing(staff_client):
    older = {"test": {"qwk": 0.5, "confusion_matrix": {"labels": [5, 6], "matrix": [[1, 0], [0, 1]]}}}
    version = ModelVersion.objects.create(kind=ModelKind.SCORER, name="s-old", artifact_path="x", metrics=older)
    response = staff_client.get(f"/models/{version.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Figures from an older version" in page and "0.5" in page  # the headline still shows
    assert f"/models/{version.pk}/confusion.png" not in page
    assert staff_client.get(f"/models/{version.pk}/confusion.png").status_code == 404


@pytest.mark.django_db
def test_score_page_says_when_no_scorer_is_promoted(staff_client):
    response = staff_client.post("/score/", {"question": "Q?", "essay": AN_ESSAY})
    assert response.status_code == 200
    assert "No scorer is promoted yet" in response.content.decode()


@pytest.mark.django_db
def test_empty_models_and_score_pages_say_how_to_train_a_scorer(staff_client):
    for url in ("/models/", "/score/"):
        page = staff_client.get(url).content.decode()
        assert 'href="/rounds/new/"' in page, url
        assert "manage.py train_scorer --promote" in page, url


@pytest.mark.django_db
def test_score_page_says_when_the_promoted_scorer_cannot_be_loaded(staff_client, tmp_path):
    # e.g. its folder was deleted, or it was saved in a format this code no longer reads
    ModelVersion.objects.create(kind=ModelKind.SCORER, name="gone", artifact_path=str(tmp_path / "gone")).promote()
    response = staff_client.post("/score/", {"question": "Q?", "essay": AN_ESSAY})
    assert response.status_code == 200
    page = response.content.decode()
    assert "scorer gone cannot be loaded" in page and "train_scorer --promote" in page


def rated_pair(training_round, rater, essay_text, rewrite_text, bands, review="approved", **rewrite_fields):
    """A rewrite of the round, queued as a rating item and rated once (bands = original, rewrite)."""
    from labeling.models import RatingBatch, RatingItem

    essay = Essay.objects.create(text=essay_text, origin="test", split=Split.POOL)
    rewrite = Rewrite.objects.create(essay=essay, training_round=training_round, text=rewrite_text, **rewrite_fields)
    batch, _ = RatingBatch.objects.get_or_create(training_round=training_round, defaults={"ratings_per_item": 2})
    item = RatingItem.objects.create(batch=batch, essay=essay, rewrite=rewrite, ratings_needed=2)
    return rate(item, rater, bands, review)


def rate(item, rater, bands, review="approved"):
    from labeling.models import Assignment, Rating

    assignment = Assignment.objects.create(
        item=item, rater=rater, rewrite_side="A", expires_at=timezone.now() + timedelta(minutes=30)
    )
    return Rating.objects.create(
        assignment=assignment,
        item=item,
        rater=rater,
        band_original=bands[0],
        band_rewrite=bands[1],
        preference="rewrite" if bands[1] > bands[0] else "original",
        active_seconds=60,
        review_status=review,
    )


@pytest.mark.django_db
def test_rounds_table_shows_rater_cost_so_far_from_the_ledger(staff_client, make_user):
    from decimal import Decimal

    from labeling.models import LedgerEntry, LedgerKind

    training_round = make_round(1)
    make_round(2)
    first = rated_pair(training_round, make_user("rater1"), "An essay.", "An essay!", (6, 6.5), chars_changed=1)
    second = rate(first.item, make_user("rater2"), (6, 6))
    LedgerEntry.objects.create(rater=first.rater, rating=first, kind=LedgerKind.EARNING, amount=Decimal("2.00"))
    LedgerEntry.objects.create(rater=second.rater, rating=second, kind=LedgerKind.EARNING, amount=Decimal("2.00"))
    LedgerEntry.objects.create(rater=second.rater, rating=second, kind=LedgerKind.REVERSAL, amount=Decimal("-2.00"))
    page = staff_client.get("/rounds/").content.decode()
    row = page[page.index('data-round="1"') :].split("</tr>")[0]
    assert "2.00 USD" in row
    other = page[page.index('data-round="2"') :].split("</tr>")[0]
    assert "USD" not in other


@pytest.mark.django_db
def test_human_judged_m_and_scorer_vs_human_bands_appear_once_ratings_are_approved(staff_client, make_user):
    training_round = make_round(1, metrics={"m": 0.5, "harm_share": 0.0, "good_small_share": 0.5})
    raters = [make_user(f"rater{i}") for i in range(3)]
    good = rated_pair(
        training_round,
        raters[0],
        "Essay one.",
        "Essay one, better.",
        (6, 6.5),
        chars_changed=20,
        scorer_band_before=5.5,
        scorer_band_after=6.0,
    )
    rate(good.item, raters[1], (6, 6.5))
    harm = rated_pair(
        training_round,
        raters[0],
        "Essay two.",
        "Essay two, worse.",
        (6, 5.5),
        chars_changed=30,
        scorer_band_before=6.0,
        scorer_band_after=6.0,
    )
    rate(harm.item, raters[2], (9, 9), review="pending")  # not approved: not counted
    essay = Essay.objects.create(text="Essay three.", origin="test", split=Split.POOL)
    Rewrite.objects.create(
        essay=essay, training_round=training_round, text="Essay three.", chars_changed=0, guard_applied=True
    )

    table = staff_client.get("/rounds/").content.decode()
    row = table[table.index('data-round="1"') :].split("</tr>")[0]
    assert "-3" in row  # -10 x 1/3 harm + 1/3 good small edits

    response = staff_client.get("/rounds/1/")
    page = response.content.decode()
    human_row = next(r for r in _metric_rows(page) if "human-judged" in r)
    assert "-3" in human_row and "0.333" in human_row
    comparison = response.context["comparison"]
    assert sorted((r["kind"], r["scorer"], r["human"], r["ratings"]) for r in comparison) == [
        ("original", 5.5, 6.0, 2),
        ("original", 6.0, 6.0, 1),
        ("rewrite", 6.0, 5.5, 1),
        ("rewrite", 6.0, 6.5, 2),
    ]
    assert response.context["comparison_mae"] == pytest.approx(0.375)
    chart = staff_client.get("/rounds/1/scorer-vs-human.png")
    assert chart.content.startswith(b"\x89PNG")


def _metric_rows(page: str) -> list[str]:
    metrics = page[page.index('id="round-metrics"') :]
    return metrics[: metrics.index("</table>")].split("</tr>")


@pytest.mark.django_db
def test_round_exports_download_the_rounds_labels(staff_client, make_user):
    training_round = make_round(1)
    make_round(2)
    rated_pair(
        training_round,
        make_user("rater1"),
        "Original text of round one.",
        "Rewrite of round one.",
        (6, 7),
        chars_changed=5,
    )
    page = staff_client.get("/rounds/1/").content.decode()
    for fmt in ["scorer_csv", "jsonl", "parquet", "dpo"]:
        assert f"/rounds/1/export/{fmt}/" in page
    response = staff_client.get("/rounds/1/export/scorer_csv/")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode()
    assert "Rewrite of round one." in body
    other = b"".join(staff_client.get("/rounds/2/export/scorer_csv/").streaming_content).decode()
    assert "Rewrite of round one." not in other
    assert staff_client.get("/rounds/1/export/xls/").status_code == 404


@pytest.mark.django_db
def test_scorer_page_reads_the_figures_rl_metrics_computes(staff_client):
    from labeling.training.model_views import _calibration_points, _confusion, _per_band_mae
    from rl.metrics import band_metrics

    test = band_metrics([5.0, 5.0, 6.0, 7.0], [5.0, 6.0, 6.0, 6.5])
    version = ModelVersion.objects.create(
        kind=ModelKind.SCORER, name="s-real", artifact_path="x", metrics={"test": test}
    )
    assert _confusion(test) == (
        ["5.0", "5.5", "6.0", "6.5", "7.0"],
        [
            [1, 0, 1, 0, 0],
            [0, 0, 0, 0, 0],
            [0, 0, 1, 0, 0],
            [0, 0, 0, 0, 0],
            [0, 0, 0, 1, 0],
        ],
    )
    assert _calibration_points(test) == [(5.0, 5.5), (6.0, 6.0), (7.0, 6.5)]
    assert _per_band_mae(test) == {"5.0": 0.5, "6.0": 0.0, "7.0": 0.5}
    page = staff_client.get(f"/models/{version.pk}/").content.decode()
    for chart in ["calibration", "per_band_mae", "confusion"]:
        assert f"/models/{version.pk}/{chart}.png" in page, chart
        assert staff_client.get(f"/models/{version.pk}/{chart}.png").content.startswith(b"\x89PNG")
    assert "within 1.0" in page and "0.75" in page  # 3 of 4 within 0.5
