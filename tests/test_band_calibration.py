"""Band calibrations fitted on out-of-fold predictions: monotone, bounded to 0-9, saved and loaded exactly; scorers
saved in the previous format still load with the bands they gave."""

import pickle

import numpy as np
import pytest

from rl.data import load_training_set
from rl.embeddings import EmbedderConfig, SentenceEmbedder
from rl.scorer import ScorerConfig, load_scorer, train_scorer
from rl.scorer.band_calibration import CALIBRATIONS, fit_band_calibration, uncertainty_scale
from rl.scorer.model import recalibrated

TINY = dict(cv_folds=3, seeds=(0, 1), pca_components=8, lgbm_estimators=40)


def compressed_predictions(n=600, seed=0):
    """Bands 4-9 and out-of-fold predictions pulled toward the mean with noise, as the members make them."""
    rng = np.random.default_rng(seed)
    y = rng.choice(np.arange(4.0, 9.01, 0.5), size=n)
    oof = 6.2 + 0.5 * (y - 6.2) + rng.normal(0, 0.6, n)
    doubt = np.abs(rng.normal(0.3, 0.1, n))
    return y, oof, doubt


@pytest.mark.parametrize("method", CALIBRATIONS)
def test_every_calibration_is_monotone_and_bounded(method):
    y, oof, doubt = compressed_predictions()
    calibration = fit_band_calibration(method, y, oof, np.zeros(len(y)), float(y.mean()), doubt)
    grid = np.linspace(-5, 15, 2001)
    for level in (0.0, 0.3, 5.0):  # shrink depends on the doubt: monotone at any one doubt
        bands = calibration.apply(grid, np.full(len(grid), level))
        assert np.all(np.diff(bands) >= -1e-12), method
        assert bands.min() >= 0.0 and bands.max() <= 9.0
    if method != "none":
        # Each method gives back some of the spread the members lost, none makes it wider than the bands'.
        spread = calibration.apply(oof, doubt).std()
        assert oof.std() < spread < y.std() * 1.3, (method, spread)


def test_shrink_withdraws_the_stretch_from_doubtful_essays():
    y, oof, doubt = compressed_predictions()
    calibration = fit_band_calibration("shrink", y, oof, np.zeros(len(y)), 6.2, doubt)
    assert calibration.stretch > 1.0
    sure, unsure = calibration.apply(np.array([7.0]), np.array([0.0])), calibration.apply(np.array([7.0]), [9.0])
    assert sure[0] == pytest.approx(6.2 + calibration.stretch * 0.8)
    assert unsure[0] == pytest.approx(7.0)


def test_uncertainty_scale_makes_the_interval_cover_the_share_asked_for():
    rng = np.random.default_rng(1)
    errors = rng.normal(0, 1.0, 5000)
    scale = uncertainty_scale(errors, np.zeros(5000), np.full(5000, 2.0), coverage=0.68)
    assert scale == pytest.approx(0.5, abs=0.05)  # a 68% interval of N(0, 1) is +- 1, stated 2
    assert np.mean(np.abs(errors) <= 2.0 * scale) == pytest.approx(0.68, abs=0.002)


def test_unknown_calibration_is_refused():
    with pytest.raises(ValueError, match="calibration must be one of"):
        ScorerConfig(calibration="magic")


@pytest.fixture(scope="module")
def tiny():
    records, _ = load_training_set()
    return train_scorer(records[::25], ScorerConfig(**TINY)), records[3::200]


@pytest.mark.parametrize("method", CALIBRATIONS)
def test_calibrations_round_trip_through_save_and_load(tiny, method, tmp_path):
    scorer, sample = tiny
    twin = recalibrated(scorer, method)
    assert twin.training_info["calibration"].split()[0] == method
    questions, essays = [r.question for r in sample], [r.essay for r in sample]
    before = twin.predict(questions, essays)
    loaded = load_scorer(twin.save(tmp_path / method))
    after = loaded.predict(questions, essays)
    assert loaded.config.calibration == method
    assert np.allclose([p.band for p in before], [p.band for p in after], atol=1e-9)
    assert np.allclose([p.uncertainty for p in before], [p.uncertainty for p in after], atol=1e-9)


def test_a_format_2_scorer_loads_with_its_stretch_and_unscaled_uncertainty(tiny, tmp_path):
    scorer, sample = tiny
    old = recalibrated(scorer, "stretch", uncertainty_coverage=0.0)
    old.uncertainty_terms, old.outside_weight = "sum", 1.0  # what scorers added up to format 3
    old._embedder = SentenceEmbedder(EmbedderConfig(precision="float"))  # features before int8 embedding (format 5)
    questions, essays = [r.question for r in sample], [r.essay for r in sample]
    expected = old.predict(questions, essays)
    old.save(tmp_path / "old")
    state = pickle.loads((tmp_path / "old" / "model.pkl").read_bytes())
    calibration = state.pop("calibration")
    del state["uncertainty_scale"]
    state |= {"format_version": 2, "center": calibration.center, "stretch": calibration.stretch}
    for key in ("calibration", "uncertainty_coverage"):
        del state["config"][key]
    # Format-2 files pickled the members under rl.scorer.model (protocol 0 writes module names as plain lines).
    old_pickle = pickle.dumps(state, protocol=0).replace(b"rl.scorer.members\n", b"rl.scorer.model\n")
    assert b"rl.scorer.members" not in old_pickle
    (tmp_path / "old" / "model.pkl").write_bytes(old_pickle)
    loaded = load_scorer(tmp_path / "old")
    got = loaded.predict(questions, essays)
    assert loaded.calibration.describe() == f"stretch {calibration.stretch:.2f}"
    assert np.allclose([p.band for p in expected], [p.band for p in got], atol=1e-9)
    assert np.allclose([p.uncertainty for p in expected], [p.uncertainty for p in got], atol=1e-9)
