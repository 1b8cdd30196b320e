"""How the members' raw predictions become a band, and how wide the stated uncertainty is.

Both are fitted on out-of-fold predictions of the training essays (every essay predicted by members that did not see
it), never on the essays' own in-sample fit. The members' mean is compressed toward the training mean (ridge and
boosting both regress to the mean), so a calibration decides how much spread to give back. Methods:

- "stretch": centre + s * (raw - centre), s the largest-QWK stretch whose out-of-fold MAE stays within a tolerance of
  the best (the scorer's calibration up to format 2; s = 1.45 on the published data).
- "none": the members' mean as it is.
- "mae_stretch": the stretch with the lowest out-of-fold MAE.
- "isotonic": isotonic regression of the band on the out-of-fold mean (monotone, bounded by the training bands).
- "ordinal": a cumulative-logit (proportional odds) model of the band given the out-of-fold mean; the band is the
  median of the predicted distribution, made continuous (it crosses each half-band step where the model's odds do).
- "shrink": the stretch, given in full to essays the members agree on and withdrawn linearly as the members' doubt
  (spread, distance outside the training range) grows from its training median to its 95th percentile.

Every method is monotone in the raw prediction and bounded to 0-9.

The stated uncertainty combines the members' spread and the out-of-fold RMSE as independent errors (in quadrature);
the RMSE term grows with the essay's distance outside the training range by a weight chosen on the out-of-fold errors
(the Gaussian likelihood of OUTSIDE_WEIGHTS' candidates), not assumed. The uncertainty scale then makes prediction +-
uncertainty cover COVERAGE of the out-of-fold errors (scale = that quantile of |error| / stated uncertainty).
"""

from dataclasses import dataclass

import numpy as np

from rl.metrics import band_metrics

CALIBRATIONS = ("stretch", "none", "mae_stretch", "isotonic", "ordinal", "shrink")
COVERAGE = 0.68  # the share of true bands prediction +- uncertainty claims to hold (one standard deviation)
STRETCHES = np.round(np.arange(1.0, 2.01, 0.05), 2)
OUTSIDE_WEIGHTS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0)


@dataclass
class BandCalibration:
    method: str
    center: float
    stretch: float = 1.0
    knots_x: np.ndarray | None = None  # isotonic / ordinal: a monotone piecewise-linear map (np.interp, clamped)
    knots_y: np.ndarray | None = None
    doubt_low: float = 0.0  # shrink: full stretch at or below this doubt, none at or above doubt_high
    doubt_high: float = 1.0

    def apply(self, raw: np.ndarray, doubt: np.ndarray | None = None) -> np.ndarray:
        """Bands (unclipped by the guard, clipped to 0-9) for raw predictions; doubt: one value per column."""
        raw = np.asarray(raw, dtype=np.float64)
        if self.knots_x is not None:
            return np.interp(raw, self.knots_x, self.knots_y)
        stretch = self.stretch
        if self.method == "shrink" and doubt is not None:
            span = max(self.doubt_high - self.doubt_low, 1e-9)
            weight = np.clip((self.doubt_high - np.asarray(doubt)) / span, 0.0, 1.0)
            stretch = 1.0 + (self.stretch - 1.0) * weight
        return np.clip(self.center + stretch * (raw - self.center), 0.0, 9.0)

    def describe(self) -> str:
        if self.method in ("stretch", "mae_stretch", "shrink"):
            return f"{self.method} {self.stretch:.2f}"
        return self.method


def choose_stretch(y, oof, penalties, center, max_mae_increase, lowest_mae=False) -> float:
    """The largest-QWK stretch of out-of-fold predictions whose MAE stays within max_mae_increase of the best, or
    the lowest-MAE stretch (bands as the scorer makes them: stretched, then the guard's penalties subtracted)."""
    scored = [(s, band_metrics(y, center + s * (oof - center) - penalties)) for s in STRETCHES]
    best_mae = min(m["mae"] for _, m in scored)
    if lowest_mae:
        return float(min(scored, key=lambda item: item[1]["mae"])[0])
    allowed = [(s, m) for s, m in scored if m["mae"] <= best_mae + max_mae_increase]
    return float(max(allowed, key=lambda item: item[1]["qwk"])[0])


def _isotonic_knots(oof, target, weights):
    from sklearn.isotonic import IsotonicRegression

    model = IsotonicRegression(y_min=0.0, y_max=9.0, out_of_bounds="clip").fit(oof, target, sample_weight=weights)
    return np.asarray(model.X_thresholds_, dtype=np.float64), np.asarray(model.y_thresholds_, dtype=np.float64)


def _ordinal_knots(oof, y, weights):
    """Proportional-odds fit P(band <= level_k) = sigmoid(theta_k - beta * x); the median crosses from level k to
    level k+1 at x = theta_k / beta: knots at those points, half-way between the two levels."""
    from scipy.optimize import minimize
    from scipy.special import expit

    levels = np.unique(y)
    if len(levels) < 2:
        return np.array([oof.min(), oof.max()]), np.array([levels[0], levels[0]])
    index = np.searchsorted(levels, y)
    x = (oof - oof.mean()) / max(oof.std(), 1e-9)

    def unpack(params):
        return params[0], np.cumsum(np.concatenate([[params[1]], np.exp(params[2:])]))

    def loss(params):
        beta, theta = unpack(params)
        upper = np.concatenate([expit(theta[:, None] - beta * x[None, :]), np.ones((1, len(x)))])
        lower = np.concatenate([np.zeros((1, len(x))), upper[:-1]])
        p = (upper - lower)[index, np.arange(len(x))]
        return -(weights * np.log(np.maximum(p, 1e-12))).sum()

    start = np.concatenate([[1.0, -2.0], np.full(len(levels) - 2, np.log(4.0 / (len(levels) - 1)))])
    beta, theta = unpack(minimize(loss, start, method="L-BFGS-B").x)
    beta = max(beta, 1e-6)
    crossings = theta / beta * max(oof.std(), 1e-9) + oof.mean()
    halfway = (levels[:-1] + levels[1:]) / 2
    # Outside the crossings the median is the lowest / highest level.
    knots_x = np.concatenate([[crossings[0] - 1e-6], crossings, [crossings[-1] + 1e-6]])
    knots_y = np.concatenate([[levels[0]], halfway, [levels[-1]]])
    order = np.argsort(knots_x, kind="stable")
    return knots_x[order], np.maximum.accumulate(knots_y[order])


def fit_band_calibration(
    method: str,
    y: np.ndarray,
    oof: np.ndarray,
    penalties: np.ndarray,
    center: float,
    doubt: np.ndarray,
    weights: np.ndarray | None = None,
    max_mae_increase: float = 0.02,
    stretch: float | None = None,
) -> BandCalibration:
    """Fit one method on out-of-fold predictions `oof` (the members' mean) of bands `y`; `stretch` fixes it."""
    if method not in CALIBRATIONS:
        raise ValueError(f"calibration must be one of {CALIBRATIONS}, not {method!r}")
    weights = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=np.float64)
    if method == "none":
        return BandCalibration(method, center, 1.0)
    if method == "isotonic":
        # The guard subtracts its penalties after calibration: fit the band plus them.
        return BandCalibration(method, center, 1.0, *_isotonic_knots(oof, y + penalties, weights))
    if method == "ordinal":
        return BandCalibration(method, center, 1.0, *_ordinal_knots(oof, y + penalties, weights))
    if stretch is None:
        stretch = choose_stretch(y, oof, penalties, center, max_mae_increase, lowest_mae=method == "mae_stretch")
    if method == "shrink":
        return BandCalibration(
            method, center, stretch, doubt_low=float(np.median(doubt)), doubt_high=float(np.quantile(doubt, 0.95))
        )
    return BandCalibration(method, center, stretch)


def uncertainty_scale(y: np.ndarray, bands: np.ndarray, stated: np.ndarray, coverage: float = COVERAGE) -> float:
    """The factor that makes bands +- factor * stated cover `coverage` of the true bands y (out-of-fold)."""
    ratio = np.abs(np.asarray(y) - np.asarray(bands)) / np.maximum(np.asarray(stated), 1e-9)
    return float(np.quantile(ratio, coverage))


def stated_uncertainty(spread: np.ndarray, rmse: float, outside: np.ndarray, outside_weight: float) -> np.ndarray:
    """The members' spread and the residual error (out-of-fold RMSE, larger outside the training range) added as
    independent errors."""
    return np.hypot(spread, rmse * (1.0 + outside_weight * np.asarray(outside)))


def fit_uncertainty(
    y: np.ndarray, bands: np.ndarray, spread: np.ndarray, rmse: float, outside: np.ndarray, coverage: float = COVERAGE
) -> tuple[float, float]:
    """(outside weight, scale) fitted on out-of-fold errors: the weight whose scaled intervals give the errors the
    highest Gaussian likelihood, and the scale that makes them cover `coverage` (1.0 when coverage is 0: unscaled).
    A weight of 0 says that essays at the edge of the training range were predicted no worse than the others."""
    errors = np.asarray(y) - np.asarray(bands)
    best = None
    for weight in OUTSIDE_WEIGHTS:
        stated = stated_uncertainty(spread, rmse, outside, weight)
        scale = uncertainty_scale(y, bands, stated, coverage) if coverage > 0 else 1.0
        sigma = np.maximum(scale * stated, 1e-9)
        nll = float(np.mean(np.log(sigma) + 0.5 * (errors / sigma) ** 2))
        if best is None or nll < best[0]:
            best = (nll, weight, scale)
    return best[1], best[2]
