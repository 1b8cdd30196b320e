"""The scorer: essay features -> band, with uncertainty, calibration and a guard against gaming.

Families (ScorerConfig.family):
- "ensemble" (default, the reward model): hand-made text features + sentence statistics and sentence states from the
  first three layers of all-MiniLM-L6-v2 -> ridge regression and monotone-constrained LightGBM (several seeds); the
  mean of the members is calibrated (rl/scorer/band_calibration.py, fitted on out-of-fold predictions with the guard
  applied), and the guard subtracts penalties for repetition, word lists and off-topic or generic filler.
- "judge": an independent family for judging the rewriter: word and character TF-IDF + the hand-made features ->
  ridge, no neural encoder, plus the same guard. Train it on a part of the data the reward model did not see
  (see disjoint_halves).
- "tfidf_ridge": the plain TF-IDF + ridge baseline of the benchmark (no guard, no calibration).

Uncertainty combines the spread (standard deviation) of the members' calibrated predictions and the out-of-fold RMSE
in quadrature; the RMSE term grows with how far the essay's features lie outside the training range (capped) by a
weight fitted on the out-of-fold errors, and the whole is scaled so that prediction +- uncertainty holds 68% of them
(rl/scorer/band_calibration.py fit_uncertainty). Scorers of format 3 and older add the two terms, outside weight 1.
"""

import copy
import json
import pickle
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from rl.data import LabelledEssay
from rl.metrics import band_metrics
from rl.scorer.band_calibration import (
    CALIBRATIONS,
    COVERAGE,
    BandCalibration,
    fit_band_calibration,
    fit_uncertainty,
    stated_uncertainty,
)
from rl.scorer.features import (
    FEATURE_NAMES,
    HAND_FEATURES,
    build_features,
    hand_features,
    join_paragraphs,
    loose_paragraphs,
    normalise_for_features,
    written_paragraphs,
)
from rl.scorer.guard import Guard

# Re-exported: scorers saved before the members moved to rl.scorer.members pickle them under this module.
from rl.scorer.members import (  # noqa: F401
    Features,
    LightGBMMember,
    RidgeMember,
    TfidfRidgeMember,
    fit_members,
    make_members,
    subset,
)
from rl.text import text_hash

FAMILIES = ("ensemble", "judge", "tfidf_ridge")
# 2: features from MiniLM layer 3 only; 3: a BandCalibration and an uncertainty scale; 4: uncertainty terms in
# quadrature with a fitted outside weight, the ridge member bounded near the training bands; 5: int8 embedding on x86,
# the precision trained in kept in training_info (format 4 and older load with the bf16/fp32 trial, "float")
FORMAT_VERSION = 5
READABLE_FORMATS = (2, 3, 4, 5)  # older formats load with the calibration and uncertainty they were saved with
MAX_OUTSIDE_RANGE = 3.0  # distance outside the training range (in training ranges) counted at most
Progress = Callable[[int, int, str], None]


@dataclass
class ScorerConfig:
    family: str = "ensemble"
    ridge_alpha: float = 1000.0
    pca_components: int = 32
    lgbm_estimators: int = 600
    lgbm_learning_rate: float = 0.02
    lgbm_leaves: int = 7
    seeds: tuple[int, ...] = (0, 1, 2)
    tfidf_alpha: float = 3.0
    tfidf_max_features: int = 50_000
    cv_folds: int = 5  # out-of-fold predictions fit the calibration and give honest training metrics; <2: none
    calibration: str = "stretch"  # a method of band_calibration.CALIBRATIONS
    stretch: float | None = None  # None: chosen on out-of-fold predictions (stretch, shrink)
    max_mae_increase: float = 0.02  # the stretch may cost at most this much out-of-fold MAE
    uncertainty_coverage: float = COVERAGE  # out-of-fold share inside prediction +- uncertainty; 0: unscaled
    guard: bool = True
    embedding_precision: str = "auto"  # rl.embeddings.PRECISIONS
    embedding_cache: str = ""  # .npz for experiments; empty: none
    feature_batch: int = 256  # essays per embedding call: larger batches waste less padding (~20% faster than 64)

    def __post_init__(self):
        if self.family not in FAMILIES:
            raise ValueError(f"family must be one of {FAMILIES}, not {self.family!r}")
        if self.calibration not in CALIBRATIONS:
            raise ValueError(f"calibration must be one of {CALIBRATIONS}, not {self.calibration!r}")
        self.seeds = tuple(self.seeds)


@dataclass
class Prediction:
    band: float  # clipped to 0-9, not rounded
    uncertainty: float


def _no_progress(done: int, total: int, message: str) -> None:
    pass


class Scorer:
    def __init__(self, config: ScorerConfig):
        self.config = config
        self.members: list = []
        self.calibration = BandCalibration("none", 0.0)
        self.uncertainty_scale = 1.0
        self.outside_weight = 1.0  # how much the residual term grows per training range outside it
        self.uncertainty_terms = "quadrature"  # format 3 and older: "sum"
        self.guard: Guard | None = None
        self.oof_rmse = 1.0
        self.oof: dict | None = None  # out-of-fold predictions of the training essays (not saved): refit calibrations
        self.feature_low: np.ndarray | None = None
        self.feature_high: np.ndarray | None = None
        self.training_info: dict = {}
        self._embedder = None

    # ---- features -------------------------------------------------------------------------------------------
    @property
    def embedder(self):
        if self._embedder is None:
            from rl.embeddings import EmbedderConfig, SentenceEmbedder

            self._embedder = SentenceEmbedder(
                EmbedderConfig(precision=self.config.embedding_precision, disk_cache=self.config.embedding_cache)
            )
        return self._embedder

    def features(self, questions: list[str], essays: list[str], progress: Progress = _no_progress) -> Features:
        texts = [normalise_for_features(essay) for essay in essays]
        if self.config.family == "tfidf_ridge":
            return Features(table=np.zeros((len(essays), 0)), texts=texts)
        if self.config.family == "judge":
            rows = [hand_features(q, e) for q, e in zip(questions, essays, strict=True)]
            return Features(
                table=np.array([[row[n] for n in HAND_FEATURES] for row in rows]), names=HAND_FEATURES, texts=texts
            )
        tables, styles = [], []
        step = self.config.feature_batch
        for start in range(0, len(essays), step):
            matrix = build_features(self.embedder, questions[start : start + step], essays[start : start + step])
            tables.append(matrix.features)
            styles.append(matrix.style_vectors)
            progress(min(start + step, len(essays)), len(essays), "essay features")
        if self.config.embedding_cache:
            self.embedder.save_disk_cache()
        return Features(table=np.vstack(tables), names=FEATURE_NAMES, style=np.vstack(styles), texts=texts)

    # ---- prediction -----------------------------------------------------------------------------------------
    def member_predictions(self, features: Features) -> np.ndarray:
        """(members, n) raw predictions."""
        return np.stack([member.predict(features) for member in self.members])

    def predict_features(self, features: Features) -> list[Prediction]:
        raw = self.member_predictions(features)
        outside = self._outside_training_range(features.table)
        penalties = self.guard.penalties(features.table, features.names) if self.guard is not None else 0.0
        bands, spread = self._bands_and_spread(raw, outside, penalties)
        uncertainty = self.uncertainty_scale * self._stated_uncertainty(spread, outside)
        return [Prediction(float(b), float(u)) for b, u in zip(bands, uncertainty, strict=True)]

    def _bands_and_spread(self, raw: np.ndarray, outside: np.ndarray, penalties) -> tuple[np.ndarray, np.ndarray]:
        """raw: (members, n). Calibrated mean less the guard's penalties (clipped to 0-9), and the members' spread."""
        doubt = member_doubt(raw, outside)
        bands = np.clip(self.calibration.apply(raw.mean(0), doubt) - penalties, 0.0, 9.0)
        spread = self.calibration.apply(raw, doubt).std(0) if len(raw) > 1 else np.zeros(raw.shape[1])
        return bands, spread

    def _stated_uncertainty(self, spread: np.ndarray, outside: np.ndarray) -> np.ndarray:
        """Before the uncertainty scale."""
        if self.uncertainty_terms == "sum":
            return spread + self.oof_rmse * (1.0 + self.outside_weight * outside)
        return stated_uncertainty(spread, self.oof_rmse, outside, self.outside_weight)

    def _outside_training_range(self, table: np.ndarray) -> np.ndarray:
        if self.feature_low is None or table.shape[1] == 0:
            return np.zeros(len(table))
        # Features that barely vary in training (e.g. duplicate shares, almost always 0) must not explode this.
        width = np.maximum(self.feature_high - self.feature_low, 1e-3 + 0.1 * np.abs(self.feature_high))
        outside = np.maximum(self.feature_low - table, 0) + np.maximum(table - self.feature_high, 0)
        return np.minimum((outside / width).max(1), MAX_OUTSIDE_RANGE)

    def predict(self, questions: list[str], essays: list[str], features: Features | None = None) -> list[Prediction]:
        """features: this batch's, computed once before (evaluations that compare calibrations reuse them)."""
        if len(questions) != len(essays):
            raise ValueError("questions and essays must have the same length")
        if not essays:
            return []
        predictions = self.predict_features(features or self.features(list(questions), list(essays)))
        if self.guard is not None and self.config.family == "ensemble":
            self._cap_by_loose_paragraphs(list(questions), list(essays), predictions)
        return predictions

    def _cap_by_loose_paragraphs(self, questions: list[str], essays: list[str], predictions: list[Prediction]):
        """An essay with paragraphs loosely tied to it (features.loose_paragraphs) scores at most what it scores
        without them: a paragraph of memorised, topic-free filler cannot raise the band once it is recognised."""
        flagged = loose_paragraphs(self.embedder, essays)
        rows = [i for i, loose in enumerate(flagged) if loose]
        if not rows:
            return
        kept = [
            join_paragraphs([block for j, block in enumerate(written_paragraphs(essays[i])) if j not in flagged[i]])
            for i in rows
        ]
        capped = self.predict_features(self.features([questions[i] for i in rows], kept))
        for i, cap in zip(rows, capped, strict=True):
            if cap.band < predictions[i].band:
                predictions[i] = Prediction(cap.band, predictions[i].uncertainty)

    def predict_band(self, question: str, essay: str) -> float:
        return self.predict([question], [essay])[0].band

    # ---- persistence ----------------------------------------------------------------------------------------
    def save(self, folder) -> Path:
        """Write the scorer into folder (model.pkl + meta.json). Load only folders you trust (pickle)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        state = {
            "format_version": FORMAT_VERSION,
            "config": asdict(self.config),
            "members": self.members,
            "calibration": self.calibration,
            "uncertainty_scale": self.uncertainty_scale,
            "outside_weight": self.outside_weight,
            "uncertainty_terms": self.uncertainty_terms,
            "guard": self.guard,
            "oof_rmse": self.oof_rmse,
            "feature_low": self.feature_low,
            "feature_high": self.feature_high,
            "training_info": self.training_info,
        }
        with open(folder / "model.pkl", "wb") as handle:
            pickle.dump(state, handle, protocol=pickle.HIGHEST_PROTOCOL)
        meta = {"format_version": FORMAT_VERSION, "config": asdict(self.config), "training": self.training_info}
        (folder / "meta.json").write_text(json.dumps(meta, indent=2, default=float))
        return folder


def load_scorer(folder) -> Scorer:
    with open(Path(folder) / "model.pkl", "rb") as handle:
        state = pickle.load(handle)
    version = state.get("format_version")
    if version not in READABLE_FORMATS:
        raise ValueError(
            f"the scorer in {folder} has format {version}, this code reads formats"
            f" {', '.join(map(str, READABLE_FORMATS))}: retrain it (manage.py train_scorer)"
        )
    if version == 2:
        # The same bands and uncertainties as when it was saved: its stretch, no uncertainty scale.
        state["calibration"] = BandCalibration("stretch", state["center"], state["stretch"])
        state["uncertainty_scale"] = 1.0
        state["config"] |= {"calibration": "stretch", "uncertainty_coverage": 0.0}
    if version <= 3:
        state |= {"outside_weight": 1.0, "uncertainty_terms": "sum"}
    trained_in = state["training_info"].get("embedding_precision")
    if state["config"].get("embedding_precision", "auto") == "auto" and (
        version <= 4 or trained_in in ("bf16", "fp32")
    ):
        # Features computed in bf16 or fp32 (before int8 embedding, or where int8 kernels were missing): keep them so,
        # by the timed trial "float" runs; bf16 and fp32 vectors agree closely, int8 ones less so.
        state["config"]["embedding_precision"] = "float"
    scorer = Scorer(ScorerConfig(**state["config"]))
    for key in (
        "members",
        "calibration",
        "uncertainty_scale",
        "outside_weight",
        "uncertainty_terms",
        "guard",
        "oof_rmse",
        "feature_low",
        "feature_high",
    ):
        setattr(scorer, key, state[key])
    scorer.training_info = state["training_info"]
    return scorer


def member_doubt(raw: np.ndarray, outside: np.ndarray) -> np.ndarray:
    """How little the members can be trusted on each essay: their spread plus the distance outside the training
    range (in training ranges); the "shrink" calibration withdraws the stretch as it grows."""
    spread = raw.std(0) if len(raw) > 1 else np.zeros(raw.shape[1])
    return spread + outside


def train_scorer(
    records: list[LabelledEssay],
    config: ScorerConfig | None = None,
    progress: Progress | None = None,
    embedder=None,
    features: Features | None = None,
):
    """Fit a scorer on labelled essays (duplicates by normalised text are merged: the mean band, summed weight).

    embedder: a SentenceEmbedder to reuse (its sentence cache makes training again on overlapping essays fast).
    features: the records' features computed before (evaluations that train many scorers on parts of one set of
    essays); the records must then hold no duplicate essays.
    """
    config = config or ScorerConfig()
    progress = progress or _no_progress
    started = time.monotonic()
    if features is not None and len(_merge_duplicates(records)) != len(records):
        raise ValueError("precomputed features need records without duplicate essays")
    records = _merge_duplicates(records)
    if len(records) < 10:
        raise ValueError(f"need at least 10 distinct labelled essays, got {len(records)}")
    y = np.array([r.band for r in records], dtype=np.float64)
    weights = np.array([r.weight for r in records], dtype=np.float64)
    scorer = Scorer(config)
    scorer._embedder = embedder
    if features is None:
        features = scorer.features([r.question for r in records], [r.essay for r in records], progress)
    center = float(np.average(y, weights=weights))
    if features.table.shape[1]:
        scorer.feature_low = np.percentile(features.table, 0.5, axis=0)
        scorer.feature_high = np.percentile(features.table, 99.5, axis=0)
    calibrate = config.family != "tfidf_ridge"
    folds = config.cv_folds if calibrate and len(records) >= 5 * max(config.cv_folds, 1) else 0
    scorer.calibration = BandCalibration("stretch" if calibrate else "none", center, config.stretch or 1.0)
    if folds >= 2:
        from sklearn.model_selection import KFold

        oof_members, oof_penalties = np.zeros((len(make_members(config)), len(records))), np.zeros(len(records))
        for fold, (fit_index, held_index) in enumerate(KFold(folds, shuffle=True, random_state=0).split(y)):
            progress(fold, folds + 1, f"cross-validation fold {fold + 1}/{folds}")
            members = fit_members(config, subset(features, fit_index), y[fit_index], weights[fit_index])
            oof_members[:, held_index] = np.stack([m.predict(subset(features, held_index)) for m in members])
            if config.guard:
                guard = Guard.fit(features.table[fit_index], features.names)
                oof_penalties[held_index] = guard.penalties(features.table[held_index], features.names)
        outside = scorer._outside_training_range(features.table)
        scorer.oof = {"y": y, "weights": weights, "members": oof_members, "penalties": oof_penalties}
        scorer.oof |= {"outside": outside, "center": center}
        fit_calibration(scorer, config.calibration)
    progress(folds, folds + 1, "final fit")
    scorer.members = fit_members(config, features, y, weights)
    if config.guard and config.family != "tfidf_ridge":
        scorer.guard = Guard.fit(features.table, features.names)
    scorer.training_info = (
        {
            "calibration": scorer.calibration.describe(),
            "uncertainty_scale": scorer.uncertainty_scale,
            "oof": None,
        }
        | scorer.training_info
        | {
            "n": len(records),
            "sources": _count_sources(records),
            "seconds": round(time.monotonic() - started, 1),
            # int8, bf16 or fp32: what the features were computed in (None: a family without embeddings)
            "embedding_precision": scorer._embedder.precision if scorer._embedder is not None else None,
            "data_hash": text_hash("".join(sorted(text_hash(r.essay) + f"{r.band}" for r in records))),
        }
    )
    progress(folds + 1, folds + 1, "done")
    return scorer


def fit_calibration(scorer: Scorer, method: str) -> Scorer:
    """Fit the band calibration `method`, the out-of-fold RMSE and the uncertainty scale on scorer.oof (in place);
    training_info["oof"] gets the out-of-fold metrics of the calibrated, guarded bands."""
    oof, config = scorer.oof, scorer.config
    doubt = member_doubt(oof["members"], oof["outside"])
    mean = oof["members"].mean(0)
    scorer.calibration = fit_band_calibration(
        method, oof["y"], mean, oof["penalties"], oof["center"], doubt, oof["weights"], config.max_mae_increase,
        config.stretch,
    )  # fmt: skip
    guarded, spread = scorer._bands_and_spread(oof["members"], oof["outside"], oof["penalties"])
    metrics = band_metrics(oof["y"], guarded)
    scorer.oof_rmse = metrics["rmse"]
    scorer.outside_weight, scorer.uncertainty_scale = fit_uncertainty(
        oof["y"], guarded, spread, scorer.oof_rmse, oof["outside"], config.uncertainty_coverage
    )
    scorer.training_info |= {
        "calibration": scorer.calibration.describe(),
        "uncertainty_scale": scorer.uncertainty_scale,
        "outside_weight": scorer.outside_weight,
        "oof": {k: v for k, v in metrics.items() if k in {"qwk", "mae", "rmse", "pearson"}},
    }
    return scorer


def recalibrated(scorer: Scorer, method: str, uncertainty_coverage: float | None = None) -> Scorer:
    """A copy of a freshly trained scorer (it has .oof) with another calibration; the members are shared."""
    if scorer.oof is None:
        raise ValueError("this scorer has no out-of-fold predictions (loaded, or trained without folds)")
    twin = copy.copy(scorer)
    coverage = scorer.config.uncertainty_coverage if uncertainty_coverage is None else uncertainty_coverage
    twin.config = replace(scorer.config, calibration=method, uncertainty_coverage=coverage)
    twin.training_info = dict(scorer.training_info)
    return fit_calibration(twin, method)


def _merge_duplicates(records: list[LabelledEssay]) -> list[LabelledEssay]:
    groups: dict[str, list[LabelledEssay]] = {}
    for record in records:
        groups.setdefault(text_hash(record.essay), []).append(record)
    merged = []
    for group in groups.values():
        if len(group) == 1:
            merged.append(group[0])
            continue
        weights = np.array([r.weight for r in group])
        band = float(np.average([r.band for r in group], weights=weights)) if weights.sum() > 0 else group[0].band
        merged.append(LabelledEssay(group[0].question, group[0].essay, band, group[0].source, float(weights.sum())))
    return merged


def _count_sources(records: list[LabelledEssay]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for record in records:
        counts[record.source] = counts.get(record.source, 0) + 1
    return counts


def disjoint_halves(records: list[LabelledEssay], seed: int = 0) -> tuple[list[LabelledEssay], list[LabelledEssay]]:
    """Split records in two halves that share no question (and so no essay), e.g. reward model vs. judge data."""
    questions = sorted({text_hash(r.question) for r in records})
    rng = np.random.default_rng(seed)
    first = set(rng.permutation(questions)[: len(questions) // 2].tolist())
    half_a = [r for r in records if text_hash(r.question) in first]
    half_b = [r for r in records if text_hash(r.question) not in first]
    return half_a, half_b
