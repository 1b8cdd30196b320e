"""What human labels buy, simulated on the published bands.

routing_curve: the bands of most training essays are hidden and revealed in batches, either in the order rater routing
would ask for them (the current scorer's highest uncertainty first, retrained between batches) or at random; test
accuracy after each batch, and how many fewer labels the routed order needs for the random order's accuracy.

rater_calibration_curve: MAE on a set of essays after fitting rl.scorer.rater_calibration on k of their bands (the
rest evaluated), over repeated random draws of the k labels.
"""

import numpy as np

from rl.data import LabelledEssay
from rl.metrics import band_metrics
from rl.scorer.rater_calibration import SELECTION_Z, fit_rater_calibration

ROUTING_START_SHARE = 0.2
ROUTING_BATCHES = 5
CALIBRATION_LABELS = (10, 20, 50, 100)
CALIBRATION_DRAWS = 30


def routing_config(config):
    """Cheap settings for the many retrainings: no folds (a fixed stretch), three smaller LightGBM seeds."""
    from dataclasses import replace

    return replace(config, cv_folds=0, stretch=1.45, lgbm_estimators=300, pca_components=16, seeds=(0, 1, 2))


def routing_curve(
    train: list[LabelledEssay], test: list[LabelledEssay], config, seed: int = 0, embedder=None, progress=None
) -> dict:
    """Both orders start from the same random ROUTING_START_SHARE of `train` labelled and reveal the rest in
    ROUTING_BATCHES equal batches. Rows: labels, and test QWK / MAE / r of each order."""
    from rl.scorer.model import Scorer, subset, train_scorer

    progress = progress or (lambda done, total, message: None)
    config = routing_config(config)
    featurizer = Scorer(config)
    featurizer._embedder = embedder
    features = featurizer.features([r.question for r in train], [r.essay for r in train])
    test_features = featurizer.features([r.question for r in test], [r.essay for r in test])
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(train))
    start = round(ROUTING_START_SHARE * len(train))
    batch = int(np.ceil((len(train) - start) / ROUTING_BATCHES))
    y_test = [r.band for r in test]
    curves = {}
    for arm in ("routed", "random"):
        labelled, hidden = list(order[:start]), list(order[start:])
        rows = []
        while True:
            progress(len(labelled), len(train), f"{arm} order")
            index = np.array(sorted(labelled))
            scorer = train_scorer([train[i] for i in index], config, features=subset(features, index))
            predictions = scorer.predict_features(test_features)
            metrics = band_metrics(y_test, [p.band for p in predictions])
            rows.append({"labels": len(labelled)} | {k: metrics[k] for k in ("qwk", "mae", "pearson")})
            if not hidden:
                break
            if arm == "routed":
                doubt = [p.uncertainty for p in scorer.predict_features(subset(features, np.array(hidden)))]
                ranked = [hidden[i] for i in np.argsort(doubt, kind="stable")[::-1]]
            else:
                ranked = hidden  # already in a random order
            labelled, hidden = labelled + ranked[:batch], ranked[batch:]
        curves[arm] = rows
    return {"rows": curves, "savings": label_savings(curves["routed"], curves["random"])}


def label_savings(routed: list[dict], random: list[dict], key: str = "mae") -> list[dict]:
    """For each point of the random order but the last (where both have every label): the labels the routed order
    needs for the random order's best test MAE so far (linear between its points; None if it never gets there) and
    the share of labels saved (negative: routing needs more)."""
    labels = np.array([row["labels"] for row in routed], dtype=float)
    errors = np.array([row[key] for row in routed])
    savings = []
    for i, row in enumerate(random[:-1]):
        # The random order's accuracy with this many labels: its best so far (one batch can make it worse by chance).
        target = min(r[key] for r in random[: i + 1])
        reached = np.nonzero(errors <= target)[0]
        needed = None
        if len(reached):
            first = reached[0]
            if first == 0:
                needed = labels[0]
            else:
                # Between the last point above the target and the first at or below it.
                a, b = first - 1, first
                needed = labels[a] + (errors[a] - target) / (errors[a] - errors[b]) * (labels[b] - labels[a])
        savings.append(
            {
                "labels_random": row["labels"],
                "mae_random": target,
                "labels_routed": None if needed is None else float(needed),
                "saving": None if needed is None else float(1.0 - needed / row["labels"]),
            }
        )
    return savings


def rater_calibration_curve(
    true_bands,
    predicted_bands,
    sizes=CALIBRATION_LABELS,
    draws: int = CALIBRATION_DRAWS,
    seed: int = 0,
    selection_z: float = SELECTION_Z,
) -> dict:
    """For each k in sizes: mean MAE on the essays left out after fitting the rater calibration on k random labelled
    essays, against the MAE of the uncalibrated bands on the same essays; the share of draws it made worse.
    selection_z: how clearly a fit must beat no change (rl.scorer.rater_calibration)."""
    y, predicted = np.asarray(true_bands, dtype=float), np.asarray(predicted_bands, dtype=float)
    rng = np.random.default_rng(seed)
    rows = {}
    for k in sizes:
        if k >= len(y):
            continue
        before, after = [], []
        for _ in range(draws):
            chosen = rng.permutation(len(y))
            fit, rest = chosen[:k], chosen[k:]
            calibration = fit_rater_calibration(predicted[fit], y[fit], selection_z=selection_z)
            before.append(np.abs(predicted[rest] - y[rest]).mean())
            after.append(np.abs(calibration.apply_array(predicted[rest]) - y[rest]).mean())
        before, after = np.array(before), np.array(after)
        rows[str(k)] = {
            "mae_before": float(before.mean()),
            "mae_after": float(after.mean()),
            "worse_share": float((after > before + 1e-9).mean()),
            "worst_change": float((after - before).max()),
        }
    return rows
