"""Our Krippendorff's alpha (interval and nominal) against the `krippendorff` package as an oracle.

Random reliability matrices (raters x units, NaN = that rater did not rate that unit) of several shapes and missing
shares; our functions take the same data as lists of each unit's values.
"""

import krippendorff
import numpy as np
import pytest

from labeling.rating.agreement import krippendorff_alpha_interval, krippendorff_alpha_nominal

VERDICTS = ["keep", "revert", "unsure"]


def random_reliability_matrix(rng, raters: int, units: int, values: np.ndarray, missing: float) -> np.ndarray:
    matrix = rng.choice(values, size=(raters, units)).astype(np.float64)
    matrix[rng.random((raters, units)) < missing] = np.nan
    # Every unit keeps at least two values, so both implementations see the same pairable data.
    for unit in range(units):
        present = ~np.isnan(matrix[:, unit])
        if present.sum() < 2:
            keep = rng.choice(raters, size=2, replace=False)
            matrix[keep, unit] = rng.choice(values, size=2)
    return matrix


def units_of(matrix: np.ndarray) -> list[list[float]]:
    return [[float(v) for v in column if not np.isnan(v)] for column in matrix.T]


SHAPES = [(2, 10, 0.0), (3, 25, 0.3), (5, 40, 0.5), (8, 15, 0.6), (4, 60, 0.2)]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(("raters", "units", "missing"), SHAPES)
def test_alpha_interval_matches_the_krippendorff_package(seed, raters, units, missing):
    rng = np.random.default_rng(seed)
    matrix = random_reliability_matrix(rng, raters, units, np.arange(8, 19) / 2.0, missing)  # bands 4.0 .. 9.0
    expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement="interval")
    assert krippendorff_alpha_interval(units_of(matrix)) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(("raters", "units", "missing"), SHAPES)
def test_alpha_nominal_matches_the_krippendorff_package(seed, raters, units, missing):
    rng = np.random.default_rng(100 + seed)
    matrix = random_reliability_matrix(rng, raters, units, np.arange(len(VERDICTS), dtype=np.float64), missing)
    expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
    verdict_units = [[VERDICTS[int(v)] for v in unit] for unit in units_of(matrix)]
    assert krippendorff_alpha_nominal(verdict_units) == pytest.approx(expected, abs=1e-9)


def test_oracle_sees_a_wrong_alpha():
    # The comparison can fail: dropping one rater's values changes alpha beyond the tolerance.
    rng = np.random.default_rng(7)
    matrix = random_reliability_matrix(rng, 4, 30, np.arange(8, 19) / 2.0, 0.0)
    expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement="interval")
    assert krippendorff_alpha_interval(units_of(matrix[:3])) != pytest.approx(expected, abs=1e-9)
