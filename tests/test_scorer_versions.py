"""Scorer versions on the database: `train_scorer` trains on published bands plus approved human labels, records
metrics and a data snapshot, and `--promote` makes it the scorer the product uses."""

import pytest
from django.core.management import CommandError, call_command
from round_helpers import import_small_corpus

from labeling.models import ModelKind, ModelVersion
from labeling.training.scoring import promoted_scorer, train_scorer_version, training_records


@pytest.mark.django_db
def test_train_scorer_command_creates_and_promotes_a_version(tmp_path, capsys):
    import_small_corpus(tmp_path, train=30, test=6, pool=2)
    call_command("train_scorer", "--promote")

    version = ModelVersion.objects.get(kind=ModelKind.SCORER)
    assert version.is_promoted and version.promotions.count() == 1
    assert version.data_snapshot["published"] == 30 and version.data_snapshot["human_ratings"] == 0
    assert version.metrics["test"]["n"] == 6
    assert version.metrics["embedding_precision"] in ("int8", "bf16", "fp32")  # shown on the Models page
    assert set(version.metrics["perturbations"]) >= {"repeat_paragraph", "shuffle_sentences", "delete_half"}
    assert "Promoted" in capsys.readouterr().out

    _, scorer = promoted_scorer()
    [prediction] = scorer.predict(["Some question"], ["A short essay about cities and cars. It is not long."])
    assert 0.0 <= prediction.band <= 9.0 and prediction.uncertainty > 0


@pytest.mark.django_db
def test_training_reports_the_evaluation_as_a_stage_of_its_own(tmp_path):
    import_small_corpus(tmp_path, train=30, test=6, pool=2)
    reports = []
    train_scorer_version(progress=lambda done, total, message="": reports.append((done, total, message)))
    assert reports[-3:] == [
        (0, 2, "evaluating on 6 test essays"),
        (1, 2, "gaming perturbations on 6 test essays"),
        (2, 2, "evaluated"),
    ]
    assert any(message.startswith("cross-validation") for _, _, message in reports[:-3])


@pytest.mark.django_db
def test_training_records_never_include_test_or_pool_essays(tmp_path):
    import_small_corpus(tmp_path, train=10, test=5, pool=5)
    records, snapshot = training_records()
    assert len(records) == snapshot["published"] == 10
    assert all(r.source.startswith("published:") for r in records)


@pytest.mark.django_db
def test_train_scorer_without_labelled_essays_is_a_clear_error():
    with pytest.raises(CommandError, match="no labelled essays"):
        call_command("train_scorer")
