"""Small real datasets for round tests: slices of the bundled files, imported through the real importer."""

import csv
import time
from pathlib import Path

from django.conf import settings

from labeling.corpus.importers import import_file
from labeling.models import TrainingRound
from labeling.training.engine import TERMINAL


def write_slice(source: Path, target: Path, rows: int, start: int = 0) -> Path:
    with source.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        body = [row for i, row in enumerate(reader) if start <= i < start + rows]
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(body)
    return target


def keep_first_paragraphs(path: Path, column: str, words: int) -> None:
    """Each essay's first paragraphs, as many as make up at least `words` words."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=reader.fieldnames)
        writer.writeheader()
        for row in rows:
            kept = []
            for paragraph in row[column].split("\n"):
                kept.append(paragraph)
                if len(" ".join(kept).split()) >= words:
                    break
            row[column] = "\n".join(kept)
            writer.writerow(row)


def import_small_corpus(
    folder: Path, train: int = 40, test: int = 8, pool: int = 8, pool_words: int | None = 120
) -> None:
    """Pool essays keep their first paragraphs up to about `pool_words` words (None: whole): rounds rewrite and
    evaluate pool essays sentence by sentence, and the round tests test the loop, not the rewrites, at half the cost."""
    data = settings.BUNDLED_DATA_DIR
    import_file(write_slice(data / "chillies_clean" / "test.csv", folder / "test.csv", test), split="test")
    import_file(write_slice(data / "chillies_clean" / "val.csv", folder / "val.csv", train), split="val")
    # Rows 100+ of the pool file are Task 2 essays (its first rows include graph descriptions).
    pool_csv = write_slice(data / "raw" / "duwuonline_just_tasks.csv", folder / "pool.csv", pool, start=100)
    if pool_words:
        keep_first_paragraphs(pool_csv, "paragraph", pool_words)
    import_file(pool_csv, split="pool")


def wait_for_round(number: int, timeout: float, until=TERMINAL) -> TrainingRound:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        training_round = TrainingRound.objects.get(number=number)
        if training_round.status in until:
            return training_round
        time.sleep(1)
    raise AssertionError(f"round {number} still {training_round.status} after {timeout}s")
