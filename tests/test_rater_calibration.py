"""The rater calibration (rl/scorer/rater_calibration.py): shift and slope fitted on raters' bands, shrunk while few."""

import numpy as np
import pytest

from rl.scorer.rater_calibration import MIN_LABELS, SHIFT_BOUND, SLOPE_BOUNDS, RaterCalibration, fit_rater_calibration


def scorer_bands(n: int, seed: int, mean: float = 5.8) -> np.ndarray:
    return np.clip(np.random.default_rng(seed).normal(mean, 1.0, n), 0, 9)


def rater_bands(predicted: np.ndarray, shift: float, slope: float, noise: float, seed: int) -> np.ndarray:
    centre = predicted.mean()
    rng = np.random.default_rng(seed + 1000)
    return np.clip(centre + shift + slope * (predicted - centre) + rng.normal(0, noise, len(predicted)), 0, 9)


@pytest.mark.parametrize("seed", range(8))
def test_labels_on_the_scorers_scale_leave_it_alone_and_never_cost_mae(seed):
    predicted = scorer_bands(60, seed)
    human = rater_bands(predicted, shift=0.0, slope=1.0, noise=0.7, seed=seed)
    calibration = fit_rater_calibration(predicted, human)
    assert abs(calibration.shift) < 0.25 and abs(calibration.slope - 1) < 0.25
    # Cross-validated: the fit may not make the bands worse than the scorer's own on labels of its own scale.
    assert calibration.mae_after <= calibration.mae_before + 0.02
    calibrated = calibration.apply_array(predicted)
    assert np.abs(calibrated - human).mean() <= calibration.mae_before + 0.02


def test_many_labels_recover_a_known_shift_and_slope():
    predicted = scorer_bands(2000, 1, mean=4.5)  # room above and below: clipping at 0 and 9 would flatten the slope
    human = rater_bands(predicted, shift=0.9, slope=1.25, noise=0.4, seed=1)
    calibration = fit_rater_calibration(predicted, human)
    assert calibration.form == "shift+slope"
    assert calibration.n_labels == 2000
    assert calibration.shift == pytest.approx(0.9, abs=0.05)
    assert calibration.slope == pytest.approx(1.25, abs=0.05)
    assert calibration.mae_after < calibration.mae_before - 0.5
    assert np.abs(calibration.apply_array(predicted) - human).mean() == pytest.approx(calibration.mae_after, abs=0.02)


def test_a_shift_alone_is_fitted_as_a_shift():
    predicted = scorer_bands(400, 2)
    human = rater_bands(predicted, shift=-0.8, slope=1.0, noise=0.5, seed=2)
    calibration = fit_rater_calibration(predicted, human)
    assert calibration.form == "shift"
    assert calibration.slope == 1.0
    assert calibration.shift == pytest.approx(-0.8, abs=0.1)


def test_few_labels_are_shrunk_toward_the_identity():
    predicted = scorer_bands(25, 3)
    human = rater_bands(predicted, shift=1.2, slope=1.0, noise=0.0, seed=3)
    observed = float(human.mean() - predicted.mean())
    calibration = fit_rater_calibration(predicted, human, prior_labels=10)
    assert calibration.form in ("shift", "shift+slope")
    assert 0 < calibration.shift < observed
    assert calibration.shift == pytest.approx(observed * 25 / 35, abs=1e-9)
    many = fit_rater_calibration(scorer_bands(500, 3), rater_bands(scorer_bands(500, 3), 1.2, 1.0, 0.0, 3))
    assert many.shift > calibration.shift  # more labels, less shrinkage


def test_below_the_minimum_nothing_but_the_identity_is_fitted():
    predicted = scorer_bands(MIN_LABELS - 1, 4)
    human = rater_bands(predicted, shift=2.0, slope=1.5, noise=0.1, seed=4)
    calibration = fit_rater_calibration(predicted, human)
    assert calibration.is_identity and calibration.form == "identity"
    assert calibration.n_labels == MIN_LABELS - 1
    assert calibration.mae_after == calibration.mae_before
    assert calibration.apply(6.5) == 6.5
    assert fit_rater_calibration([], []).n_labels == 0


def test_the_fit_and_its_bands_stay_bounded():
    predicted = scorer_bands(300, 5)
    far = fit_rater_calibration(predicted, np.full(300, 9.0) + 0 * predicted)
    assert far.shift <= SHIFT_BOUND
    wild = fit_rater_calibration(predicted, np.clip(5 + 6 * (predicted - predicted.mean()), 0, 9))
    assert SLOPE_BOUNDS[0] <= wild.slope <= SLOPE_BOUNDS[1]
    bands = wild.apply_array(np.linspace(0, 9, 50))
    assert bands.min() >= 0.0 and bands.max() <= 9.0
    assert 0.0 <= RaterCalibration(shift=3.0, slope=2.0, centre=5.0).apply(9.0) <= 9.0


def test_a_band_difference_changes_only_by_the_slope():
    calibration = RaterCalibration(shift=0.9, slope=1.1, centre=5.5, n_labels=54, form="shift+slope")
    assert calibration.apply(6.5) - calibration.apply(5.0) == pytest.approx(1.1 * 1.5)
    assert calibration.scale_uncertainty(1.0) == pytest.approx(1.1)


def test_the_dict_round_trips_and_old_or_missing_records_load():
    calibration = RaterCalibration(0.9, 1.1, 54, 5.5, "shift+slope", 1.21, 0.84)
    assert RaterCalibration.from_dict(calibration.to_dict()) == calibration
    assert RaterCalibration.from_dict(None).is_identity
    assert RaterCalibration.from_dict({"shift": 0.5, "slope": 1.0, "a_later_field": 1}).shift == 0.5


def test_bad_input_is_refused_with_a_clear_message():
    with pytest.raises(ValueError, match="one length"):
        fit_rater_calibration([5.0, 6.0], [5.0])
    with pytest.raises(ValueError, match="finite"):
        fit_rater_calibration([5.0, float("nan")], [5.0, 6.0])
    with pytest.raises(ValueError, match="selection_z"):
        fit_rater_calibration([5.0, 6.0], [5.0, 6.0], selection_z=-1.0)


def test_a_stricter_selection_moves_agreeing_raters_less_often_and_still_fixes_a_large_shift():
    def fitted_share(selection_z: float) -> float:
        fits = [
            fit_rater_calibration(p, rater_bands(p, 0.0, 1.0, 0.8, seed), selection_z=selection_z)
            for seed, p in ((seed, scorer_bands(30, seed)) for seed in range(60))
        ]
        return np.mean([not c.is_identity for c in fits])

    assert fitted_share(3.0) < fitted_share(1.0)
    predicted = scorer_bands(30, 1)
    generous = fit_rater_calibration(predicted, rater_bands(predicted, 1.5, 1.0, 0.5, 1), selection_z=3.0)
    assert generous.shift > 1.0
