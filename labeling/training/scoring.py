"""Scorer workflows on the database: training data, training a version, loading the promoted scorer."""

import threading
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from labeling.corpus.labels import consensus_human_labels
from labeling.models import Essay, ModelKind, ModelVersion, Split
from rl.data import LabelledEssay

from .jsonsafe import json_safe

ProgressFn = Callable[[int, int, str], None]


def training_records(include_human: bool = True, max_published: int | None = None):
    """Published reference bands (train and val splits only) plus approved human consensus bands."""
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
    essays = Essay.objects.filter(split=Split.TEST, band__isnull=False).select_related("prompt").order_by("pk")
    return [LabelledEssay(e.question, e.text, float(e.band), f"published:{e.origin}") for e in essays]


def evaluation_metrics(scorer, test: list[LabelledEssay], progress: ProgressFn | None = None) -> dict:
    """What a scorer version stores about the test split: accuracy ("test") and the gaming report ("perturbations")."""
    from rl.scorer import evaluate, perturbation_report  # loads torch, like the scorer it evaluates

    # Its own stage in the progress: on the full test split this takes about a third of the training time.
    report = progress or (lambda done, total, message="": None)
    report(0, 2, f"evaluating on {len(test)} test essays")
    accuracy = evaluate(scorer, test)
    report(1, 2, f"gaming perturbations on {len(test)} test essays")
    perturbations = perturbation_report(scorer, test)
    report(2, 2, "evaluated")
    return {"test": accuracy, "perturbations": perturbations}


def train_scorer_version(
    config_overrides: dict | None = None,
    training_round=None,
    progress: ProgressFn | None = None,
    include_human: bool = True,
    max_published: int | None = None,
    max_test: int | None = None,
) -> ModelVersion:
    """Train a scorer on everything approved so far, evaluate it on the test split, store it as a new version."""
    # Imported here, not at the top: rl.scorer loads torch (sentence embeddings), which the web process never needs.
    from rl.scorer import ScorerConfig, train_scorer

    config = ScorerConfig(**(config_overrides or {}))
    records, snapshot = training_records(include_human=include_human, max_published=max_published)
    if not records:
        raise ValueError("no labelled essays to train on: import data first (python manage.py import_essays ...)")
    started = timezone.now()
    scorer = train_scorer(records, config, progress=progress)
    test = test_records()[:max_test] if max_test else test_records()
    metrics = {
        "train_seconds": (timezone.now() - started).total_seconds(),
        "embedding_precision": scorer.training_info.get("embedding_precision"),  # int8 | bf16 | fp32
    }
    if test:
        metrics.update(evaluation_metrics(scorer, test, progress))
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


def load_scorer_version(version: ModelVersion, calibrated: bool = True):
    """The scorer of a version, loaded once per process (the first Score page or round step that needs it).

    calibrated: its bands on this deployment's raters' scale (the version's stored rater calibration, read from the
    version passed in, so a refit applies from the next call on). This is where the product gets a scorer's bands:
    the Score page, a round's rewrites, rewards and routing uncertainties all come through here.

    rl.scorer is imported here, not at the top, so the web process starts without torch and pays for it only once.
    """
    from rl.scorer import load_scorer
    from rl.scorer.rater_calibration import CalibratedScorer, RaterCalibration

    key = (version.pk, version.artifact_path)
    with _cache_lock:
        if key not in _cache:
            try:
                _cache[key] = load_scorer(Path(version.artifact_path))
            except (OSError, ValueError) as exc:
                raise ScorerUnavailable(
                    f"{version} cannot be loaded ({exc}); train a new one: python manage.py train_scorer --promote"
                ) from exc
        scorer = _cache[key]
    calibration = RaterCalibration.from_dict(version.rater_calibration)
    if not calibrated or calibration.is_identity:
        return scorer
    return CalibratedScorer(scorer, calibration)


def promoted_scorer():
    version = ModelVersion.promoted(ModelKind.SCORER)
    if version is None:
        raise LookupError("no scorer is promoted yet: run `python manage.py train_scorer --promote`")
    return version, load_scorer_version(version)
