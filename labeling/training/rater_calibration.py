"""Rater calibration of scorer versions: fit a version's shift and slope to the approved consensus bands, store it.

The fit itself is rl/scorer/rater_calibration.py; this module feeds it the raters' consensus bands
(`labeling.corpus.labels.consensus_human_labels`: approved ratings, test split left out) and the version's own,
uncalibrated predictions for those texts, and stores the result on the version (`ModelVersion.rater_calibration`).
`scoring.load_scorer_version` applies it, so every band the product shows or rewards with is on the raters' scale.

It runs where scorers are loaded (a worker, a management command, a round step), never in the web process: the
approval action only queues `tasks.refit_rater_calibration`, which fits when enough new labels came in.

The scorer may have trained on some of these labels (a round's scorer learns the approved bands), which pulls its
predictions toward them: the fitted shift then errs toward the identity, never past the raters.
"""

from django.conf import settings
from django.utils import timezone

from labeling.corpus.labels import approved_ratings, consensus_human_labels
from labeling.models import ModelKind, ModelVersion


def calibration_labels() -> list[dict]:
    """One entry per rated text (an essay or a rewrite): question, text, band (mean of its approved ratings)."""
    return [
        entry for _, entry in sorted(consensus_human_labels().items(), key=lambda item: (item[0][0], item[0][1] or 0))
    ]


def label_count() -> int:
    """len(calibration_labels()) without reading the texts: distinct rated essays plus distinct rated rewrites."""
    ratings = approved_ratings().order_by()
    essays = ratings.values("item__essay_id").distinct().count()
    return essays + ratings.values("item__rewrite_id").distinct().count()


def is_due(version: ModelVersion, n_labels: int) -> bool:
    """Enough labels for a first fit, or enough new ones since the last fit."""
    if n_labels < settings.RATERCAL_MIN_LABELS:
        return False
    fitted = version.rater_calibration.get("n_labels") if version.rater_calibration else None
    if fitted is None or fitted < settings.RATERCAL_MIN_LABELS:
        return True  # never fitted on enough labels: the first real fit
    return n_labels - fitted >= settings.RATERCAL_REFIT_EVERY


def fit_for_scorer(version: ModelVersion, scorer=None, labels: list[dict] | None = None) -> dict:
    """Fit and store the version's calibration on the current consensus bands; returns the stored dict.

    scorer: the version's uncalibrated scorer when the caller holds it already (a round step); loaded otherwise.
    """
    if version.kind != ModelKind.SCORER:
        raise ValueError(f"{version} is not a scorer: only scorer versions are calibrated to raters")
    from rl.scorer.rater_calibration import fit_rater_calibration

    from .scoring import load_scorer_version

    labels = calibration_labels() if labels is None else labels
    if labels:
        scorer = scorer or load_scorer_version(version, calibrated=False)
        predicted = [p.band for p in scorer.predict([e["question"] for e in labels], [e["text"] for e in labels])]
    else:
        predicted = []
    calibration = fit_rater_calibration(
        predicted,
        [e["band"] for e in labels],
        min_labels=settings.RATERCAL_MIN_LABELS,
        selection_z=settings.RATERCAL_SELECTION_Z,
    )
    stored = calibration.to_dict() | {"fitted_at": timezone.now().isoformat()}
    ModelVersion.objects.filter(pk=version.pk).update(rater_calibration=stored)
    version.rater_calibration = stored
    return stored


def refit_if_due(version_id: int) -> dict | None:
    """The version's calibration refitted when it is the promoted scorer and a refit is due (idempotent: a second call
    finds nothing new to fit)."""
    version = ModelVersion.objects.filter(pk=version_id, kind=ModelKind.SCORER, is_promoted=True).first()
    if version is None:
        return None
    labels = calibration_labels()
    if not is_due(version, len(labels)):
        return None
    return fit_for_scorer(version, labels=labels)
