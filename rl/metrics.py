"""Scorer metrics on IELTS bands.

QWK is computed the standard way for this benchmark: predictions clipped to 0-9 and rounded to the nearest 0.5, then
scikit-learn's quadratic-weighted Cohen's kappa over the fixed label set of all 19 half-bands 0, 0.5, ..., 9 (so the
weights do not depend on which bands happen to occur in a sample). MAE, RMSE and Pearson r use the unrounded
(clipped) predictions.
"""

import numpy as np

HALF_BANDS = np.arange(0, 19) / 2.0  # 0.0 .. 9.0


def round_to_half_band(values) -> np.ndarray:
    """Clip to 0-9 and round to the nearest 0.5 (halves round up: 6.25 -> 6.5), as a rater would report."""
    clipped = np.clip(np.asarray(values, dtype=np.float64), 0.0, 9.0)
    return np.floor(clipped * 2.0 + 0.5) / 2.0


def half_band_index(values) -> np.ndarray:
    """Position of each value (rounded as above) on HALF_BANDS: 0 for band 0.0, 18 for band 9.0."""
    return (round_to_half_band(values) * 2).astype(int)


def confusion_matrix(true_bands, predicted_bands) -> np.ndarray:
    """19 x 19 counts, rows = true half-band, columns = predicted half-band (both rounded to the half-band grid)."""
    matrix = np.zeros((len(HALF_BANDS), len(HALF_BANDS)), dtype=np.int64)
    np.add.at(matrix, (half_band_index(true_bands), half_band_index(predicted_bands)), 1)
    return matrix


def quadratic_weighted_kappa(true_bands, predicted_bands) -> float:
    """scikit-learn's quadratic-weighted Cohen's kappa on the rounded half-bands, labels fixed to all of HALF_BANDS."""
    true_index, predicted_index = half_band_index(true_bands), half_band_index(predicted_bands)
    if len(true_index) == 0:
        return float("nan")
    if len(set(true_index.tolist()) | set(predicted_index.tolist())) == 1:
        # Every essay and prediction on one band: kappa is 0/0 there, but the agreement is perfect.
        return 1.0
    # Imported here: scikit-learn (with scipy and pandas) costs the web process ~1.7 s at start-up for one page.
    from sklearn.metrics import cohen_kappa_score

    labels = np.arange(len(HALF_BANDS))
    return float(cohen_kappa_score(true_index, predicted_index, weights="quadratic", labels=labels))


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
