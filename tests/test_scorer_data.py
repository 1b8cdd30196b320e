"""Loading the scorer's labelled data: no test essay in training, "<4" handled explicitly, the scorer CSV format."""

import csv

from rl.data import BELOW_4_BAND, BELOW_4_WEIGHT, load_test_set, load_training_set, read_scorer_csv
from rl.text import text_hash


def test_training_set_excludes_every_test_essay_and_duplicates():
    records, report = load_training_set()
    test_hashes = {text_hash(r.essay) for r in load_test_set()}
    train_hashes = [text_hash(r.essay) for r in records]
    assert len(set(train_hashes)) == len(train_hashes)
    assert not test_hashes & set(train_hashes)
    assert report.dropped_in_test > 0 and report.dropped_duplicate > 0
    assert sum(report.kept.values()) == len(records)


def test_below_4_is_band_4_with_reduced_weight_or_excluded():
    records, report = load_training_set()
    below = [r for r in records if r.weight == BELOW_4_WEIGHT]
    assert report.below_4_as_4 == len(below) > 0
    assert all(r.band == BELOW_4_BAND and r.source == "chillies_raw" for r in below)
    excluded, report_excluded = load_training_set(below_4="exclude")
    assert report_excluded.below_4_excluded == report.below_4_as_4
    assert len(excluded) == len(records) - len(below)


def test_benchmark_test_set_has_486_labelled_essays():
    test = load_test_set()
    assert len(test) == 486
    assert all(4.0 <= r.band <= 9.0 for r in test)


def test_scorer_csv_format_decodes_newlines_and_skips_unscored(tmp_path):
    path = tmp_path / "scores.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "question", "essay", "score", "timestamp", "iteration", "source"])
        writer.writerow(
            [1, "Discuss both views.", "First paragraph.<NL><NL>Second one.", "6.5", "2024-01-01", 0, "human"]
        )
        writer.writerow([2, "Q", "Unscored essay.", "", "2024-01-01", 0, "human"])
        writer.writerow([3, "Q", "Weak essay.", "<4", "2024-01-01", 1, ""])
    records = read_scorer_csv(path)
    assert [r.band for r in records] == [6.5, BELOW_4_BAND]
    assert records[0].essay == "First paragraph.\n\nSecond one."
    assert records[0].source == "human" and records[1].source == "scorer_csv"
    assert records[1].weight == BELOW_4_WEIGHT
    assert [r.band for r in load_test_set(path)] == [6.5, BELOW_4_BAND]
