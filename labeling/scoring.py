"""Scorer workflows on the database: training data, training a version, loading the promoted scorer."""

import math
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from .labels import human_band_labels
from .models import Essay, ModelKind, ModelVersion, Split

ProgressFn = Callable[[int, int, str], None]


def json_safe(value):
    """Metrics as JSON that PostgreSQL's jsonb accepts: NaN/inf become None, numpy numbers plain floats."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def consensus_human_labels(round_number: int | None = None) -> dict[tuple[int, int | None], dict]:
    """Mean approved human band per text: (essay_id, rewrite_id or None) -> {question, text, band, n, rounds}."""
    grouped: dict[tuple[int, int | None], dict] = {}
    bands: dict[tuple[int, int | None], list[Decimal]] = defaultdict(list)
    for label in human_band_labels(round_number):
        key = (label.essay_id, label.rewrite_id)
        entry = grouped.setdefault(key, {"question": label.question, "text": label.text, "rounds": set()})
        entry["rounds"].add(label.round_number)
        bands[key].append(label.band)
    for key, entry in grouped.items():
        entry["band"] = float(sum(bands[key]) / len(bands[key]))
        entry["n"] = len(bands[key])
    return grouped


def training_records(include_human: bool = True, max_published: int | None = None):
    """Published reference bands (train and val splits only) plus approved human consensus bands."""
    from rl.data import LabelledEssay

    published = (
        Essay.objects.filter(split__in=[Split.TRAIN, Split.VAL], band__isnull=False)
        .select_related("prompt")
        .order_by("pk")
    )
    if max_published:
        published = published[:max_published]
    records = [LabelledEssay(e.question, e.text, float(e.band), f"published:{e.origin}") for e in published]
    snapshot = {"published": len(records), "human_texts": 0, "human_ratings": 0, "rounds": []}
    if include_human:
        human = consensus_human_labels()
        for entry in human.values():
            records.append(LabelledEssay(entry["question"], entry["text"], entry["band"], "human"))
        snapshot["human_texts"] = len(human)
        snapshot["human_ratings"] = sum(entry["n"] for entry in human.values())
        snapshot["rounds"] = sorted({r for entry in human.values() for r in entry["rounds"] if r is not None})
    return records, snapshot


def test_records():
    from rl.data import LabelledEssay

    essays = Essay.objects.filter(split=Split.TEST, band__isnull=False).select_related("prompt").order_by("pk")
    return [LabelledEssay(e.question, e.text, float(e.band), f"published:{e.origin}") for e in essays]


def train_scorer_version(
    config_overrides: dict | None = None,
    training_round=None,
    progress: ProgressFn | None = None,
    include_human: bool = True,
    max_published: int | None = None,
    max_test: int | None = None,
) -> ModelVersion:
    """Train a scorer on everything approved so far, evaluate it on the test split, store it as a new version."""
    from rl.scorer import ScorerConfig, evaluate, perturbation_report, train_scorer

    config = ScorerConfig(**(config_overrides or {}))
    records, snapshot = training_records(include_human=include_human, max_published=max_published)
    if not records:
        raise ValueError("no labelled essays to train on: import data first (python manage.py import_essays ...)")
    started = timezone.now()
    scorer = train_scorer(records, config, progress=progress)
    test = test_records()[:max_test] if max_test else test_records()
    metrics = {"train_seconds": (timezone.now() - started).total_seconds()}
    if test:
        # Its own stage in the progress: on the full test split this takes about a third of the training time.
        report = progress or (lambda done, total, message="": None)
        report(0, 2, f"evaluating on {len(test)} test essays")
        metrics["test"] = evaluate(scorer, test)
        report(1, 2, f"gaming perturbations on {len(test)} test essays")
        metrics["perturbations"] = perturbation_report(scorer, test)
        report(2, 2, "evaluated")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S-%f")
    folder = Path(settings.ARTIFACTS_DIR) / "scorers" / stamp
    scorer.save(folder)
    parent = ModelVersion.promoted(ModelKind.SCORER)
    return ModelVersion.objects.create(
        kind=ModelKind.SCORER,
        name=f"scorer {stamp}" + (f" (round {training_round.number})" if training_round else ""),
        artifact_path=str(folder),
        config=asdict(config),
        metrics=json_safe(metrics),
        data_snapshot=snapshot,
        parent=parent,
        training_round=training_round,
    )


# keyed by pk and folder: SQLite reuses the pk of a deleted newest row, which must not return its old scorer
_cache: dict[tuple[int, str], object] = {}
_cache_lock = threading.Lock()


class ScorerUnavailable(LookupError):
    """A scorer version whose files are gone or were written in a format this code no longer reads."""


def load_scorer_version(version: ModelVersion):
    """The scorer of a version, loaded once per process."""
    from rl.scorer import load_scorer

    key = (version.pk, version.artifact_path)
    with _cache_lock:
        if key not in _cache:
            try:
                _cache[key] = load_scorer(Path(version.artifact_path))
            except (OSError, ValueError) as exc:
                raise ScorerUnavailable(
                    f"{version} cannot be loaded ({exc}); train a new one: python manage.py train_scorer --promote"
                ) from exc
        return _cache[key]


def promoted_scorer():
    version = ModelVersion.promoted(ModelKind.SCORER)
    if version is None:
        raise LookupError("no scorer is promoted yet: run `python manage.py train_scorer --promote`")
    return version, load_scorer_version(version)


# Celery's task states in the words the round pages use (PENDING is also what an unknown id reads as).
CELERY_STATES = {"PENDING": "queued", "STARTED": "running", "PROGRESS": "running", "RETRY": "queued",
                 "SUCCESS": "succeeded", "FAILURE": "failed", "REVOKED": "cancelled"}  # fmt: skip


def scorer_training_state(task_id: str) -> dict:
    """What a train-scorer task queued from the Models page is doing, read from Celery's result backend."""
    from redis.exceptions import RedisError

    from aes_site.celery import app

    result = app.AsyncResult(task_id)
    try:
        celery_state = result.state
    except (OSError, RedisError) as exc:  # the page must still render when the broker is away
        return {"task_id": task_id, "state": "unknown", "done": 0, "total": 0, "message": f"state unavailable: {exc}"}
    status = CELERY_STATES.get(celery_state, celery_state.lower())
    state = {"task_id": task_id, "state": status, "done": 0, "total": 0, "message": ""}
    if celery_state == "PENDING":
        state["message"] = "queued: waiting for a worker on the gpu queue"
    elif celery_state == "PROGRESS":
        state.update({key: result.info.get(key, state[key]) for key in ("done", "total", "message")})
    elif celery_state == "SUCCESS":
        version = ModelVersion.objects.filter(pk=result.result).first()
        state["version"] = {"pk": version.pk, "name": version.name} if version else None
        state["message"] = f"trained {version.name}" if version else "trained (the version was deleted since)"
    elif celery_state == "FAILURE":
        state["message"] = f"failed: {type(result.result).__name__}: {result.result}"
    return state
