"""Rater calibration stored with the scorer version (labeling/training/rater_calibration.py): fitted on the
approved consensus bands and the version's own predictions, by the `calibrate_scorer` command or by a worker after
approvals (debounced), and applied wherever the product reads a band (scoring.load_scorer_version)."""

import time

import pytest
from django.core.management import CommandError, call_command
from ratercal_helpers import rate_pool_essays, trained_scorer

from labeling.models import ModelVersion
from labeling.training import rater_calibration
from labeling.training.scoring import load_scorer_version

ESSAY = (
    "Some people think cities should ban cars from their centres. I agree, because cars pollute the air and make the"
    " streets dangerous for children.\n\nHowever, shops need deliveries, and old people need to reach the doctor."
)


@pytest.mark.django_db
def test_generous_raters_shift_the_stored_calibration_and_the_bands_the_product_reads(tmp_path, capsys):
    version = trained_scorer(tmp_path, pool=15)
    rate_pool_essays(version, 15, rater_band=lambda band: band + 1.5)
    call_command("calibrate_scorer")
    version.refresh_from_db()
    stored = version.rater_calibration
    assert stored["n_labels"] == 30 and stored["form"] != "identity" and stored["fitted_at"]
    assert 0.8 < stored["shift"] <= 1.5  # shrunk toward 0 by the prior, never past the raters
    assert stored["mae_after"] < stored["mae_before"] - 0.5
    assert "calibrated to raters" in capsys.readouterr().out

    raw = load_scorer_version(version, calibrated=False).predict(["Should cars be banned?"], [ESSAY])[0]
    calibrated = load_scorer_version(version).predict(["Should cars be banned?"], [ESSAY])[0]
    assert calibrated.band == pytest.approx(
        min(9.0, stored["centre"] + stored["shift"] + stored["slope"] * (raw.band - stored["centre"]))
    )
    assert calibrated.band > raw.band
    assert calibrated.uncertainty == pytest.approx(raw.uncertainty * stored["slope"])


@pytest.mark.django_db
def test_the_selection_setting_decides_how_clear_a_fit_must_be(tmp_path, settings):
    version = trained_scorer(tmp_path, pool=15)
    rate_pool_essays(version, 15, rater_band=lambda band: band + 1.5)
    settings.RATERCAL_SELECTION_Z = 1e6  # no fit on 30 labels is that clear
    assert rater_calibration.fit_for_scorer(version)["form"] == "identity"
    settings.RATERCAL_SELECTION_Z = 1.0
    assert rater_calibration.fit_for_scorer(version)["form"] != "identity"


@pytest.mark.django_db
def test_raters_on_the_scorers_scale_leave_its_bands_alone(tmp_path):
    version = trained_scorer(tmp_path, pool=15)
    rate_pool_essays(version, 15, rater_band=lambda band: band)
    stored = rater_calibration.fit_for_scorer(version)
    # Raters give half bands: rounding may leave a small systematic shift, which the fit may take, never more.
    assert stored["n_labels"] == 30 and abs(stored["shift"]) <= 0.25 and stored["slope"] == pytest.approx(1, abs=0.1)
    assert stored["mae_after"] <= stored["mae_before"] + 0.01
    raw = load_scorer_version(version, calibrated=False).predict(["Should cars be banned?"], [ESSAY])[0]
    calibrated = load_scorer_version(ModelVersion.objects.get(pk=version.pk)).predict(
        ["Should cars be banned?"], [ESSAY]
    )[0]
    assert abs(calibrated.band - raw.band) <= 0.3


@pytest.mark.django_db
def test_too_few_labels_store_identity_and_say_how_many_are_needed(tmp_path, capsys, settings):
    settings.RATERCAL_MIN_LABELS = 20
    version = trained_scorer(tmp_path, pool=4)
    rate_pool_essays(version, 4, rater_band=lambda band: band + 2)
    call_command("calibrate_scorer", "--version", str(version.pk))
    assert "not yet calibrated: 8 of 20 labels needed" in capsys.readouterr().out
    version.refresh_from_db()
    assert version.rater_calibration["n_labels"] == 8 and version.rater_calibration["shift"] == 0.0
    # Fitted on 8 (too few): the first real fit is due at 20, not 8 + REFIT_EVERY.
    assert not rater_calibration.is_due(version, 19) and rater_calibration.is_due(version, 20)
    settings.RATERCAL_MIN_LABELS = 6
    assert not rater_calibration.is_due(version, 17) and rater_calibration.is_due(version, 18)
    assert load_scorer_version(version) is load_scorer_version(version, calibrated=False)  # identity: nothing applied


@pytest.mark.django_db
def test_calibrate_scorer_without_a_scorer_is_a_clear_error():
    with pytest.raises(CommandError, match="no scorer is promoted"):
        call_command("calibrate_scorer")
    with pytest.raises(CommandError, match="no scorer version with id 999"):
        call_command("calibrate_scorer", "--version", "999")


@pytest.mark.django_db(transaction=True)
def test_approvals_queue_one_debounced_refit_that_a_worker_runs_once_enough_labels_exist(
    tmp_path, settings, monkeypatch, celery_worker_factory
):
    for name, value in (("MIN_LABELS", 20), ("REFIT_EVERY", 10), ("DEBOUNCE_SECONDS", 2)):
        setattr(settings, f"RATERCAL_{name}", value)
        monkeypatch.setenv(f"AES_RATERCAL_{name}", str(value))  # the worker's settings
    import redis

    version = trained_scorer(tmp_path, pool=20)
    redis.Redis.from_url(settings.REDIS_URL).delete(f"aes:ratercal:queued:{version.pk}")
    celery_worker_factory("ratercal")
    from labeling.training.tasks import queue_rater_calibration

    rate_pool_essays(version, 5, rater_band=lambda band: band + 1.5)  # 10 labels: not enough, nothing fitted
    assert queue_rater_calibration() is False  # the approval above queued it already: debounced
    time.sleep(4)
    version.refresh_from_db()
    assert version.rater_calibration == {}

    rate_pool_essays(version, 10, rater_band=lambda band: band + 1.5, round_number=2)  # 30 labels
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not version.rater_calibration:
        time.sleep(0.5)
        version.refresh_from_db()
    assert version.rater_calibration["n_labels"] == 30 and version.rater_calibration["shift"] > 0.8
    fitted_at = version.rater_calibration["fitted_at"]
    assert rater_calibration.refit_if_due(version.pk) is None  # nothing new: idempotent
    version.refresh_from_db()
    assert version.rater_calibration["fitted_at"] == fitted_at


@pytest.mark.django_db
def test_a_rounds_new_scorer_is_calibrated_in_its_own_training_step(tmp_path):
    from labeling.models import RoundStep, TrainingRound
    from labeling.training import steps
    from labeling.training.step_context import StepContext

    version = trained_scorer(tmp_path, pool=15)
    rate_pool_essays(version, 15, rater_band=lambda band: band + 1.5, round_number=1)
    training_round = TrainingRound.objects.create(
        number=2, config={"scorer": {"config": {"family": "tfidf_ridge"}, "always": True}}
    )
    step = RoundStep.objects.create(training_round=training_round, name="train_scorer", order=0)
    result = steps.train_scorer(StepContext(step))
    trained = ModelVersion.objects.get(pk=result["scorer_version"])
    assert trained.pk != version.pk and trained.data_snapshot["human_texts"] == 30
    assert result["rater_calibration"]["n_labels"] == trained.rater_calibration["n_labels"] == 30
    # It learnt the generous bands in part (30 of its 70 texts): less shift is left than for a published-only scorer.
    assert 0 < trained.rater_calibration["shift"] < 1.5
