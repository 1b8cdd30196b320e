"""Calibration of a scorer's bands to one deployment's raters: a shift and a slope fitted on approved human bands.

Each deployment's raters are the scale that counts. The scorer learnt the published bands' scale; where its raters
read essays more (or less) generously, or spread them wider, a linear map fitted on their consensus bands fixes most
of the error (the ranking stays). The map is applied around the centre of the scorer's predictions on the labels:

    calibrated = centre + shift + slope * (band - centre), clipped to 0-9

so `shift` moves every band and `slope` stretches or shrinks bands around that centre (a band difference, as in the
reward, changes only by the slope). While labels are few the fit is shrunk toward the identity (a ridge prior worth
`prior_labels` labels on both the shift and slope - 1), below `min_labels` nothing but the identity is fitted, and
the form (identity, shift only, shift and slope) is chosen on cross-validated errors on the labels, a richer form
only where it clearly beats a simpler one (a gain larger than `selection_z` standard errors, 2 by default), so labels
that already agree with the scorer's scale mostly leave it alone. `mae_before` / `mae_after` are measured on the
same labels, `mae_after` cross-validated (the whole fit, form choice included, redone without each fold), so it is
honest.

Torch-free and Django-free: numpy only.
"""

from dataclasses import asdict, dataclass, fields, replace

import numpy as np

MIN_LABELS = 20
PRIOR_LABELS = 10.0
SLOPE_BOUNDS = (0.5, 2.0)
SHIFT_BOUND = 3.0
FOLDS = 10
# A richer form must lower the cross-validated MAE by at least this much (bands), and by more than `selection_z`
# standard errors of the paired difference, to be chosen over a simpler one. A larger z fits raters who agree with
# the scorer's scale less often by chance, and fixes a real difference of scale later (README: rater calibration).
MIN_GAIN = 0.01
SELECTION_Z = 2.0  # at 1, raters on the published scale were made worse in 7-20% of draws (docs/scorer-experiments.md)
FORMS = ("identity", "shift", "shift+slope")


@dataclass(frozen=True)
class RaterCalibration:
    shift: float = 0.0
    slope: float = 1.0
    n_labels: int = 0
    centre: float = 0.0
    form: str = "identity"  # one of FORMS
    mae_before: float | None = None  # on the labels, the scorer's bands as they are
    mae_after: float | None = None  # on the labels, cross-validated
    min_labels: int = MIN_LABELS

    @property
    def is_identity(self) -> bool:
        return self.shift == 0.0 and self.slope == 1.0

    def apply(self, band: float) -> float:
        return float(np.clip(self.centre + self.shift + self.slope * (band - self.centre), 0.0, 9.0))

    def apply_array(self, bands) -> np.ndarray:
        bands = np.asarray(bands, dtype=np.float64)
        return np.clip(self.centre + self.shift + self.slope * (bands - self.centre), 0.0, 9.0)

    def scale_uncertainty(self, uncertainty: float) -> float:
        """An uncertainty in the scorer's bands, in calibrated bands (the stretch widens it too)."""
        return float(uncertainty * self.slope)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> "RaterCalibration":
        """The stored dict back (unknown keys ignored, so older or newer records still load); None: identity."""
        if not data:
            return cls()
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def _fit_form(predicted: np.ndarray, human: np.ndarray, form: str, prior_labels: float) -> tuple[float, float, float]:
    """(shift, slope, centre) of one form, shrunk toward the identity by a prior worth `prior_labels` labels."""
    centre = float(predicted.mean())
    if form == "identity":
        return 0.0, 1.0, centre
    n = len(predicted)
    shrink = n / (n + prior_labels)
    shift = float(np.clip(shrink * (human.mean() - centre), -SHIFT_BOUND, SHIFT_BOUND))
    slope = 1.0
    if form == "shift+slope":
        dx = predicted - centre
        sxx = float(dx @ dx)
        if sxx > 1e-9:
            # Ridge on (slope - 1) with strength prior_labels * var(predicted): the same n / (n + k) shrinkage.
            sxy = float(dx @ (human - human.mean()))
            slope = 1.0 + (sxy - sxx) / (sxx + prior_labels * sxx / n)
            slope = float(np.clip(slope, *SLOPE_BOUNDS))
    return shift, slope, centre


def _apply(predicted: np.ndarray, shift: float, slope: float, centre: float) -> np.ndarray:
    return np.clip(centre + shift + slope * (predicted - centre), 0.0, 9.0)


def _folds(n: int, folds: int) -> list[np.ndarray]:
    """Deterministic interleaved folds (every k-th label), at most one per label."""
    k = min(folds, n)
    return [np.arange(i, n, k) for i in range(k)]


def _cv_errors(predicted: np.ndarray, human: np.ndarray, fit, folds: int) -> np.ndarray:
    """Absolute error on each label of fit(predicted_train, human_train) -> (shift, slope, centre), fitted without
    the label's fold."""
    errors = np.empty(len(predicted))
    for held in _folds(len(predicted), folds):
        train = np.ones(len(predicted), dtype=bool)
        train[held] = False
        shift, slope, centre = fit(predicted[train], human[train])
        errors[held] = np.abs(_apply(predicted[held], shift, slope, centre) - human[held])
    return errors


def _clearly_better(current: np.ndarray, candidate: np.ndarray, selection_z: float) -> bool:
    """The candidate's cross-validated errors are lower by MIN_GAIN on average and by more than selection_z standard
    errors of the paired difference: a gain that few labels show by chance does not count."""
    gain = current - candidate
    if gain.mean() <= MIN_GAIN:
        return False
    spread = gain.std(ddof=1) / np.sqrt(len(gain)) if len(gain) > 1 else np.inf
    return bool(gain.mean() > selection_z * spread)


def _choose_and_fit(
    predicted: np.ndarray, human: np.ndarray, prior_labels: float, min_labels: int, folds: int, selection_z: float
) -> tuple[str, float, float, float]:
    """The simplest form that no richer form clearly beats on cross-validated errors, fitted on all labels."""
    if len(predicted) < max(min_labels, 2):
        return "identity", 0.0, 1.0, float(predicted.mean()) if len(predicted) else 0.0
    chosen, errors = "identity", np.abs(predicted - human)
    for form in FORMS[1:]:
        candidate = _cv_errors(predicted, human, lambda p, h, form=form: _fit_form(p, h, form, prior_labels), folds)
        if _clearly_better(errors, candidate, selection_z):
            chosen, errors = form, candidate
    return (chosen, *_fit_form(predicted, human, chosen, prior_labels))


def fit_rater_calibration(
    predicted,
    human,
    prior_labels: float = PRIOR_LABELS,
    min_labels: int = MIN_LABELS,
    folds: int = FOLDS,
    selection_z: float = SELECTION_Z,
) -> RaterCalibration:
    """Fit the calibration of the scorer's bands `predicted` to the raters' consensus bands `human` (same essays)."""
    predicted = np.asarray(predicted, dtype=np.float64)
    human = np.asarray(human, dtype=np.float64)
    if predicted.shape != human.shape or predicted.ndim != 1:
        raise ValueError(
            f"predicted and human bands must be two lists of one length, not {predicted.shape} and {human.shape}"
        )
    if not (np.isfinite(predicted).all() and np.isfinite(human).all()):
        raise ValueError("predicted and human bands must be finite numbers")
    n = len(predicted)
    if n == 0:
        return RaterCalibration(min_labels=min_labels)
    if not np.isfinite(selection_z) or selection_z < 0:
        raise ValueError(f"selection_z must be a number of standard errors >= 0, not {selection_z}")
    form, shift, slope, centre = _choose_and_fit(predicted, human, prior_labels, min_labels, folds, selection_z)
    mae_before = float(np.abs(predicted - human).mean())
    if n < max(min_labels, 2):
        mae_after = mae_before
    else:
        # The whole procedure (form choice included) redone without each fold: an honest "after".
        def refit(p, h):
            return _choose_and_fit(p, h, prior_labels, min_labels=2, folds=folds, selection_z=selection_z)[1:]

        mae_after = float(_cv_errors(predicted, human, refit, folds).mean())
    return RaterCalibration(
        shift=shift,
        slope=slope,
        n_labels=n,
        centre=centre,
        form=form,
        mae_before=mae_before,
        mae_after=mae_after,
        min_labels=min_labels,
    )


class CalibratedScorer:
    """A scorer whose bands come out on the raters' scale: predict() applies the calibration to every band and
    scales every uncertainty by its slope. Anything else (config, training_info, embedder) is the scorer's own."""

    def __init__(self, scorer, calibration: RaterCalibration):
        self.scorer = scorer
        self.calibration = calibration

    def predict(self, questions: list[str], essays: list[str]) -> list:
        return [
            replace(
                p, band=self.calibration.apply(p.band), uncertainty=self.calibration.scale_uncertainty(p.uncertainty)
            )
            for p in self.scorer.predict(questions, essays)
        ]

    def predict_band(self, question: str, essay: str) -> float:
        return self.predict([question], [essay])[0].band

    def predict_features(self, features) -> list:
        raise TypeError("a calibrated scorer predicts from texts (predict); use .scorer for its raw features")

    def __getattr__(self, name: str):
        if name in ("scorer", "calibration"):  # not set yet (copy, unpickling): no endless recursion
            raise AttributeError(name)
        return getattr(self.scorer, name)
