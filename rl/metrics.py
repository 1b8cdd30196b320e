"""Scorer metrics on IELTS bands.

QWK is computed the standard way for this benchmark: predictions clipped to 0-9 and rounded to the nearest 0.5, then
quadratic-weighted Cohen's kappa over the fixed label set of all 19 half-bands 0, 0.5, ..., 9 (so the weights do not
depend on which bands happen to occur in a sample). MAE, RMSE and Pearson r use the unrounded (clipped) predictions.
"""

import numpy as np

HALF_BANDS = np.arange(0, 19) / 2.0  # 0.0 .. 9.0


def round_to_half_band(values) -> np.ndarray:
    """Clip to 0-9 and round to the nearest 0.5 (halves round up: 6.25 -> 6.5), as a rater would report."""
    clipped = np.clip(np.asarray(values, dtype=np.float64), 0.0, 9.0)
    return np.floor(clipped * 2.0 + 0.5) / 2.0


def confusion_matrix(true_bands, predicted_bands) -> np.ndarray:
    """19 x 19 counts, rows = true half-band, columns = predicted half-band (both rounded to the half-band grid)."""
    true_index = (round_to_half_band(true_bands) * 2).astype(int)
    predicted_index = (round_to_half_band(predicted_bands) * 2).astype(int)
    matrix = np.zeros((len(HALF_BANDS), len(HALF_BANDS)), dtype=np.int64)
    np.add.at(matrix, (true_index, predicted_index), 1)
    return matrix


def quadratic_weighted_kappa(true_bands, predicted_bands) -> float:
    observed = confusion_matrix(true_bands, predicted_bands).astype(np.float64)
    total = observed.sum()
    if total == 0:
        return float("nan")
    k = len(HALF_BANDS)
    index = np.arange(k)
    weights = (index[:, None] - index[None, :]) ** 2 / (k - 1) ** 2
    expected = np.outer(observed.sum(1), observed.sum(0)) / total
    denominator = (weights * expected).sum()
    if denominator == 0:
        # Every essay and prediction on one band: agreement is perfect only if nothing is off the diagonal.
        return 1.0 if (weights * observed).sum() == 0 else 0.0
    return float(1.0 - (weights * observed).sum() / denominator)


def pearson_r(x, y) -> float:
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if len(x) < 2 or x.std() == 0 or y.std() == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def band_metrics(true_bands, predicted_bands) -> dict:
    """All headline metrics; predictions are clipped to 0-9 (and rounded only for QWK and the confusion matrix)."""
    true = np.asarray(true_bands, dtype=np.float64)
    predicted = np.clip(np.asarray(predicted_bands, dtype=np.float64), 0.0, 9.0)
    errors = np.abs(predicted - true)
    per_band = {}
    for band in np.unique(true):
        mask = true == band
        per_band[f"{band:.1f}"] = {"n": int(mask.sum()), "mae": float(errors[mask].mean())}
    return {
        "n": int(len(true)),
        "qwk": quadratic_weighted_kappa(true, predicted),
        "mae": float(errors.mean()) if len(true) else float("nan"),
        "rmse": float(np.sqrt((errors**2).mean())) if len(true) else float("nan"),
        "pearson": pearson_r(true, predicted),
        "within_0_5": float((errors <= 0.5 + 1e-9).mean()) if len(true) else float("nan"),
        "within_1_0": float((errors <= 1.0 + 1e-9).mean()) if len(true) else float("nan"),
        "per_band_mae": per_band,
        "confusion_matrix": confusion_matrix(true, predicted).tolist(),
        "labels": [f"{b:.1f}" for b in HALF_BANDS],
    }
