"""Accuracy metrics and the gaming (perturbation) report of a scorer on labelled essays."""

import random
from dataclasses import dataclass

import numpy as np

from rl.data import LabelledEssay, without_essays_of
from rl.metrics import band_metrics, round_to_half_band
from rl.scorer.perturbations import PERTURBATIONS
from rl.scorer.rater_calibration import SELECTION_Z

# Bands are floats from float32 embeddings under bf16: a change smaller than this is numerical noise, not a raise.
RAISE_TOLERANCE = 0.01
# The figures the ablation and the learning curve report for each scorer they train.
SUMMARY_METRICS = ("qwk", "mae", "rmse", "pearson")


def evaluate(scorer, records: list[LabelledEssay]) -> dict:
    predictions = scorer.predict([r.question for r in records], [r.essay for r in records])
    metrics = band_metrics([r.band for r in records], [p.band for p in predictions])
    metrics["mean_uncertainty"] = float(np.mean([p.uncertainty for p in predictions])) if predictions else float("nan")
    if predictions:
        bands, uncertainties = [p.band for p in predictions], [p.uncertainty for p in predictions]
        metrics |= interval_figures([r.band for r in records], bands, uncertainties)
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


# ---- shift of source -----------------------------------------------------------------------------------------------


@dataclass
class ShiftSlice:
    """Train on `train`, test on `test`: essays that differ from the training ones in the way `shift` says."""

    name: str
    shift: str
    train: list[LabelledEssay]
    test: list[LabelledEssay]


SHORT_ESSAY_WORDS = 250  # the task's minimum length; shorter essays are rarer and score lower (mean 4.6 against 6.4)
HELD_OUT_QUESTION_SHARE = 0.25
TOP_HEAVY_MIN_BAND = 5.0  # the held-out essays from this band up: mean band 6.6, like an outside set of better writers


def shift_slices(records: list[LabelledEssay], seed: int = 0) -> list[ShiftSlice]:
    """Cross-source evaluations built from the training essays alone (the benchmark test set stays untouched).

    source: trained on the TFCS-cleaned chillies rows (lowercased, one block), tested on the raw chillies rows of
      another release of the dataset (case kept, written in paragraphs, 25 "<4" bands stored as 4.0).
    prompts: a quarter of the questions held out, with all their essays.
    top_heavy: the same held-out questions, essays of band 5.0 and up only: a population of stronger writers (the
      label distribution moves, the scorer's training does not).
    length: trained on essays of 250 words and more, tested on the shorter ones (which also score lower).
    """
    from rl.text import text_hash

    rng = np.random.default_rng(seed)
    questions = sorted({text_hash(r.question) for r in records})
    held = set(rng.permutation(questions)[: round(HELD_OUT_QUESTION_SHARE * len(questions))].tolist())
    prompt_train = [r for r in records if text_hash(r.question) not in held]
    prompt_test = [r for r in records if text_hash(r.question) in held]
    short = [len(r.essay.split()) < SHORT_ESSAY_WORDS for r in records]
    return [
        ShiftSlice(
            "source",
            "another release of the data: raw chillies rows (paragraphs, case kept) after training on TFCS rows",
            [r for r in records if r.source != "chillies_raw"],
            [r for r in records if r.source == "chillies_raw"],
        ),
        ShiftSlice("prompts", "questions never seen in training", prompt_train, prompt_test),
        ShiftSlice(
            "top_heavy",
            f"unseen questions, bands >= {TOP_HEAVY_MIN_BAND}: stronger writers than in training",
            prompt_train,
            [r for r in prompt_test if r.band >= TOP_HEAVY_MIN_BAND],
        ),
        ShiftSlice(
            "length",
            f"essays under {SHORT_ESSAY_WORDS} words after training on longer ones",
            [r for r, s in zip(records, short, strict=True) if not s],
            [r for r, s in zip(records, short, strict=True) if s],
        ),
    ]


def interval_figures(true_bands, bands, uncertainties) -> dict:
    """Coverage of band +- uncertainty and how well the uncertainty ranks the errors (Pearson r with |error|)."""
    from rl.metrics import pearson_r

    errors = np.abs(np.asarray(true_bands, dtype=np.float64) - np.asarray(bands))
    uncertainties = np.asarray(uncertainties)
    return {
        "coverage": float((errors <= uncertainties + 1e-9).mean()),
        "uncertainty_error_r": pearson_r(uncertainties, errors),
        "mean_uncertainty": float(uncertainties.mean()),
    }


def calibration_rows(scorer, records: list[LabelledEssay], methods, features=None) -> dict:
    """For each calibration method: the freshly trained `scorer` refitted with it, evaluated on records (the essays'
    features computed once). Each row: accuracy, mean band, interval figures as stated and before the scale, and the
    bands themselves."""
    from rl.scorer.model import recalibrated

    questions, essays = [r.question for r in records], [r.essay for r in records]
    features = features or scorer.features(questions, essays)
    y = np.array([r.band for r in records])
    rows = {}
    for method in methods:
        twin = recalibrated(scorer, method)
        predictions = twin.predict(questions, essays, features=features)
        bands = np.array([p.band for p in predictions])
        stated = np.array([p.uncertainty for p in predictions])
        metrics = band_metrics(y, bands)
        rows[method] = {k: metrics[k] for k in SHIFT_METRICS} | {
            "calibration": twin.calibration.describe(),
            "mean_band": float(bands.mean()),
            **interval_figures(y, bands, stated),
            "coverage_unscaled": interval_figures(y, bands, stated / twin.uncertainty_scale)["coverage"],
            "bands": bands,
        }
    return rows


SHIFT_METRICS = ("qwk", "mae", "pearson", "within_0_5")


def shift_evaluation(
    records: list[LabelledEssay], config, methods, embedder=None, progress=None, selection_z: float = SELECTION_Z
) -> dict:
    """Each shift slice: a scorer trained on its training part (once per distinct training part), every calibration
    method on its test part, TF-IDF + ridge trained and tested on the same essays for comparison, and the MAE after
    a rater calibration fitted on 10-100 of the slice's bands (label_curves.rater_calibration_curve, with
    selection_z)."""
    from dataclasses import replace

    from rl.scorer.label_curves import rater_calibration_curve

    if config.calibration not in methods:
        raise ValueError(f"methods must include the configured calibration {config.calibration!r}")
    from rl.scorer.model import train_scorer

    progress = progress or (lambda done, total, message: None)
    report, trained = {}, {}
    slices = shift_slices(records)
    for step, piece in enumerate(slices):
        progress(step, len(slices), f"shift slice {piece.name}")
        if id(piece.train) not in trained:
            scorer = train_scorer(piece.train, config, embedder=embedder)
            embedder = scorer.embedder
            baseline = train_scorer(piece.train, replace(config, family="tfidf_ridge"))
            trained[id(piece.train)] = scorer, baseline
        scorer, baseline = trained[id(piece.train)]
        ridge = evaluate(baseline, piece.test)
        report[piece.name] = {
            "shift": piece.shift,
            "n_train": len(piece.train),
            "n_test": len(piece.test),
            "test_mean_band": float(np.mean([r.band for r in piece.test])),
            "ridge": {k: ridge[k] for k in SHIFT_METRICS},
            "methods": calibration_rows(scorer, piece.test, methods),
        }
        bands = report[piece.name]["methods"][config.calibration]["bands"]
        report[piece.name]["rater_calibration"] = rater_calibration_curve(
            [r.band for r in piece.test], bands, selection_z=selection_z
        )
    progress(len(slices), len(slices), "shift slices done")
    return report
