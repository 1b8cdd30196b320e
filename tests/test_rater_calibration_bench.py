"""bench/rater_calibration.py runs end to end on a small training set and ends with its JSON line."""

from bench_helpers import run_bench


def test_the_benchmark_reports_mae_before_and_after_per_scenario_and_number_of_labels():
    result = run_bench(
        "rater_calibration.py", "--family", "tfidf_ridge", "--max-train", "200", "--draws", "5", "--labels", "20,100"
    )
    assert result["n_train"] == 200 and result["n_test"] == 486 and result["draws"] == 5
    assert {k for k in result if "/" in k} == {
        f"{name} / {n}" for name in ("published scale", "raters +0.5", "raters +1.0, x1.3") for n in (20, 100)
    }
    shifted = result["raters +1.0, x1.3 / 100"]
    assert shifted["mae_after"] < shifted["mae_before"] - 0.1
    assert 0.0 <= result["published scale / 20"]["worse_share"] <= 1.0
