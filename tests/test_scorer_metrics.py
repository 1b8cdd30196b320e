"""Scorer metrics on hand-computed cases (QWK over the fixed 19 half-band label set)."""

import numpy as np
import pytest

from rl.metrics import band_metrics, confusion_matrix, pearson_r, quadratic_weighted_kappa, round_to_half_band


def test_rounding_clips_to_0_9_and_rounds_to_nearest_half_band():
    assert round_to_half_band([6.24, 6.25, 6.74, 6.75, -1.0, 9.7, 4.0]).tolist() == [6.0, 6.5, 6.5, 7.0, 0.0, 9.0, 4.0]


def test_qwk_perfect_agreement_is_one():
    assert quadratic_weighted_kappa([4.0, 5.5, 7.0, 9.0], [4.1, 5.4, 7.2, 8.9]) == pytest.approx(1.0)


def test_qwk_hand_computed_three_essays():
    # Half-band indices: true 8, 10, 12; predicted 8, 12, 12. With w = (i - j)^2 / 18^2 the observed weighted
    # disagreement is 4 and the expected one (row x column marginals / 3) is (32 + 4 + 8 + 16) / 3 = 20: 1 - 4/20.
    assert quadratic_weighted_kappa([4.0, 5.0, 6.0], [4.0, 6.0, 6.0]) == pytest.approx(0.8)


def test_qwk_hand_computed_four_essays():
    # Indices: true 10, 10, 12, 14; predicted 10, 12, 12, 12. Observed weighted disagreement (in units of
    # (i - j)^2, the 1/18^2 cancels): 4 + 4 = 8. Marginals rows {10: 2, 12: 1, 14: 1}, columns {10: 1, 12: 3};
    # expected = sum r_i c_j (i - j)^2 / 4 = (2*3*4 + 1*1*4 + 1*1*16 + 1*3*4) / 4 = 14. QWK = 1 - 8/14 = 3/7.
    assert quadratic_weighted_kappa([5.0, 5.0, 6.0, 7.0], [5.0, 6.0, 6.0, 6.0]) == pytest.approx(3 / 7)


def test_qwk_with_everything_on_one_band_is_one_and_empty_is_nan():
    assert quadratic_weighted_kappa([6.0, 6.0], [6.1, 5.9]) == 1.0
    assert np.isnan(quadratic_weighted_kappa([], []))


def test_qwk_of_a_constant_prediction_is_zero():
    assert quadratic_weighted_kappa([4.0, 5.0], [5.0, 5.0]) == pytest.approx(0.0)


def test_qwk_uses_the_fixed_label_set_and_rounds_predictions():
    # 6.2 rounds to 6.0 and 5.3 to 5.5: the same as the hand-computed case above, shifted by one band.
    assert quadratic_weighted_kappa([5.0, 6.0, 7.0], [5.0, 6.9, 7.2]) == pytest.approx(0.8)


def test_band_metrics_hand_computed():
    metrics = band_metrics([4.0, 5.0, 6.0], [4.2, 6.0, 5.0])
    assert metrics["n"] == 3
    assert metrics["mae"] == pytest.approx(2.2 / 3)
    assert metrics["rmse"] == pytest.approx(np.sqrt(2.04 / 3))
    assert metrics["within_0_5"] == pytest.approx(1 / 3)
    assert metrics["within_1_0"] == pytest.approx(1.0)
    assert metrics["per_band_mae"]["5.0"] == {"n": 1, "mae": pytest.approx(1.0)}


def test_predictions_are_clipped_before_errors():
    metrics = band_metrics([9.0, 0.0], [10.5, -2.0])
    assert metrics["mae"] == 0.0
    assert metrics["qwk"] == pytest.approx(1.0)


def test_pearson_hand_computed():
    assert pearson_r([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert pearson_r([1, 2, 3], [3, 1, 2]) == pytest.approx(-0.5)
    assert np.isnan(pearson_r([1, 2, 3], [5, 5, 5]))


def test_confusion_matrix_counts_rounded_bands():
    matrix = confusion_matrix([4.0, 4.0, 6.5], [4.2, 5.0, 6.6])
    assert matrix.shape == (19, 19)
    assert matrix[8, 8] == 1 and matrix[8, 10] == 1 and matrix[13, 13] == 1
    assert matrix.sum() == 3
