"""Export the labelled essays for training: the scorer format (CSV, JSONL, Parquet) and TRL DPO pairs.

What an export holds depends on whether a round is given. Without one (the whole dataset): every essay with a
reference band (every split, test included, each row naming its split) plus every approved human band label. With a
round (the round page's buttons, `--round N`): the approved human labels of that round's pairs only, never the
published essays. Human labels never include test-split essays. ``iteration`` = the round number (0 for reference
bands), ``source`` names the dataset or the rater and round, ``split`` the essay's split.

A band known only as "below 4" is written as the score 3.5 (the highest band below 4) with ``below_4`` true, so the
score column is always a number and the flag says the exact band is unknown; the importer reads the flag back (and
still reads the "<4" of older files). In the CSV, newlines inside texts are written as "<NL>" so every record is one
line, as in the seed format; the importer decodes them. Files are written to a temporary file and renamed.
"""

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from django.db.models import Q
from django.http import FileResponse

from labeling.models import Essay

from . import labels
from .edit_exports import write_edits_csv, write_edits_dpo
from .formats import NEWLINE_TOKEN, write_csv

SCORER_COLUMNS = ["id", "question", "essay", "score", "timestamp", "iteration", "source", "below_4", "split"]
DPO_COLUMNS = ["prompt", "chosen", "rejected"]
BELOW_4_SCORE = Decimal("3.5")  # written for a band known only as "below 4", beside below_4 = true


@dataclass(frozen=True)
class ScorerRow:
    id: str
    question: str
    essay: str
    band: Decimal | None
    below_4: bool
    timestamp: str
    iteration: int
    source: str
    split: str

    @property
    def score(self) -> float:
        return float(BELOW_4_SCORE if self.below_4 else self.band)


def scorer_rows(round_number: int | None = None, split: str | None = None) -> list[ScorerRow]:
    """Without a round: reference-band essays, then every approved human band label. With a round: that round's
    human band labels only. Only essays of ``split`` if given."""
    essays = Essay.objects.filter(Q(band__isnull=False) | Q(band_below_4=True)).select_related("prompt").order_by("pk")
    if split:
        essays = essays.filter(split=split)
    if round_number is not None:
        essays = essays.none()
    rows = [
        ScorerRow(
            id=f"essay-{essay.pk}",
            question=essay.question,
            essay=essay.text,
            band=essay.band,
            below_4=essay.band_below_4,
            timestamp=essay.created_at.isoformat(),
            iteration=0,
            source=essay.origin,
            split=essay.split,
        )
        for essay in essays
    ]
    human = labels.human_band_labels(round_number)
    essay_splits = dict(Essay.objects.filter(pk__in={label.essay_id for label in human}).values_list("pk", "split"))
    for label in human:
        essay_split = essay_splits.get(label.essay_id, "")
        if split and essay_split != split:
            continue
        rows.append(
            ScorerRow(
                id=label.label_id,
                question=label.question,
                essay=label.text,
                band=label.band,
                below_4=False,
                timestamp=label.rated_at.isoformat(),
                iteration=label.round_number or 0,
                source=f"rater:{label.rater}/round:{label.round_number if label.round_number is not None else '-'}",
                split=essay_split,
            )
        )
    return rows


def encode_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", NEWLINE_TOKEN)


def write_scorer_csv(path: Path, round_number: int | None, split: str | None) -> int:
    rows = scorer_rows(round_number, split)
    records = (
        [
            row.id,
            encode_newlines(row.question),
            encode_newlines(row.essay),
            f"{row.score:.1f}",
            row.timestamp,
            row.iteration,
            row.source,
            "true" if row.below_4 else "false",
            row.split,
        ]
        for row in rows
    )
    write_csv(path, SCORER_COLUMNS, records)
    return len(rows)


def write_jsonl(path: Path, round_number: int | None, split: str | None) -> int:
    rows = scorer_rows(round_number, split)
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            record = {name: getattr(row, name) for name in SCORER_COLUMNS}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return len(rows)


PARQUET_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("question", pa.string()),
        ("essay", pa.string()),
        ("score", pa.float64()),
        ("below_4", pa.bool_()),
        ("timestamp", pa.string()),
        ("iteration", pa.int64()),
        ("source", pa.string()),
        ("split", pa.string()),
    ]
)


def write_parquet(path: Path, round_number: int | None, split: str | None) -> int:
    rows = scorer_rows(round_number, split)
    columns = {name: [getattr(row, name) for row in rows] for name in PARQUET_SCHEMA.names}
    pq.write_table(pa.table(columns, schema=PARQUET_SCHEMA), path)
    return len(rows)


DPO_SCHEMA = pa.schema([(name, pa.string()) for name in DPO_COLUMNS])


def write_dpo(path: Path, round_number: int | None, split: str | None) -> int:
    """TRL's standard preference format; Parquet keeps the columns even when there are no pairs yet."""
    pairs = labels.preference_pairs(round_number)
    if split:
        in_split = set(Essay.objects.filter(split=split).values_list("pk", flat=True))
        pairs = [pair for pair in pairs if pair.essay_id in in_split]
    columns = {name: [getattr(pair, name) for pair in pairs] for name in DPO_COLUMNS}
    pq.write_table(pa.table(columns, schema=DPO_SCHEMA), path)
    return len(pairs)


@dataclass(frozen=True)
class ExportFormat:
    name: str
    extension: str
    content_type: str
    write: Callable[[Path, int | None, str | None], int]
    description: str


FORMATS = {
    "scorer_csv": ExportFormat(
        "scorer_csv",
        "csv",
        "text/csv",
        write_scorer_csv,
        "Band labels, scorer format CSV (id, question, essay, score, timestamp, iteration, source, below_4, split)",
    ),
    "jsonl": ExportFormat(
        "jsonl", "jsonl", "application/jsonl", write_jsonl, "Band labels, scorer format, one JSON object a line"
    ),
    "parquet": ExportFormat(
        "parquet", "parquet", "application/vnd.apache.parquet", write_parquet, "Band labels, scorer format as Parquet"
    ),
    "dpo": ExportFormat(
        "dpo",
        "parquet",
        "application/vnd.apache.parquet",
        write_dpo,
        "TRL DPO pairs of whole essays (prompt, chosen, rejected) from the raters' preferences",
    ),
    # The raters' per-change verdicts: edit_exports.py.
    "edits": ExportFormat(
        "edits", "csv", "text/csv", write_edits_csv, "Per-change verdicts (sentence before/after, votes, consensus)"
    ),
    "edits_dpo": ExportFormat(
        "edits_dpo",
        "parquet",
        "application/vnd.apache.parquet",
        write_edits_dpo,
        "TRL DPO pairs per sentence from the per-change verdicts",
    ),
}


def export_filename(fmt: str, round_number: int | None = None, split: str | None = None) -> str:
    parts = ["aes", fmt] + ([f"round{round_number}"] if round_number is not None else []) + ([split] if split else [])
    return "-".join(parts) + "." + FORMATS[fmt].extension


def export_dataset(fmt: str, output: str | Path, round_number: int | None = None, split: str | None = None) -> int:
    """Write the export to ``output`` atomically (temporary file in the same folder, then rename); returns rows."""
    export_format = FORMATS[fmt]
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
    os.close(handle)
    temporary = Path(temporary)
    try:
        count = export_format.write(temporary, round_number, split)
        temporary.chmod(0o644)
        os.replace(temporary, output)
    finally:
        temporary.unlink(missing_ok=True)
    return count


def export_response(fmt: str, round_number: int | None = None, split: str | None = None) -> FileResponse:
    """The export as a download, streamed from a temporary file that is gone once the response is closed."""
    export_format = FORMATS[fmt]
    with tempfile.TemporaryDirectory(prefix="aes-export-") as folder:
        path = Path(folder) / export_filename(fmt, round_number, split)
        export_format.write(path, round_number, split)
        handle = path.open("rb")  # stays readable after the folder is removed (POSIX)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=export_filename(fmt, round_number, split),
        content_type=export_format.content_type,
    )
