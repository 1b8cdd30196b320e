"""The raters' verdicts on (original, rewrite) pairs, shared by DPO and the SFT warm start.

A rated pair carries a consensus band for each text; the rewrite's edits are grouped by the sentence of the original
they apply to, because the policy edits one sentence at a time.
"""

import csv
from dataclasses import dataclass
from pathlib import Path

from rl.edits import Edit, diff_edits, sentence_spans


@dataclass
class RatedPair:
    question: str
    original: str
    rewrite: str
    band_original: float
    band_rewrite: float


def read_pairs_csv(path: str | Path) -> list[RatedPair]:
    """Columns question, original, rewrite, band_original, band_rewrite (consensus bands)."""
    with open(path, newline="", encoding="utf-8") as handle:
        return [
            RatedPair(
                row["question"],
                row["original"],
                row["rewrite"],
                float(row["band_original"]),
                float(row["band_rewrite"]),
            )
            for row in csv.DictReader(handle)
        ]


def changed_sentences(original: str, rewrite: str) -> list[tuple[str, list[Edit]]]:
    """(sentence of the original, the rewrite's edits in it) for every sentence the rewrite changed."""
    spans = sentence_spans(original)
    grouped: dict[int, list[Edit]] = {}
    for edit in diff_edits(original, rewrite):
        for index, (start, end) in enumerate(spans):
            if edit.wrong in original[start:end]:
                grouped.setdefault(index, []).append(edit)
                break
    return [(original[spans[index][0] : spans[index][1]], edits) for index, edits in grouped.items()]
