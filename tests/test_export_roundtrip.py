"""Exports: scorer_csv and jsonl import back to the same essays and scores; parquet and dpo keep their columns;
human labels appear with their round; files are replaced atomically."""

import csv
from decimal import Decimal
from io import StringIO

import pyarrow.parquet as pq
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rating_helpers import make_items, make_raters, rate_assignment

from labeling.corpus import exporters
from labeling.models import Essay, Prompt, Rating
from labeling.rating.actions import approve_ratings, reject_rating
from labeling.rating.assignment import claim_next

pytestmark = pytest.mark.django_db


@pytest.fixture
def corpus():
    first = Prompt.objects.create(text="Some think X.\nDiscuss both views.")
    second = Prompt.objects.create(text="Is Y good?")
    Essay.objects.create(
        prompt=first, text='Para one.\n\nPara two, with a "quote".', origin="t", split="train", band=Decimal("6.5")
    )
    Essay.objects.create(prompt=first, text="Weak essay.", origin="t", split="train", band_below_4=True)
    Essay.objects.create(prompt=second, text="Val essay, ünïcode.", origin="t", split="val", band=Decimal("9.0"))
    Essay.objects.create(prompt=None, text="No prompt here.", origin="t", split="train", band=Decimal("0.0"))
    Essay.objects.create(prompt=second, text="Pool essay.", origin="t", split="pool")  # no band: not exported


def snapshot():
    return sorted(
        (essay.text, essay.band, essay.band_below_4, essay.question) for essay in Essay.objects.select_related("prompt")
    )


def empty_database():
    Essay.objects.all().delete()
    Prompt.objects.all().delete()


@pytest.mark.parametrize("fmt", ["scorer_csv", "jsonl"])
def test_export_then_import_reproduces_the_essays_and_scores(corpus, tmp_path, fmt):
    Essay.objects.filter(split="pool").delete()
    before = snapshot()
    output = tmp_path / f"export.{fmt}"
    out = StringIO()
    call_command("export_dataset", "--format", fmt, "--output", str(output), stdout=out)
    assert "wrote 4 rows" in out.getvalue()

    empty_database()
    call_command("import_essays", str(output), stdout=StringIO())
    assert snapshot() == before


def test_scorer_csv_has_exactly_the_seed_columns_and_one_line_per_record(corpus, tmp_path):
    output = tmp_path / "export.csv"
    exporters.export_dataset("scorer_csv", output)
    lines = output.read_text().splitlines()
    assert lines[0] == "id,question,essay,score,timestamp,iteration,source,below_4,split"
    assert len(lines) == 1 + 4
    [para] = [line for line in lines if "Para one.<NL><NL>Para two" in line]
    assert ",6.5," in para and para.endswith(",false,train")
    # A band known only as "below 4": a number in the score column, the flag beside it.
    [weak] = [line for line in lines if "Weak essay." in line]
    assert ",3.5," in weak and weak.endswith(",true,train") and "<4" not in weak


def test_jsonl_keeps_the_split(corpus, tmp_path):
    output = tmp_path / "export.jsonl"
    exporters.export_dataset("jsonl", output)
    empty_database()
    call_command("import_essays", str(output), stdout=StringIO())
    assert dict(Essay.objects.values_list("text", "split"))["Val essay, ünïcode."] == "val"


def test_split_option_exports_one_split(corpus, tmp_path):
    output = tmp_path / "val.csv"
    assert exporters.export_dataset("scorer_csv", output, split="val") == 1


def test_parquet_has_typed_columns(corpus, tmp_path):
    output = tmp_path / "export.parquet"
    exporters.export_dataset("parquet", output)
    table = pq.read_table(output)
    assert table.column_names == [
        "id",
        "question",
        "essay",
        "score",
        "below_4",
        "timestamp",
        "iteration",
        "source",
        "split",
    ]
    rows = {row["essay"]: row for row in table.to_pylist()}
    assert rows["Weak essay."]["score"] == 3.5 and rows["Weak essay."]["below_4"] is True
    assert rows["Val essay, ünïcode."]["score"] == 9.0


def test_dpo_without_ratings_is_an_empty_file_with_trl_columns(corpus, tmp_path):
    output = tmp_path / "dpo.parquet"
    assert exporters.export_dataset("dpo", output) == 0
    table = pq.read_table(output)
    assert table.column_names == ["prompt", "chosen", "rejected"] and table.num_rows == 0


def rate_one_pair_in_round(number: int, bands: list[tuple[float, float]], prefix: str) -> list[Rating]:
    """A real round with one rating item, rated by one new rater per (original, rewrite) band pair."""
    make_items(1, k=len(bands), round_number=number, tag=f"round{number}")
    raters = make_raters(len(bands), prefix=prefix)
    return [
        rate_assignment(claim_next(r), original, rewrite) for r, (original, rewrite) in zip(raters, bands, strict=True)
    ]


def human_rows_of(path) -> list[dict]:
    return [row for row in csv.DictReader(path.open(newline="")) if row["id"].startswith("rating-")]


def test_human_labels_are_exported_by_round_with_round_and_rater(corpus, tmp_path):
    second = rate_one_pair_in_round(2, [(5.0, 5.5), (6.0, 6.0)], prefix="second")
    third = rate_one_pair_in_round(3, [(6.5, 7.0), (7.0, 7.0), (3.0, 3.0)], prefix="third")
    (reviewer,) = make_raters(1, prefix="reviewer")
    approve_ratings(Rating.objects.exclude(pk=third[2].pk), reviewer)
    reject_rating(third[2].pk, reviewer)  # rejected: never a label

    exported = {}
    for number in (2, 3):
        output = tmp_path / f"round{number}.csv"
        call_command("export_dataset", "--format", "scorer_csv", "--output", str(output), "--round", str(number))
        exported[number] = human_rows_of(output)

    def expected(ratings, number):
        return sorted(
            (f"rating-{r.pk}-{side}", f"{band:.1f}", str(number), f"rater:{r.rater.username}/round:{number}")
            for r in ratings
            for side, band in (("original", r.band_original), ("rewrite", r.band_rewrite))
        )

    for number, ratings in ((2, second), (3, third[:2])):
        got = sorted((row["id"], row["score"], row["iteration"], row["source"]) for row in exported[number])
        assert got == expected(ratings, number)


def test_a_failed_export_leaves_the_previous_file_and_no_temporary_file(corpus, tmp_path, monkeypatch):
    output = tmp_path / "export.csv"
    output.write_text("previous export\n")

    def broken_rows(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(exporters, "scorer_rows", broken_rows)
    with pytest.raises(RuntimeError):
        exporters.export_dataset("scorer_csv", output)
    assert output.read_text() == "previous export\n"
    assert [p.name for p in tmp_path.iterdir()] == ["export.csv"]


def test_unknown_round_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="there is no round 42"):
        call_command("export_dataset", "--format", "jsonl", "--output", str(tmp_path / "x.jsonl"), "--round", "42")
