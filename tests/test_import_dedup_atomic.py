"""Duplicates are skipped and counted, a file is imported whole or not at all, and the bundled demo keeps the
benchmark test set out of every other split."""

from io import StringIO

import pytest
from django.core.management import call_command

from labeling.corpus.importers import import_bundled_demo, import_file
from labeling.models import Essay, Prompt

pytestmark = pytest.mark.django_db

HEADER = "id,question,essay,score,timestamp,iteration,source\n"


def write_scores(path, rows):
    path.write_text(HEADER + "".join(f'{i},"{q}","{text}",{score},,0,seed\n' for i, q, text, score in rows))
    return path


def test_duplicates_within_the_file_and_in_the_database_are_skipped_and_counted(tmp_path):
    first = write_scores(tmp_path / "a.csv", [("1", "Q?", "Essay one.", 6), ("2", "Q?", "Essay two.", 7)])
    assert import_file(first).imported == 2

    second = write_scores(
        tmp_path / "b.csv",
        [
            ("3", "Q?", "ESSAY   ONE.", 5),  # same normalised text as an essay in the database
            ("4", "Q?", "Essay three.", 5),
            ("5", "Q?", "essay three.", 6),  # same as the row above
        ],
    )
    out = StringIO()
    call_command("import_essays", str(second), stdout=out)
    assert "imported 1 (train 1), 2 duplicate, 0 rejected" in out.getvalue()
    assert Essay.objects.count() == 3
    # The first copy wins: the database one keeps its band.
    assert Essay.objects.get(origin_id="1").band == 6


def test_reimporting_a_file_adds_nothing(tmp_path):
    path = write_scores(tmp_path / "a.csv", [("1", "Q?", "Essay one.", 6), ("2", "Q2?", "Essay two.", 7)])
    import_file(path)
    again = import_file(path)
    assert (again.imported, again.duplicates, again.prompts_created) == (0, 2, 0)
    assert (Essay.objects.count(), Prompt.objects.count()) == (2, 2)


def test_dry_run_reports_without_writing(tmp_path):
    path = write_scores(tmp_path / "a.csv", [("1", "Q?", "Essay one.", 6), ("2", "Q?", "essay one.", 7)])
    out = StringIO()
    call_command("import_essays", str(path), "--dry-run", stdout=out)
    assert "would import 1 (train 1), 1 duplicate, 0 rejected" in out.getvalue()
    assert (Essay.objects.count(), Prompt.objects.count()) == (0, 0)


def test_a_failure_while_writing_rolls_back_the_whole_file(tmp_path, monkeypatch):
    path = write_scores(tmp_path / "a.csv", [("1", "New question?", "Essay one.", 6)])

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    # Prompts are written first; the essays' insert then fails.
    monkeypatch.setattr(Essay.objects, "bulk_create", fail)
    with pytest.raises(RuntimeError):
        import_file(path)
    assert Prompt.objects.count() == 0


def test_bundled_demo_keeps_test_essays_out_of_other_splits_and_is_idempotent():
    summaries = import_bundled_demo()
    assert [(s.format, s.imported, s.duplicates, len(s.rejected)) for s in summaries] == [
        ("tfcs", 486, 0, 0),
        ("tfcs", 1454, 0, 0),
        # 26 overlap test.csv, 72 val.csv, 4 repeat within the file (data/README.md).
        ("chillies", 389, 102, 0),
        ("duwuonline", 1873, 12, 0),  # and 27 Task 1 reports skipped
    ]
    assert summaries[-1].task1_skipped == 27
    assert Essay.objects.filter(split="test").count() == 486
    test_hashes = set(Essay.objects.filter(split="test").values_list("text_hash", flat=True))
    assert not test_hashes & set(Essay.objects.exclude(split="test").values_list("text_hash", flat=True))
    # 38 raw rows say "<4"; those not shadowed by a clean copy keep it as their own fact.
    assert Essay.objects.filter(band_below_4=True, band__isnull=True, origin__startswith="chillies:").exists()
    assert not Essay.objects.filter(split="pool", band__isnull=False).exists()

    again = import_bundled_demo()
    assert sum(s.imported for s in again) == 0
    assert Essay.objects.count() == 486 + 1454 + 389 + 1873
