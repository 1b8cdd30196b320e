"""Exports of the raters' per-change verdicts (approved ratings; test-split essays left out, as in labels.py).

- `edits` (CSV): one row per judged change: the essay, the passage before and after, the change itself, the vote
  counts, the consensus and, for a gold edit, the expected verdict.
- `edits_dpo` (Parquet): TRL's standard preference format at the sentence level: prompt = the passage of the
  original, chosen = its version with the changes the raters accepted, rejected = that plus the changes they
  rejected, or the passage unchanged (rl.edit_verdicts.preference_sentence_pairs: what the DPO stage learns from).
"""

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from labeling.models import Essay
from rl.edit_verdicts import preference_sentence_pairs

from .edit_labels import EditRow, approved_edit_rows, judged_passages
from .formats import write_csv

EDITS_COLUMNS = [
    "essay_id",
    "rewrite_id",
    "round",
    "position",
    "question",
    "sentence_before",
    "sentence_after",
    "before",
    "after",
    "rewrite_better",
    "original_better",
    "same",
    "consensus",
    "gold_expected",
]
EDITS_DPO_SCHEMA = pa.schema([(name, pa.string()) for name in ("prompt", "chosen", "rejected")])


def _rows(round_number: int | None, split: str | None) -> list[EditRow]:
    rows = approved_edit_rows(round_number)
    if split:
        in_split = set(
            Essay.objects.filter(split=split, pk__in={r.essay_id for r in rows}).values_list("pk", flat=True)
        )
        rows = [row for row in rows if row.essay_id in in_split]
    return rows


def write_edits_csv(path: Path, round_number: int | None, split: str | None) -> int:
    rows = _rows(round_number, split)
    records = (
        [
            row.essay_id,
            row.rewrite_id,
            "" if row.round_number is None else row.round_number,
            row.position,
            row.question,
            row.sentence_before,
            row.sentence_after,
            row.before,
            row.after,
            row.votes["rewrite"],
            row.votes["original"],
            row.votes["same"],
            row.consensus or "",
            row.gold_expected,
        ]
        for row in rows
    )
    write_csv(path, EDITS_COLUMNS, records)
    return len(rows)


def write_edits_dpo(path: Path, round_number: int | None, split: str | None) -> int:
    pairs = preference_sentence_pairs(judged_passages(round_number, _rows(round_number, split)))
    columns = {
        "prompt": [pair.before for pair in pairs],
        "chosen": [pair.chosen for pair in pairs],
        "rejected": [pair.rejected for pair in pairs],
    }
    pq.write_table(pa.table(columns, schema=EDITS_DPO_SCHEMA), path)
    return len(pairs)
