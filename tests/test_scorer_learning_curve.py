"""The benchmark's learning curve: test accuracy of scorers trained on growing shares of the labelled essays."""

import math
from dataclasses import replace

import pytest

from rl.data import load_training_set, without_essays_of
from rl.scorer import ScorerConfig, learning_curve
from rl.scorer.evaluation import essays_for_pearson, fit_learning_curve

TINY = ScorerConfig(cv_folds=0, seeds=(0,), pca_components=8, lgbm_estimators=40)


def test_each_share_trains_its_own_scorer_and_is_evaluated():
    records, _ = load_training_set()
    train, test = records[::12], records[5::60]
    curve = learning_curve(train, test, fractions=(1.0, 0.25, 0.5), config=TINY)
    rows = curve["rows"]
    assert [row["fraction"] for row in rows] == [0.25, 0.5, 1.0]
    assert [row["n_train"] for row in rows] == [round(f * len(train)) for f in (0.25, 0.5, 1.0)]
    for row in rows:
        assert set(row) == {"fraction", "n_train", "qwk", "mae", "rmse", "pearson"}
        assert 0 < row["mae"] < 3 and -1 <= row["pearson"] <= 1
    assert curve["fit"] is not None


def test_fit_recovers_a_known_curve_and_tells_the_labels_a_target_needs():
    rows = [{"n_train": n, "pearson": 0.7 - 2.0 / math.sqrt(n)} for n in (100, 400, 1600)]
    fit = fit_learning_curve(rows)
    assert fit["ceiling"] == pytest.approx(0.7)
    assert fit["slope"] == pytest.approx(2.0)
    # 0.7 - 2 / sqrt(n) = 0.6  <=>  n = (2 / 0.1)^2 = 400
    assert essays_for_pearson(fit, 0.6) == pytest.approx(400)
    assert essays_for_pearson(fit, 0.75) is None  # above the ceiling: no number of labels gets there
    assert fit_learning_curve(rows[:2]) is None


def test_bad_fractions_are_refused():
    with pytest.raises(ValueError, match="fractions must lie in"):
        learning_curve([], [], fractions=(0.5, 1.5))


def test_extra_training_essays_lose_their_test_essays():
    records, _ = load_training_set()
    test = records[:3]
    # The same essay with other spacing and case is the same essay.
    extra = [replace(test[0], essay="  " + test[0].essay.upper() + "\n"), records[10]]
    assert without_essays_of(extra, test) == [records[10]]
