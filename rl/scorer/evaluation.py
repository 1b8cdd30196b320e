"""Accuracy metrics and the gaming (perturbation) report of a scorer on labelled essays."""

import random

import numpy as np

from rl.data import LabelledEssay, without_essays_of
from rl.metrics import band_metrics, round_to_half_band
from rl.scorer.perturbations import PERTURBATIONS

# Bands are floats from float32 embeddings under bf16: a change smaller than this is numerical noise, not a raise.
RAISE_TOLERANCE = 0.01
# The figures the ablation and the learning curve report for each scorer they train.
SUMMARY_METRICS = ("qwk", "mae", "rmse", "pearson")


def evaluate(scorer, records: list[LabelledEssay]) -> dict:
    predictions = scorer.predict([r.question for r in records], [r.essay for r in records])
    metrics = band_metrics([r.band for r in records], [p.band for p in predictions])
    metrics["mean_uncertainty"] = float(np.mean([p.uncertainty for p in predictions])) if predictions else float("nan")
    return metrics


def perturbation_report(scorer, records: list[LabelledEssay], seed: int = 0) -> dict:
    """For each perturbation: the share of essays whose predicted band it raises (by more than RAISE_TOLERANCE),
    the share whose rounded half-band it raises, and the mean change of the band."""
    questions = [r.question for r in records]
    original = np.array([p.band for p in scorer.predict(questions, [r.essay for r in records])])
    report = {}
    for name, perturb in PERTURBATIONS.items():
        rng = random.Random(f"{seed}-{name}")
        perturbed_essays = [perturb(r.essay, rng) for r in records]
        perturbed = np.array([p.band for p in scorer.predict(questions, perturbed_essays)])
        change = perturbed - original
        report[name] = {
            "n": len(records),
            "raised_share": float((change > RAISE_TOLERANCE).mean()),
            "raised_half_band_share": float((round_to_half_band(perturbed) > round_to_half_band(original)).mean()),
            "mean_change": float(change.mean()),
            "max_change": float(change.max()),
        }
    return report


def human_label_ablation(
    published: list[LabelledEssay], human: list[LabelledEssay], test: list[LabelledEssay], config=None
) -> dict:
    """Train once on the published bands alone and once with the raters' labels added; evaluate both on `test`.

    Human labels of test essays are dropped first (they would leak the test set into training).
    """
    from rl.scorer.model import train_scorer
    from rl.text import text_hash

    human = without_essays_of(human, test)
    if not human:
        raise ValueError("no human labels outside the test set: nothing to compare")
    without = evaluate(train_scorer(published, config), test)
    with_human = evaluate(train_scorer(published + human, config), test)
    return {
        "human_labels": len(human),
        "human_essays": len({text_hash(r.essay) for r in human}),
        "published_only": {k: without[k] for k in SUMMARY_METRICS},
        "with_human": {k: with_human[k] for k in SUMMARY_METRICS},
    }


LEARNING_CURVE_FRACTIONS = (0.25, 0.5, 0.75, 1.0)


def learning_curve(
    train: list[LabelledEssay],
    test: list[LabelledEssay],
    fractions=LEARNING_CURVE_FRACTIONS,
    config=None,
    seed: int = 0,
) -> dict:
    """How accuracy on `test` grows with the number of labelled essays: a scorer trained on nested random shares of
    `train` (the smaller shares are parts of the larger ones) for each fraction.

    The fit of the rows (fit_learning_curve) is a rough guide to how many labels a goal needs, not a promise.
    """
    from rl.scorer.model import train_scorer

    if not all(0 < f <= 1 for f in fractions):
        raise ValueError(f"fractions must lie in (0, 1], got {list(fractions)}")
    order = np.random.default_rng(seed).permutation(len(train))
    rows, embedder = [], None
    for fraction in sorted(set(fractions)):
        # In the original order: the full share trains exactly the scorer train_scorer(train) does.
        subset = [train[i] for i in sorted(order[: round(fraction * len(train))])]
        scorer = train_scorer(subset, config, embedder=embedder)
        embedder = scorer.embedder if scorer.config.family == "ensemble" else None
        metrics = evaluate(scorer, test)
        summary = {k: metrics[k] for k in SUMMARY_METRICS}
        rows.append({"fraction": fraction, "n_train": scorer.training_info["n"]} | summary)
    return {"rows": rows, "fit": fit_learning_curve(rows)}


def fit_learning_curve(rows: list[dict]) -> dict | None:
    """Least-squares fit of pearson = ceiling - slope / sqrt(n_train) (None with fewer than three rows)."""
    if len(rows) < 3:
        return None
    inverse_root = np.array([1.0 / np.sqrt(row["n_train"]) for row in rows])
    slope, ceiling = np.polyfit(-inverse_root, [row["pearson"] for row in rows], 1)
    return {"ceiling": float(ceiling), "slope": float(slope)}


def essays_for_pearson(fit: dict, target: float) -> float | None:
    """Labelled essays the learning-curve fit needs for test r = target (None: the fitted ceiling is below it)."""
    if fit is None or fit["slope"] <= 0 or fit["ceiling"] <= target:
        return None
    return (fit["slope"] / (fit["ceiling"] - target)) ** 2
