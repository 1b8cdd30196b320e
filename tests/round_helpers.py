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


def import_small_corpus(folder: Path, train: int = 40, test: int = 8, pool: int = 8) -> None:
    data = settings.BUNDLED_DATA_DIR
    import_file(write_slice(data / "chillies_clean" / "test.csv", folder / "test.csv", test), split="test")
    import_file(write_slice(data / "chillies_clean" / "val.csv", folder / "val.csv", train), split="val")
    # Rows 100+ of the pool file are Task 2 essays (its first rows include graph descriptions).
    pool_csv = write_slice(data / "raw" / "duwuonline_just_tasks.csv", folder / "pool.csv", pool, start=100)
    import_file(pool_csv, split="pool")


def wait_for_round(number: int, timeout: float, until=TERMINAL) -> TrainingRound:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        training_round = TrainingRound.objects.get(number=number)
        if training_round.status in until:
            return training_round
        time.sleep(1)
    raise AssertionError(f"round {number} still {training_round.status} after {timeout}s")
