"""Bad rows are rejected with line and reason (and nothing is imported); bad files get a one-line error."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from labeling.models import Essay, Prompt

pytestmark = pytest.mark.django_db

SCORER_HEADER = "id,question,essay,score,timestamp,iteration,source\n"
GOOD_ROW = 'ok1,Q?,"A fine essay.",6.5,,0,seed\n'


def import_failure(path, *options) -> tuple[str, str]:
    """(CommandError message, stderr) of an import that must fail without writing anything."""
    stderr = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("import_essays", str(path), *options, stdout=StringIO(), stderr=stderr)
    message = str(caught.value)
    assert "\n" not in message, "the error must be one line"
    assert "Traceback" not in message
    assert Essay.objects.count() == 0 and Prompt.objects.count() == 0
    return message, stderr.getvalue()


@pytest.mark.parametrize(
    ("bad_row", "reason"),
    [
        ('bad,Q?,"   ",6,,0,seed\n', "empty essay"),
        ('bad,Q?,"Some essay.",six,,0,seed\n', "unparseable band 'six'"),
        ('bad,Q?,"Some essay.",9.5,,0,seed\n', "band 9.5 is outside 0-9"),
        ('bad,Q?,"Some essay.",-1,,0,seed\n', "band -1 is outside 0-9"),
        ('bad,Q?,"Some essay.",6.3,,0,seed\n', "band 6.3 is not a multiple of 0.5"),
        ('bad,Q?,"Some essay.",,,0,seed\n', "missing band"),
        ('bad,Q?,"Some essay."\n', "3 fields where the header has 7"),
    ],
)
def test_a_bad_row_is_reported_with_its_line_and_nothing_is_imported(tmp_path, bad_row, reason):
    path = tmp_path / "scores.csv"
    path.write_text(SCORER_HEADER + GOOD_ROW + bad_row)
    message, stderr = import_failure(path)
    assert "nothing imported: 1 of 2 rows rejected" in message
    assert f"line 3: {reason}" in message
    assert f"rejected line 3: {reason}" in stderr


def test_bad_encoding_in_one_row_is_rejected_with_its_line(tmp_path):
    path = tmp_path / "scores.csv"
    path.write_bytes((SCORER_HEADER + GOOD_ROW).encode() + 'bad,Q?,"Caf\xe9 essay.",6,,0,seed\n'.encode("latin-1"))
    message, _ = import_failure(path)
    assert "line 3: bad encoding (not UTF-8)" in message


def test_every_rejected_row_is_listed_with_the_line_its_record_starts_on(tmp_path):
    path = tmp_path / "scores.csv"
    path.write_text(
        SCORER_HEADER
        + 'a,Q?,"Multi\nline\nessay.",6,,0,seed\n'  # lines 2-4
        + 'b,Q?,"",6,,0,seed\n'  # line 5
        + 'c,Q?,"Essay c.",10,,0,seed\n'  # line 6
    )
    message, stderr = import_failure(path)
    assert "2 of 3 rows rejected" in message
    assert stderr.splitlines() == ["rejected line 5: empty essay", "rejected line 6: band 10 is outside 0-9"]


def test_missing_column_in_the_header(tmp_path):
    path = tmp_path / "scores.csv"
    path.write_text("id,question,essay,timestamp\nx,Q?,Essay.,\n")
    message, _ = import_failure(path, "--format", "scorer_csv")
    assert "missing column(s) score for format scorer_csv" in message


def test_missing_key_in_a_jsonl_row(tmp_path):
    path = tmp_path / "scores.jsonl"
    path.write_text(json.dumps({"id": "x", "question": "Q?", "essay": "Essay."}) + "\n")
    message, _ = import_failure(path)
    assert "line 1: missing column(s) score" in message


def test_invalid_json_line(tmp_path):
    path = tmp_path / "scores.jsonl"
    good = {"id": "x", "question": "Q?", "essay": "Essay.", "score": 6}
    path.write_text(json.dumps(good) + '\n{"id": "y", "essay": \n')
    message, _ = import_failure(path)
    assert "line 2: invalid JSON" in message


def test_broken_quoting(tmp_path):
    path = tmp_path / "hand_made.csv"
    path.write_text(SCORER_HEADER + GOOD_ROW + 'x,Q?,"An essay with "quoted" words",6,,0,seed\n')
    message, _ = import_failure(path)
    assert "line 3: broken CSV quoting" in message


def test_unterminated_quote(tmp_path):
    path = tmp_path / "hand_made.csv"
    path.write_text(SCORER_HEADER + 'x,Q?,"An essay that never ends,6,,0,seed\n' + GOOD_ROW)
    message, _ = import_failure(path)
    assert "broken CSV quoting" in message


def test_binary_file(tmp_path):
    path = tmp_path / "model.bin"
    path.write_bytes(bytes(range(256)) * 64)
    message, _ = import_failure(path)
    assert "binary file" in message


def test_non_utf8_file_without_nul_bytes(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("pr\xe9mpt,essay\n".encode("latin-1"))
    message, _ = import_failure(path)
    assert "not UTF-8" in message


@pytest.mark.parametrize("content", [b"", b"\n\n  \n"])
def test_empty_file(tmp_path, content):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    message, _ = import_failure(path)
    assert "the file is empty" in message


def test_missing_file(tmp_path):
    message, _ = import_failure(tmp_path / "nope.csv")
    assert "no such file" in message


def test_unknown_header(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("name,age\nann,3\n")
    message, _ = import_failure(path)
    assert "cannot tell the format" in message and "--format" in message


def test_ten_megabyte_essay_in_csv(tmp_path):
    path = tmp_path / "huge.csv"
    path.write_text(SCORER_HEADER + f'x,Q?,"{"word " * 2_000_000}",6,,0,seed\n')
    message, _ = import_failure(path)
    assert "line 2: a field is longer than" in message


def test_ten_megabyte_essay_in_jsonl(tmp_path):
    path = tmp_path / "huge.jsonl"
    path.write_text(json.dumps({"id": "x", "question": "Q?", "essay": "word " * 2_000_000, "score": 6}) + "\n")
    message, _ = import_failure(path)
    assert "line 1: essay has 9,999,999 characters (limit 50,000)" in message


def test_skip_invalid_imports_the_valid_rows_and_still_reports_the_rest(tmp_path):
    path = tmp_path / "scores.csv"
    path.write_text(SCORER_HEADER + GOOD_ROW + 'bad,Q?,"Other essay.",11,,0,seed\n')
    out, err = StringIO(), StringIO()
    call_command("import_essays", str(path), "--skip-invalid", stdout=out, stderr=err)
    assert "imported 1 (train 1), 0 duplicate, 1 rejected" in out.getvalue()
    assert "rejected line 3: band 11 is outside 0-9" in err.getvalue()
    assert list(Essay.objects.values_list("origin_id", flat=True)) == ["ok1"]
