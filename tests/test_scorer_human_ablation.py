"""The benchmark's ablation: a scorer trained with the raters' labels next to one trained on published bands only."""

from dataclasses import replace

import pytest

from rl.data import load_training_set
from rl.scorer import ScorerConfig, human_label_ablation

TINY = ScorerConfig(cv_folds=0, seeds=(0,), pca_components=8, lgbm_estimators=40)


@pytest.fixture(scope="module")
def records():
    records, _ = load_training_set()
    return records


def test_ablation_trains_with_and_without_human_labels(records):
    published, test = records[::30], records[7::60]
    # Raters who disagree with the published bands on twice as many other essays: the second scorer must learn.
    human = [replace(r, band=9.0 - r.band, source="rater:r1/round:1") for r in records[3::15]]
    # A rater label on a test essay must never reach training.
    human.append(replace(test[0], source="rater:r1/round:1"))
    result = human_label_ablation(published, human, test, TINY)
    assert result["human_labels"] == len(human) - 1
    assert result["human_essays"] == len(human) - 1
    assert set(result["published_only"]) == {"qwk", "mae", "rmse", "pearson"}
    # Inverted labels outnumbering the published ones must pull the ranking apart.
    assert result["with_human"]["pearson"] < result["published_only"]["pearson"] - 0.1


def test_ablation_without_usable_human_labels_is_refused(records):
    test = records[7::60]
    with pytest.raises(ValueError, match="no human labels outside the test set"):
        human_label_ablation(records[::30], [replace(test[0], source="rater:r1/round:1")], test, TINY)
