"""Each import format is detected from its header and stored faithfully."""

import csv
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command

from labeling.corpus.formats import resolve_format
from labeling.corpus.importers import import_file
from labeling.models import Essay, Prompt

pytestmark = pytest.mark.django_db


def write_csv(path, header, rows):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def run_import(*args) -> str:
    out = StringIO()
    call_command("import_essays", *map(str, args), stdout=out, stderr=StringIO())
    return out.getvalue()


def test_chillies_dirty_bands_below_4_and_leaky_evaluation(tmp_path):
    path = write_csv(
        tmp_path / "chillies.csv",
        ["prompt", "essay", "evaluation", "band"],
        [
            ["Q one?", "First essay text.", "**Overall band 6.5**", "6.5\r\r\r"],
            ["Q one?", "Second essay text.", "Band 4", "4\n\n\r"],
            ["Q two?", "Third essay text.", "Below 4", "<4"],
        ],
    )
    output = run_import(path)
    assert "imported 3" in output and "0 duplicate, 0 rejected" in output

    first, second, third = Essay.objects.order_by("origin_row")
    assert (first.band, first.band_below_4, first.split) == (Decimal("6.5"), False, "train")
    assert first.leaky_evaluation == "**Overall band 6.5**"
    assert second.band == Decimal("4.0")
    # "<4" is its own fact: no band, below_4 set; never 4.0, never dropped.
    assert (third.band, third.band_below_4) == (None, True)
    assert first.origin == "chillies:chillies.csv"
    # Line numbers are where each record starts; the second record's band spans lines 3-5.
    assert [e.origin_row for e in (first, second, third)] == [2, 3, 6]


def test_tfcs_keeps_the_file_split_and_stores_criteria(tmp_path):
    header = (
        "essay,overall,question,task_type,source,split,task_response,coherence,lexical,grammar,"
        "word_count,normalized_text_hash,id"
    )
    path = write_csv(
        tmp_path / "tfcs.csv",
        header.split(","),
        [
            ["Test essay.", "7.0", "Q?", "task2", "huggingface", "test", "", "", "", "", "2", "abc", "17"],
            [
                "Train essay.",
                "5.5",
                "Q?",
                "task2",
                "huggingface",
                "train",
                "6.5",
                "5.5",
                "5.0",
                "5.5",
                "2",
                "def",
                "18",
            ],
        ],
    )
    run_import(path)
    test_essay = Essay.objects.get(origin_id="17")
    train_essay = Essay.objects.get(origin_id="18")
    assert (test_essay.split, test_essay.band, test_essay.task_response) == ("test", Decimal("7.0"), None)
    assert train_essay.split == "train"
    assert (train_essay.task_response, train_essay.coherence, train_essay.lexical, train_essay.grammar) == (
        Decimal("6.5"),
        Decimal("5.5"),
        Decimal("5.0"),
        Decimal("5.5"),
    )


def test_duwuonline_goes_to_the_pool_unscored(tmp_path):
    path = write_csv(
        tmp_path / "duwu.csv", ["", "question", "paragraph"], [["0", "Q?", "An essay.\nSecond paragraph."]]
    )
    run_import(path)
    essay = Essay.objects.get()
    assert (essay.split, essay.band, essay.band_below_4, essay.origin_id) == ("pool", None, False, "0")
    assert essay.text == "An essay.\nSecond paragraph."


def test_scorer_csv_decodes_newline_tokens_and_split_option_overrides(tmp_path):
    path = write_csv(
        tmp_path / "scores.csv",
        ["id", "question", "essay", "score", "timestamp", "iteration", "source"],
        [["a1", "Q?", "Para one.<NL><NL>Para two.", "6", "2024-01-01T00:00:00", "0", "seed"]],
    )
    run_import(path, "--split", "val")
    essay = Essay.objects.get()
    assert essay.text == "Para one.\n\nPara two."
    assert (essay.band, essay.split, essay.origin, essay.origin_id) == (Decimal("6.0"), "val", "seed", "a1")


def test_scorer_jsonl_is_detected(tmp_path):
    path = tmp_path / "scores.jsonl"
    records = [
        {"id": "x", "question": "Q?", "essay": "One<NL>two.", "score": 7.5, "timestamp": "", "iteration": 1},
        {"id": "y", "question": "Q?", "essay": "Low essay.", "score": "<4", "timestamp": "", "iteration": 1},
    ]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    run_import(path)
    assert dict(Essay.objects.values_list("origin_id", "band")) == {"x": Decimal("7.5"), "y": None}
    assert Essay.objects.get(origin_id="y").band_below_4
    assert Essay.objects.get(origin_id="x").split == "train"


def test_prompts_are_deduplicated_by_normalised_text(tmp_path):
    Prompt.objects.create(text="Some people think X.   Discuss.")
    path = write_csv(
        tmp_path / "duwu.csv",
        ["", "question", "paragraph"],
        [["0", "some people think x. discuss.", "Essay A."], ["1", "Some people think X.\nDiscuss.", "Essay B."]],
    )
    summary = import_file(path)
    assert summary.prompts_created == 0
    assert Prompt.objects.count() == 1
    assert set(Essay.objects.values_list("prompt__text", flat=True)) == {"Some people think X.   Discuss."}


@pytest.mark.parametrize(
    ("relative_path", "expected"),
    [
        ("chillies_clean/test.csv", "tfcs"),
        ("raw/chillies_gpt_eval_test.csv", "chillies"),
        ("raw/duwuonline_just_tasks.csv", "duwuonline"),
    ],
)
def test_bundled_files_are_detected(relative_path, expected):
    path = settings.BUNDLED_DATA_DIR / relative_path
    assert resolve_format(None, path, path.read_text(encoding="utf-8")) == expected


def test_bundled_duwuonline_imports_in_seconds(tmp_path):
    import time

    started = time.monotonic()
    summary = import_file(settings.BUNDLED_DATA_DIR / "raw" / "duwuonline_just_tasks.csv")
    elapsed = time.monotonic() - started
    # 1,912 rows: 12 repeat an earlier row, 27 are Task 1 reports (rl/task_type.py) kept out of the pool.
    assert (summary.imported, summary.duplicates, summary.task1_skipped, len(summary.rejected)) == (1873, 12, 27, 0)
    assert Essay.objects.filter(split="pool").count() == 1873
    assert elapsed < 20, f"import took {elapsed:.1f}s"
