"""Import essays from the published datasets and from the scorer format (CSV or JSONL); formats in formats.py.

One file is one transaction: by default a single rejected row means nothing is imported (``skip_invalid`` imports
the valid rows instead). Essays are deduplicated by normalised text against the file itself and the database, so
importing a file twice adds nothing. Task 1 reports (describe a chart, rl/task_type.py) never enter the pool of
essays to rewrite: they are skipped and counted in the summary.
"""

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction

from labeling.models import Essay, Prompt, Split
from rl.task_type import is_task1_report
from rl.text import text_hash

from .formats import (
    FORMATS,
    ImportFileError,
    ParsedRow,
    RowError,
    parse_record,
    read_csv,
    read_jsonl,
    read_text,
    resolve_format,
)

BATCH_SIZE = 500


@dataclass(frozen=True)
class RejectedRow:
    line: int
    reason: str

    def __str__(self):
        return f"line {self.line}: {self.reason}"


@dataclass
class ImportSummary:
    path: str
    format: str
    rows: int = 0
    imported: int = 0
    duplicates: int = 0
    task1_skipped: int = 0
    prompts_created: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    split_counts: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False
    skip_invalid: bool = False

    @property
    def aborted(self) -> bool:
        """Rejected rows and no --skip-invalid: nothing was imported."""
        return bool(self.rejected) and not self.skip_invalid

    def line(self) -> str:
        verb = "would import" if self.dry_run else "imported"
        splits = ", ".join(f"{name} {count}" for name, count in sorted(self.split_counts.items()))
        text = (
            f"{Path(self.path).name} ({self.format}): {verb} {self.imported}"
            f"{f' ({splits})' if splits else ''}, {self.duplicates} duplicate, {len(self.rejected)} rejected"
        )
        if self.task1_skipped:
            text += f", skipped {self.task1_skipped} Task 1 report{'s' if self.task1_skipped != 1 else ''}"
        if self.aborted:
            text += " - nothing imported because rows were rejected"
        return text


def import_file(
    path: str | Path,
    fmt: str | None = None,
    split: str | None = None,
    dry_run: bool = False,
    skip_invalid: bool = False,
) -> ImportSummary:
    """Import one file in one transaction. Raises ImportFileError for problems with the whole file."""
    path = Path(path)
    if split is not None and split not in Split.values:
        raise ImportFileError(f"unknown split {split!r} (one of {', '.join(Split.values)})")
    text = read_text(path)
    fmt_name = resolve_format(fmt, path, text)
    import_format = FORMATS[fmt_name]
    records = read_jsonl(text) if fmt_name == "jsonl" else read_csv(text, import_format)

    summary = ImportSummary(path=str(path), format=fmt_name, dry_run=dry_run, skip_invalid=skip_invalid)
    parsed: list[ParsedRow] = []
    for line, record in records:
        summary.rows += 1
        try:
            row = parse_record(line, record, import_format, split, origin=f"{fmt_name}:{path.name}")
        except RowError as error:
            summary.rejected.append(RejectedRow(line, str(error)))
            continue
        if row.split == Split.POOL and is_task1_report(row.question, row.text):
            summary.task1_skipped += 1
        else:
            parsed.append(row)
    try:
        with transaction.atomic():
            store_rows(parsed, summary, write=not (dry_run or summary.aborted))
    except IntegrityError as error:
        raise ImportFileError(f"the database refused the import (a concurrent import?): {error}") from None
    return summary


def import_bundled_demo(stdout=None) -> list[ImportSummary]:
    """Import the bundled essays, all files or none; idempotent.

    The test set goes first so its essays never land in another split (later copies are skipped as duplicates).
    """
    data = Path(settings.BUNDLED_DATA_DIR)
    plan = [
        (data / "chillies_clean" / "test.csv", "tfcs", Split.TEST),
        (data / "chillies_clean" / "val.csv", "tfcs", Split.VAL),
        (data / "raw" / "chillies_gpt_eval_test.csv", "chillies", Split.TRAIN),
        (data / "raw" / "duwuonline_just_tasks.csv", "duwuonline", Split.POOL),
    ]
    summaries = []
    with transaction.atomic():
        for path, fmt, split in plan:
            try:
                summary = import_file(path, fmt=fmt, split=split)
            except ImportFileError as error:
                raise ImportFileError(f"{path.name}: {error}") from None
            if summary.aborted:
                raise ImportFileError(f"{path.name}: {summary.rejected[0]} ({len(summary.rejected)} rows rejected)")
            summaries.append(summary)
    if stdout is not None:
        for summary in summaries:
            stdout.write(summary.line())
    return summaries


# --- storing ------------------------------------------------------------------------------------------------------


def existing_hashes(model, hashes: list[str]) -> dict[str, int]:
    found = {}
    for start in range(0, len(hashes), BATCH_SIZE):
        chunk = hashes[start : start + BATCH_SIZE]
        found.update(model.objects.filter(text_hash__in=chunk).values_list("text_hash", "pk"))
    return found


def store_rows(rows: list[ParsedRow], summary: ImportSummary, write: bool) -> None:
    """Skip duplicates (within the file and in the database), then bulk-insert prompts and essays."""
    hashed = [(text_hash(row.text), row) for row in rows]
    in_db = existing_hashes(Essay, [h for h, _ in hashed])
    seen = set(in_db)
    new_rows = []
    for essay_hash, row in hashed:
        if essay_hash in seen:
            summary.duplicates += 1
            continue
        seen.add(essay_hash)
        new_rows.append((essay_hash, row))
    if summary.aborted:
        return
    summary.imported = len(new_rows)
    summary.split_counts = dict(Counter(row.split for _, row in new_rows))

    questions = {text_hash(row.question): row.question for _, row in new_rows if row.question}
    prompt_ids = existing_hashes(Prompt, list(questions))
    new_prompts = [Prompt(text=text, text_hash=h) for h, text in questions.items() if h not in prompt_ids]
    summary.prompts_created = len(new_prompts)
    if not write:
        return
    Prompt.objects.bulk_create(new_prompts, batch_size=BATCH_SIZE)
    prompt_ids.update(existing_hashes(Prompt, [p.text_hash for p in new_prompts]))
    Essay.objects.bulk_create(
        [
            Essay(
                prompt_id=prompt_ids[text_hash(row.question)] if row.question else None,
                text=row.text,
                text_hash=essay_hash,
                origin=row.origin,
                origin_row=row.line,
                origin_id=row.origin_id,
                split=row.split,
                band=row.band,
                band_below_4=row.band_below_4,
                leaky_evaluation=row.evaluation,
                **row.criteria,
            )
            for essay_hash, row in new_rows
        ],
        batch_size=BATCH_SIZE,
    )
