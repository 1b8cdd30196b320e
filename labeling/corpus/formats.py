"""The import file formats and reading one file: the published datasets and the scorer format (CSV or JSONL); the
CSV dialect the exports write (write_csv).

Whole-file problems (empty, binary, not UTF-8, broken CSV quoting, unknown header) raise ImportFileError with a one-line
message; a bad row raises RowError, which the importer records as a rejected row.
"""

import csv
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

from labeling.models import Split
from rl.text import BandError, parse_band

MAX_FILE_BYTES = 200 * 1024 * 1024
# IELTS Task 2 essays are 250-500 words (the bundled ones are at most ~4,300 characters).
MAX_ESSAY_CHARS = 50_000
# The seed scorer format wrote newlines inside essays as this token.
NEWLINE_TOKEN = "<NL>"
TRUE_WORDS = {"true", "1", "yes"}
# A text decoded with "surrogateescape" carries undecodable bytes as these code points.
UNDECODABLE = re.compile("[\udc80-\udcff]")


class ImportFileError(Exception):
    """The file as a whole cannot be imported; the message is one line."""


@dataclass(frozen=True)
class ImportFormat:
    name: str
    required_columns: tuple[str, ...]
    default_split: str | None  # None: every row names its split (tfcs) or the file must be imported with --split
    scored: bool  # every row must carry a band
    essay_column: str
    question_column: str
    band_column: str | None = None
    id_column: str | None = None
    split_column: str | None = None  # used when present and no split is forced
    evaluation_column: str | None = None
    criteria_columns: dict[str, str] = field(default_factory=dict)  # Essay field -> column
    decode_newline_token: bool = False


FORMATS = {
    "chillies": ImportFormat(
        name="chillies",
        required_columns=("prompt", "essay", "evaluation", "band"),
        default_split=Split.TRAIN,
        scored=True,
        essay_column="essay",
        question_column="prompt",
        band_column="band",
        evaluation_column="evaluation",
    ),
    "tfcs": ImportFormat(
        name="tfcs",
        required_columns=("essay", "overall", "question", "split"),
        default_split=None,
        scored=True,
        essay_column="essay",
        question_column="question",
        band_column="overall",
        id_column="id",
        split_column="split",
        # Unreliable as published (see data/README.md), stored for completeness.
        criteria_columns={
            "task_response": "task_response",
            "coherence": "coherence",
            "lexical": "lexical",
            "grammar": "grammar",
        },
    ),
    "duwuonline": ImportFormat(
        name="duwuonline",
        required_columns=("question", "paragraph"),
        default_split=Split.POOL,
        scored=False,
        essay_column="paragraph",
        question_column="question",
        id_column="",  # the unnamed pandas index column
    ),
    "scorer_csv": ImportFormat(
        name="scorer_csv",
        required_columns=("id", "question", "essay", "score"),
        default_split=Split.TRAIN,
        scored=True,
        essay_column="essay",
        question_column="question",
        band_column="score",
        id_column="id",
        split_column="split",
        decode_newline_token=True,
    ),
}
# The scorer format as JSON lines: same columns, one object per line.
FORMATS["jsonl"] = replace(FORMATS["scorer_csv"], name="jsonl")
FORMAT_ALIASES = {"scorer": "scorer_csv", "scorer_jsonl": "jsonl"}


@dataclass(frozen=True)
class ParsedRow:
    line: int
    text: str
    question: str
    split: str
    band: Decimal | None
    band_below_4: bool
    criteria: dict[str, Decimal | None]
    evaluation: str
    origin_id: str
    origin: str


# --- reading ------------------------------------------------------------------------------------------------------


def read_text(path: Path) -> str:
    if not path.is_file():
        raise ImportFileError("no such file")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ImportFileError(f"{size:,} bytes is more than the {MAX_FILE_BYTES:,}-byte limit")
    raw = path.read_bytes()
    if not raw.strip():
        raise ImportFileError("the file is empty")
    if b"\x00" in raw:
        raise ImportFileError("a binary file (it contains NUL bytes), not CSV or JSONL text")
    # Undecodable bytes survive as surrogates so the rows holding them can be rejected one by one.
    text = raw.decode("utf-8", errors="surrogateescape").removeprefix("\ufeff")
    first_line = text.split("\n", 1)[0]
    if UNDECODABLE.search(first_line):
        raise ImportFileError("the first line is not UTF-8 text (a binary file or another encoding?)")
    return text


def resolve_format(fmt: str | None, path: Path, text: str) -> str:
    if fmt is not None:
        fmt = FORMAT_ALIASES.get(fmt, fmt)
        if fmt not in FORMATS:
            raise ImportFileError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
        return fmt
    if text.lstrip().startswith("{"):
        return "jsonl"
    header = {name.strip().lower() for name in next(csv.reader([text.split("\n", 1)[0]]), [])}
    # Most specific first: chillies and tfcs both have an "essay" column, as does the scorer format.
    for name in ("chillies", "tfcs", "scorer_csv", "duwuonline"):
        if set(FORMATS[name].required_columns) <= header:
            return name
    raise ImportFileError(
        f"cannot tell the format from the header {sorted(header)}; pass --format ({', '.join(FORMATS)})"
    )


def read_csv(text: str, import_format: ImportFormat) -> list[tuple[int, dict[str, str]]]:
    """(first line of the record, {column: value}) for every non-blank record."""
    # Split on "\n" only, so line numbers match what an editor shows even with stray "\r" inside fields.
    reader = csv.reader(io.StringIO(text, newline="\n"), strict=True)
    try:
        header = [name.strip().lower() for name in next(reader)]
        missing = [column for column in import_format.required_columns if column not in header]
        if missing:
            raise ImportFileError(f"missing column(s) {', '.join(missing)} for format {import_format.name}")
        records = []
        while True:
            start = reader.line_num + 1
            try:
                values = next(reader)
            except StopIteration:
                break
            if not any(value.strip() for value in values):
                continue
            if len(values) != len(header):
                records.append((start, {"__error__": f"{len(values)} fields where the header has {len(header)}"}))
                continue
            records.append((start, dict(zip(header, values, strict=True))))
    except csv.Error as error:
        line = reader.line_num
        if "field larger than field limit" in str(error):
            raise ImportFileError(
                f"line {line}: a field is longer than {csv.field_size_limit():,} characters "
                f"(essays are limited to {MAX_ESSAY_CHARS:,}); is a quote left open?"
            ) from None
        raise ImportFileError(f"line {line}: broken CSV quoting ({error})") from None
    return records


def write_csv(path: Path, columns: list[str], records: Iterable[list]) -> None:
    """A header and one line a record, in the dialect read_csv reads ("\\n" line ends)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(records)


def read_jsonl(text: str) -> list[tuple[int, dict]]:
    records = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            records.append((number, {"__error__": f"invalid JSON ({error.msg})"}))
            continue
        if not isinstance(value, dict):
            records.append((number, {"__error__": "a JSON line must be an object"}))
            continue
        records.append((number, value))
    return records


# --- one row ------------------------------------------------------------------------------------------------------


class RowError(ValueError):
    pass


def clean_text(value, decode_newline_token: bool) -> str:
    text = "" if value is None else str(value)
    if decode_newline_token:
        text = text.replace(NEWLINE_TOKEN, "\n")
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def parse_record(line: int, record: dict, fmt: ImportFormat, forced_split: str | None, origin: str) -> ParsedRow:
    if "__error__" in record:
        raise RowError(record["__error__"])
    missing = [column for column in fmt.required_columns if column not in record]
    if missing:
        raise RowError(f"missing column(s) {', '.join(missing)}")
    # Every field is checked for encoding, including the ones not stored.
    for value in record.values():
        if isinstance(value, str) and UNDECODABLE.search(value):
            raise RowError("bad encoding (not UTF-8)")

    text = clean_text(record[fmt.essay_column], fmt.decode_newline_token)
    if not text:
        raise RowError("empty essay")
    if len(text) > MAX_ESSAY_CHARS:
        raise RowError(f"essay has {len(text):,} characters (limit {MAX_ESSAY_CHARS:,})")

    band, below_4 = None, False
    if fmt.band_column:
        try:
            band, below_4 = parse_band(record[fmt.band_column])
        except BandError as error:
            raise RowError(str(error)) from None
        # The scorer format's flag: the score beside it (3.5) stands for "below 4", the exact band unknown.
        if fmt.name in ("scorer_csv", "jsonl") and str(record.get("below_4", "")).strip().lower() in TRUE_WORDS:
            band, below_4 = None, True
        if fmt.scored and band is None and not below_4:
            raise RowError(f"missing band ({fmt.band_column} is empty)")

    criteria = {}
    for field_name, column in fmt.criteria_columns.items():
        try:
            value, _ = parse_band(record.get(column))
        except BandError as error:
            raise RowError(f"{column}: {error}") from None
        criteria[field_name] = value

    split = forced_split
    if split is None and fmt.split_column and str(record.get(fmt.split_column) or "").strip():
        split = str(record[fmt.split_column]).strip().lower()
        if split not in Split.values:
            raise RowError(f"unknown split {split!r}")
    split = split or fmt.default_split
    if split is None:
        raise RowError("no split: the row has none; pass --split")

    origin_id = "" if fmt.id_column is None else str(record.get(fmt.id_column) or "").strip()
    source = str(record.get("source") or "").strip() if fmt.name in ("scorer_csv", "jsonl") else ""
    return ParsedRow(
        line=line,
        text=text,
        question=clean_text(record.get(fmt.question_column), fmt.decode_newline_token),
        split=split,
        band=band,
        band_below_4=below_4,
        criteria=criteria,
        evaluation=clean_text(record.get(fmt.evaluation_column), False) if fmt.evaluation_column else "",
        origin_id=origin_id[:128],
        origin=(source or origin)[:64],
    )
