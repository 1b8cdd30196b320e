"""The `edits` export (CSV: one row per judged change with its votes and consensus) and the `edits_dpo` export (TRL
prompt/chosen/rejected per sentence), by command and on the round page."""

import csv
import io

import pyarrow.parquet as pq
import pytest
from django.core.management import call_command
from rating_helpers import JUDGED_PAIRS, rate_judged_pairs

from labeling.models import EditVerdict

Q, ORIGINAL, REWRITE, _, _ = JUDGED_PAIRS


@pytest.fixture
def rated(db):
    return rate_judged_pairs()


def test_edits_csv_has_a_row_per_judged_change(rated, tmp_path):
    EditVerdict.objects.filter(position=2).update(gold_expected="original")
    call_command("export_dataset", "--format", "edits", "--output", str(tmp_path / "edits.csv"))
    rows = list(csv.DictReader((tmp_path / "edits.csv").open(encoding="utf-8")))
    essay_id, rewrite_id = rated[0].essay_id, rated[0].pk
    assert [
        (r["position"], r["before"], r["after"], r["rewrite_better"], r["original_better"], r["same"], r["consensus"])
        for r in rows
    ] == [
        ("0", "goverment", "government", "2", "0", "0", "rewrite"),
        ("1", "believes", "believe", "1", "0", "1", ""),
        ("2", "is", "are", "0", "2", "0", "original"),
    ]
    assert {(r["essay_id"], r["rewrite_id"], r["round"], r["question"]) for r in rows} == {
        (str(essay_id), str(rewrite_id), "1", Q)
    }
    assert [(r["sentence_before"], r["sentence_after"]) for r in rows][1] == (
        "Many people believes it.",
        "Many people believe it.",
    )
    assert [r["gold_expected"] for r in rows] == ["", "", "original"]
    call_command("export_dataset", "--format", "edits", "--output", str(tmp_path / "t.csv"), "--split", "test")
    assert list(csv.DictReader((tmp_path / "t.csv").open(encoding="utf-8"))) == []


def test_edits_dpo_is_trl_preference_pairs_per_sentence(rated, tmp_path, admin_client):
    call_command("export_dataset", "--format", "edits_dpo", "--output", str(tmp_path / "edits.parquet"))
    table = pq.read_table(tmp_path / "edits.parquet")
    assert table.column_names == ["prompt", "chosen", "rejected"]
    assert table.to_pylist() == [
        {
            "prompt": "The goverment should act now.",
            "chosen": "The government should act now.",
            "rejected": "The goverment should act now.",
        },
        {"prompt": "Pollution is bad.", "chosen": "Pollution is bad.", "rejected": "Pollution are bad."},
    ]
    response = admin_client.get("/rounds/1/export/edits/")
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    assert next(csv.reader(io.StringIO(body)))[:4] == ["essay_id", "rewrite_id", "round", "position"]
