"""The scorer's stated uncertainty: spread and residual added in quadrature, the weight of the distance outside the
training range fitted on out-of-fold errors; the ridge member stops near the training bands; scorers saved in format 3
predict as they did."""

import pickle

import numpy as np
import pytest

from rl.data import load_training_set
from rl.scorer import ScorerConfig, load_scorer, train_scorer
from rl.scorer.band_calibration import OUTSIDE_WEIGHTS, fit_uncertainty, stated_uncertainty
from rl.scorer.members import RIDGE_BAND_MARGIN, Features, RidgeMember

TINY = dict(cv_folds=3, seeds=(0,), pca_components=8, lgbm_estimators=40)


def out_of_fold_errors(grows_outside: bool, n=4000, seed=0):
    """Errors of an essay set where 30% lie outside the training range; their size grows with that distance or not."""
    rng = np.random.default_rng(seed)
    outside = np.where(rng.random(n) < 0.3, rng.uniform(0.0, 2.0, n), 0.0)
    sigma = 1.0 + outside if grows_outside else np.ones(n)
    return rng.normal(0.0, sigma), outside


def test_spread_and_residual_add_as_independent_errors():
    stated = stated_uncertainty(np.array([0.0, 0.6, 0.6]), 0.8, np.array([0.0, 0.0, 0.5]), outside_weight=1.0)
    assert stated == pytest.approx([0.8, 1.0, np.hypot(0.6, 1.2)])


@pytest.mark.parametrize("grows_outside", [False, True])
def test_the_outside_weight_is_what_the_out_of_fold_errors_show(grows_outside):
    errors, outside = out_of_fold_errors(grows_outside)
    spread = np.zeros(len(errors))
    weight, scale = fit_uncertainty(errors, np.zeros(len(errors)), spread, 1.0, outside, coverage=0.68)
    if grows_outside:
        assert weight == 1.0
    else:
        assert weight <= 0.1
    stated = scale * stated_uncertainty(spread, 1.0, outside, weight)
    assert np.mean(np.abs(errors) <= stated) == pytest.approx(0.68, abs=0.002)
    # Essays far outside the range are covered about as often as the others: the interval widens only as needed.
    far = outside > 1.0
    assert np.mean(np.abs(errors[far]) <= stated[far]) == pytest.approx(0.68, abs=0.06)


def test_unscaled_uncertainty_keeps_scale_one():
    errors, outside = out_of_fold_errors(True)
    weight, scale = fit_uncertainty(errors, np.zeros(len(errors)), np.zeros(len(errors)), 1.0, outside, coverage=0)
    assert scale == 1.0 and weight in OUTSIDE_WEIGHTS


def test_the_ridge_member_stops_a_band_beyond_the_training_bands():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 3))
    y = np.clip(6.0 + 1.5 * x[:, 0], 4.0, 8.0)
    member = RidgeMember(alpha=1.0, use_style=False).fit(Features(table=x), y, np.ones(len(y)))
    far = np.array([[-40.0, 0, 0], [40.0, 0, 0], [0.5, 0, 0]])
    predicted = member.predict(Features(table=far))
    assert predicted[0] == pytest.approx(4.0 - RIDGE_BAND_MARGIN)
    assert predicted[1] == pytest.approx(8.0 + RIDGE_BAND_MARGIN)
    assert 6.0 < predicted[2] < 7.5  # inside the range it is the ridge's own prediction


def test_a_format_3_scorer_predicts_what_it_predicted_when_saved(tmp_path):
    records, _ = load_training_set()
    scorer = train_scorer(records[::25], ScorerConfig(**TINY))
    sample = records[3::150]
    questions, essays = [r.question for r in sample], [r.essay for r in sample]
    scorer.save(tmp_path / "new")
    state = pickle.loads((tmp_path / "new" / "model.pkl").read_bytes())
    # What format 3 saved: no outside weight, no way of adding the terms, a ridge member without limits.
    for key in ("outside_weight", "uncertainty_terms"):
        del state[key]
    del state["members"][0].band_limits
    state["format_version"] = 3
    (tmp_path / "new" / "model.pkl").write_bytes(pickle.dumps(state))
    loaded = load_scorer(tmp_path / "new")
    assert (loaded.uncertainty_terms, loaded.outside_weight) == ("sum", 1.0)
    features = loaded.features(questions, essays)
    raw = np.stack([m.predict(features) for m in loaded.members])
    outside = loaded._outside_training_range(features.table)
    bands, spread = loaded._bands_and_spread(raw, outside, loaded.guard.penalties(features.table, features.names))
    expected = loaded.uncertainty_scale * (spread + loaded.oof_rmse * (1.0 + outside))
    got = loaded.predict(questions, essays, features=features)
    assert np.allclose([p.band for p in got], bands) and np.allclose([p.uncertainty for p in got], expected)
