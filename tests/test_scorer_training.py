"""Training a scorer on a tiny dataset in seconds: save, load, same predictions, uncertainty present."""

import pickle

import numpy as np
import pytest

from rl.data import load_training_set
from rl.scorer import FAMILIES, ScorerConfig, evaluate, load_scorer, train_scorer

TINY = dict(cv_folds=3, seeds=(0,), pca_components=8, lgbm_estimators=40, tfidf_max_features=5000)


@pytest.fixture(scope="module")
def tiny_records():
    records, _ = load_training_set()
    # Every 30th essay: ~60 essays across the whole band range.
    return records[::30]


@pytest.fixture(scope="module")
def trained(tiny_records):
    calls = []
    scorer = train_scorer(tiny_records, ScorerConfig(**TINY), progress=lambda d, t, m: calls.append((d, t, m)))
    return scorer, calls


def test_training_reports_progress_and_metrics(trained, tiny_records):
    scorer, calls = trained
    assert calls and calls[-1][0] == calls[-1][1]
    assert scorer.training_info["n"] == len(tiny_records)
    assert set(scorer.training_info["oof"]) >= {"qwk", "mae", "rmse", "pearson"}
    assert scorer.training_info["calibration"] == scorer.calibration.describe()
    assert scorer.calibration.method == "stretch" and 1.0 <= scorer.calibration.stretch <= 2.0
    assert scorer.uncertainty_scale > 0


def test_predictions_are_clipped_bands_with_uncertainty(trained, tiny_records):
    scorer, _ = trained
    predictions = scorer.predict([r.question for r in tiny_records[:8]], [r.essay for r in tiny_records[:8]])
    assert len(predictions) == 8
    assert all(0.0 <= p.band <= 9.0 for p in predictions)
    assert all(p.uncertainty > 0 for p in predictions)
    # Not rounded to half bands.
    assert any(abs(p.band * 2 - round(p.band * 2)) > 1e-6 for p in predictions)


def test_save_and_load_predict_the_same_values(trained, tiny_records, tmp_path):
    scorer, _ = trained
    questions = [r.question for r in tiny_records[:6]]
    essays = [r.essay for r in tiny_records[:6]]
    before = scorer.predict(questions, essays)
    scorer.save(tmp_path / "scorer")
    loaded = load_scorer(tmp_path / "scorer")
    after = loaded.predict(questions, essays)
    assert np.allclose([p.band for p in before], [p.band for p in after], atol=1e-9)
    assert np.allclose([p.uncertainty for p in before], [p.uncertainty for p in after], atol=1e-9)
    assert loaded.predict_band(questions[0], essays[0]) == pytest.approx(before[0].band, abs=1e-9)


def test_a_scorer_saved_in_an_older_format_is_refused_with_a_way_out(trained, tmp_path):
    scorer, _ = trained
    scorer.save(tmp_path / "scorer")
    state = pickle.loads((tmp_path / "scorer" / "model.pkl").read_bytes())
    state["format_version"] = 1  # features of the six-layer MiniLM: they would silently mean something else now
    (tmp_path / "scorer" / "model.pkl").write_bytes(pickle.dumps(state))
    with pytest.raises(ValueError, match=r"has format 1, this code reads formats 2, 3, 4, 5: retrain it"):
        load_scorer(tmp_path / "scorer")


def test_training_learns_something(trained, tiny_records):
    scorer, _ = trained
    metrics = evaluate(scorer, tiny_records)
    # In-sample on 60 essays the model must at least rank essays the right way round.
    assert metrics["pearson"] > 0.3
    assert metrics["n"] == len(tiny_records)


@pytest.mark.parametrize("family", ["judge", "tfidf_ridge"])
def test_other_families_train_and_round_trip(family, tiny_records, tmp_path):
    scorer = train_scorer(tiny_records, ScorerConfig(family=family, **TINY))
    first = scorer.predict([tiny_records[0].question], [tiny_records[0].essay])[0]
    scorer.save(tmp_path / family)
    again = load_scorer(tmp_path / family).predict([tiny_records[0].question], [tiny_records[0].essay])[0]
    assert first.band == pytest.approx(again.band, abs=1e-9)
    assert 0.0 <= first.band <= 9.0


def test_unknown_family_is_refused():
    assert "judge" in FAMILIES
    with pytest.raises(ValueError):
        ScorerConfig(family="magic")
