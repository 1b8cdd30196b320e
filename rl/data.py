"""Labelled essays for the scorer: the bundled published data and the scorer CSV format.

Training data = data/chillies_clean/val.csv + data/raw/chillies_gpt_eval_test.csv, deduplicated by rl.text.text_hash
against each other and against the benchmark test set data/chillies_clean/test.csv (never trained on).

"<4" in the raw file: the cleaned chillies files store "below 4" as 4.0 (all 12 raw "<4" essays that also appear in
chillies_clean/{val,test}.csv carry overall 4.0 there), so 4.0 is the floor of the label scale we are scored on.
`below_4="as_4"` (default) follows that convention: the row becomes band 4.0 with `weight` BELOW_4_WEIGHT, because the
true band is only known to be <= 4 (censored). `below_4="exclude"` drops those rows; nothing is dropped silently: the
loader returns the counts in a LoadReport.
"""

import csv
from dataclasses import dataclass, field
from pathlib import Path

from rl.text import parse_band, text_hash

REPO = Path(__file__).resolve().parent.parent
CLEAN_VAL_CSV = REPO / "data" / "chillies_clean" / "val.csv"
CLEAN_TEST_CSV = REPO / "data" / "chillies_clean" / "test.csv"
RAW_CHILLIES_CSV = REPO / "data" / "raw" / "chillies_gpt_eval_test.csv"
BELOW_4_BAND = 4.0
BELOW_4_WEIGHT = 0.5
NEWLINE_TOKEN = "<NL>"


@dataclass
class LabelledEssay:
    question: str
    essay: str
    band: float
    source: str
    weight: float = 1.0


@dataclass
class LoadReport:
    """What the loader kept and dropped, so a data snapshot can be recorded with a model version."""

    kept: dict[str, int] = field(default_factory=dict)
    dropped_in_test: int = 0
    dropped_duplicate: int = 0
    below_4_as_4: int = 0
    below_4_excluded: int = 0
    unlabelled: int = 0

    def as_dict(self) -> dict:
        return {
            "kept": dict(self.kept),
            "dropped_in_test": self.dropped_in_test,
            "dropped_duplicate": self.dropped_duplicate,
            "below_4_as_4": self.below_4_as_4,
            "below_4_excluded": self.below_4_excluded,
            "unlabelled": self.unlabelled,
        }


def _read_rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _band_or_none(raw, below_4: str, report: LoadReport) -> tuple[float | None, float]:
    """(band, weight) for a published value, or (None, 0) when the row must not be a regression target."""
    band, is_below_4 = parse_band(raw)
    if is_below_4:
        if below_4 == "exclude":
            report.below_4_excluded += 1
            return None, 0.0
        report.below_4_as_4 += 1
        return BELOW_4_BAND, BELOW_4_WEIGHT
    if band is None:
        report.unlabelled += 1
        return None, 0.0
    return float(band), 1.0


def load_test_set(path: Path | str = CLEAN_TEST_CSV) -> list[LabelledEssay]:
    """The benchmark test set (chillies_clean/test.csv layout) or any file in the scorer CSV format."""
    path = Path(path)
    with open(path, newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    if "score" in header and "overall" not in header:
        return read_scorer_csv(path)
    return [
        LabelledEssay(row["question"], row["essay"], float(row["overall"]), "chillies_test")
        for row in _read_rows(path)
        if row["overall"].strip()
    ]


def load_training_set(
    below_4: str = "as_4", exclude_texts: list[str] | None = None
) -> tuple[list[LabelledEssay], LoadReport]:
    """Published training essays, deduplicated and with every benchmark test essay removed.

    exclude_texts: further essays that must not be trained on (e.g. a custom --test-csv).
    """
    if below_4 not in {"as_4", "exclude"}:
        raise ValueError(f"below_4 must be 'as_4' or 'exclude', not {below_4!r}")
    report = LoadReport()
    forbidden = {text_hash(row["essay"]) for row in _read_rows(CLEAN_TEST_CSV)}
    forbidden |= {text_hash(text) for text in exclude_texts or []}
    seen: set[str] = set()
    records: list[LabelledEssay] = []
    sources = [
        (CLEAN_VAL_CSV, "chillies_val", "question", "overall"),
        (RAW_CHILLIES_CSV, "chillies_raw", "prompt", "band"),
    ]
    for path, source, question_column, band_column in sources:
        for row in _read_rows(path):
            digest = text_hash(row["essay"])
            if digest in forbidden:
                report.dropped_in_test += 1
                continue
            if digest in seen:
                report.dropped_duplicate += 1
                continue
            seen.add(digest)
            band, weight = _band_or_none(row[band_column], below_4, report)
            if band is None:
                continue
            records.append(LabelledEssay(row[question_column].strip(), row["essay"].strip(), band, source, weight))
            report.kept[source] = report.kept.get(source, 0) + 1
    return records, report


def read_scorer_csv(path: Path | str, below_4: str = "as_4") -> list[LabelledEssay]:
    """Scored rows of a CSV in the scorer format `id, question, essay, score, timestamp, iteration, source` (the
    project's exports add `below_4, split`: a true below_4 means the band is only known to be below 4, whatever the
    score column says).

    Newlines inside essays are encoded as <NL> in that format. Rows without a score are skipped.
    """
    report = LoadReport()
    records = []
    for row in _read_rows(Path(path)):
        flagged = str(row.get("below_4") or "").strip().lower() in {"true", "1", "yes"}
        band, weight = _band_or_none("<4" if flagged else row.get("score"), below_4, report)
        if band is None:
            continue
        essay = row["essay"].replace(NEWLINE_TOKEN, "\n")
        question = row.get("question", "").replace(NEWLINE_TOKEN, "\n")
        records.append(LabelledEssay(question, essay, band, row.get("source") or "scorer_csv", weight))
    return records


def without_essays_of(records: list[LabelledEssay], held_out: list[LabelledEssay]) -> list[LabelledEssay]:
    """records less those whose essay (by normalised text) is in held_out: no test essay may reach training."""
    held_out_hashes = {text_hash(r.essay) for r in held_out}
    return [r for r in records if text_hash(r.essay) not in held_out_hashes]
