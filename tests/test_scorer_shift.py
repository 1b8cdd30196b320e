"""The shift evaluation's slices, interval figures, and the label curves (routing order, rater calibration)."""

import numpy as np
import pytest

from rl.data import load_training_set
from rl.scorer import ScorerConfig
from rl.scorer.evaluation import SHORT_ESSAY_WORDS, TOP_HEAVY_MIN_BAND, interval_figures, shift_slices
from rl.scorer.label_curves import label_savings, rater_calibration_curve, routing_curve
from rl.text import text_hash


@pytest.fixture(scope="module")
def records():
    return load_training_set()[0]


def test_each_slice_tests_on_essays_it_never_trained_on_and_differs_as_it_says(records):
    slices = {piece.name: piece for piece in shift_slices(records)}
    assert set(slices) == {"source", "prompts", "top_heavy", "length"}
    for piece in slices.values():
        assert piece.train and piece.test and piece.shift
        assert not {text_hash(r.essay) for r in piece.train} & {text_hash(r.essay) for r in piece.test}
    assert {r.source for r in slices["source"].test} == {"chillies_raw"}
    assert "chillies_raw" not in {r.source for r in slices["source"].train}
    prompts = slices["prompts"]
    assert not {text_hash(r.question) for r in prompts.train} & {text_hash(r.question) for r in prompts.test}
    assert 0.15 < len(prompts.test) / len(records) < 0.35
    top = slices["top_heavy"]
    assert top.train is prompts.train and min(r.band for r in top.test) >= TOP_HEAVY_MIN_BAND
    assert np.mean([r.band for r in top.test]) > np.mean([r.band for r in prompts.train]) + 0.3
    assert all(len(r.essay.split()) < SHORT_ESSAY_WORDS for r in slices["length"].test)
    assert all(len(r.essay.split()) >= SHORT_ESSAY_WORDS for r in slices["length"].train)


def test_interval_figures():
    figures = interval_figures([5.0, 6.0, 7.0, 8.0], [5.5, 6.0, 5.0, 8.0], [0.5, 0.1, 1.0, 0.2])
    assert figures["coverage"] == 0.75  # 7.0 is 2 bands off, stated 1.0
    assert figures["uncertainty_error_r"] > 0.8
    assert figures["mean_uncertainty"] == pytest.approx(0.45)


def test_label_savings_reads_the_routed_labels_for_the_random_accuracy():
    random = [{"labels": 100, "mae": 1.0}, {"labels": 200, "mae": 0.9}, {"labels": 300, "mae": 0.8}]
    routed = [{"labels": 100, "mae": 1.0}, {"labels": 200, "mae": 0.8}, {"labels": 300, "mae": 0.8}]
    savings = label_savings(routed, random)
    assert [row["labels_routed"] for row in savings] == [100, 150]
    assert savings[1]["saving"] == pytest.approx(0.25)
    worse = [{"labels": 100, "mae": 1.1}, {"labels": 200, "mae": 1.05}, {"labels": 300, "mae": 1.0}]
    behind = label_savings(worse, random)
    assert behind[0]["labels_routed"] == 300 and behind[0]["saving"] == pytest.approx(-2.0)  # needs three times more
    assert behind[1]["labels_routed"] is None  # never reaches MAE 0.9


def test_rater_calibration_removes_a_shift_of_scale_and_leaves_agreeing_labels_alone():
    rng = np.random.default_rng(0)
    y = rng.choice(np.arange(5.0, 9.01, 0.5), size=400)
    predicted = y - 1.2 + rng.normal(0, 0.5, 400)
    curve = rater_calibration_curve(y, predicted, sizes=(20, 100), draws=10)
    assert curve["100"]["mae_before"] > 1.0 and curve["100"]["mae_after"] < 0.6
    agreeing = rater_calibration_curve(y, y + rng.normal(0, 0.5, 400), sizes=(20, 100), draws=10)
    for row in agreeing.values():
        assert row["mae_after"] <= row["mae_before"] + 0.02


def test_the_curve_fits_with_the_selection_it_is_given():
    rng = np.random.default_rng(1)
    y = rng.choice(np.arange(5.0, 9.01, 0.5), size=300)
    agreeing = np.clip(y + rng.normal(0, 0.6, 300), 0.0, 9.0)  # bands as a scorer gives them
    # z = 0 takes any gain over MIN_GAIN (here a slope under 1 pays); an unreachable z leaves every band as it was
    eager = rater_calibration_curve(y, agreeing, sizes=(50,), draws=30, selection_z=0.0)["50"]
    never = rater_calibration_curve(y, agreeing, sizes=(50,), draws=30, selection_z=1e6)["50"]
    assert eager["mae_after"] < eager["mae_before"] - 0.005
    assert never["worse_share"] == 0.0 and never["mae_after"] == pytest.approx(never["mae_before"])


def test_routing_curve_reveals_every_label_in_both_orders(records):
    train, test = records[::20], records[7::90]
    config = ScorerConfig(seeds=(0, 1), pca_components=8, lgbm_estimators=30)
    curve = routing_curve(train, test, config)
    for rows in curve["rows"].values():
        labels = [row["labels"] for row in rows]
        assert labels[0] == round(0.2 * len(train)) and labels[-1] == len(train)
        assert labels == sorted(labels) and len(rows) == 6
    # With every label revealed both orders train the same scorer.
    assert curve["rows"]["routed"][-1]["mae"] == pytest.approx(curve["rows"]["random"][-1]["mae"])
    assert len(curve["savings"]) == 5


def test_shift_evaluation_reports_every_method_the_baseline_and_the_rater_curve(records):
    from rl.scorer.evaluation import shift_evaluation

    config = ScorerConfig(cv_folds=3, seeds=(0, 1), pca_components=8, lgbm_estimators=30, tfidf_max_features=3000)
    report = shift_evaluation(records[::8], config, ("stretch", "ordinal"))
    assert set(report) == {"source", "prompts", "top_heavy", "length"}
    for piece in report.values():
        assert set(piece["methods"]) == {"stretch", "ordinal"}
        for row in piece["methods"].values():
            assert len(row["bands"]) == piece["n_test"] and 0 < row["mae"] < 3
            assert 0 <= row["coverage"] <= 1 and 0 <= row["coverage_unscaled"] <= 1
        assert 0 < piece["ridge"]["mae"] < 3
        assert all(k in {"10", "20", "50", "100"} for k in piece["rater_calibration"])
    with pytest.raises(ValueError, match="must include the configured calibration"):
        shift_evaluation(records[::8], config, ("ordinal",))
