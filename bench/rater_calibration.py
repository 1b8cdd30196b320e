"""Rater calibration benchmark: how much a deployment's first labels fix a scorer's bands, and what they cost when the
raters already agree with the scorer's scale (rl/scorer/rater_calibration.py).

    python bench/rater_calibration.py [--family judge|ensemble|tfidf_ridge] [--test-csv PATH] [--draws 100]
                                      [--labels 10,20,50,100] [--max-train N] [--selection-z 1,2]

Trains a scorer on the published training data (every test essay removed), predicts the test set once, then for each
number of labels draws that many test essays at random as the raters' labels, fits the calibration on them and
measures MAE on the rest of the test set, before and after, over --draws draws. Scenarios: the test bands as they are
(raters on the published scale: the calibration should change nothing), and raters more generous by half a band, and
by a band with a 1.3 stretch around their mean (a shift of source like the one of issue 19). With --test-csv the set's
own bands are the raters' (e.g. essays from another source). --selection-z measures each of these settings of how
clearly a fit must beat no change (AES_RATERCAL_SELECTION_Z; default: the shipped one) on the same draws. The last
line printed is one JSON object.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rl.data import CLEAN_TEST_CSV, load_test_set, load_training_set  # noqa: E402
from rl.scorer.rater_calibration import SELECTION_Z, fit_rater_calibration  # noqa: E402


def scenarios(bands: np.ndarray, own_set: bool) -> dict[str, np.ndarray]:
    if own_set:
        return {"this set's bands": bands}
    mean = bands.mean()
    return {
        "published scale": bands,
        "raters +0.5": np.clip(bands + 0.5, 0, 9),
        "raters +1.0, x1.3": np.clip(mean + 1.0 + 1.3 * (bands - mean), 0, 9),
    }


def measure(predicted: np.ndarray, human: np.ndarray, n_labels: int, draws: int, selection_z: float) -> dict:
    before, after = [], []
    for seed in range(draws):
        order = np.random.default_rng(seed).permutation(len(human))
        fit, rest = order[:n_labels], order[n_labels:]
        calibration = fit_rater_calibration(predicted[fit], human[fit], selection_z=selection_z)
        before.append(float(np.abs(predicted[rest] - human[rest]).mean()))
        after.append(float(np.abs(calibration.apply_array(predicted[rest]) - human[rest]).mean()))
    change = np.array(after) - np.array(before)
    return {
        "mae_before": float(np.mean(before)),
        "mae_after": float(np.mean(after)),
        "worse_share": float((change > 1e-9).mean()),
        "worst_change": float(change.max()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--family", default="judge", help="scorer family (judge: TF-IDF + hand features, fast)")
    parser.add_argument("--test-csv", default=str(CLEAN_TEST_CSV))
    parser.add_argument("--draws", type=int, default=100)
    parser.add_argument("--labels", default="10,20,50,100")
    parser.add_argument("--max-train", type=int, default=0, help="train on at most this many essays (0: all)")
    parser.add_argument("--selection-z", default=str(SELECTION_Z), help="comma-separated settings to compare")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from rl.scorer import ScorerConfig, train_scorer

    test = load_test_set(args.test_csv)
    train, _ = load_training_set(exclude_texts=[r.essay for r in test])
    if args.max_train:
        train = train[: args.max_train]
    started = time.monotonic()
    scorer = train_scorer(train, ScorerConfig(family=args.family))
    predicted = np.array([p.band for p in scorer.predict([r.question for r in test], [r.essay for r in test])])
    bands = np.array([r.band for r in test])
    print(f"{args.family} scorer on {len(train)} essays, {len(test)} test essays ({time.monotonic() - started:.0f}s)")
    own_set = Path(args.test_csv).resolve() != Path(CLEAN_TEST_CSV).resolve()
    labels = [int(n) for n in args.labels.split(",")]
    results = {}
    selection_zs = [float(z) for z in args.selection_z.split(",")]
    print(f"{'raters':20s} {'labels':>6s} {'z':>4s} {'MAE before':>10s} {'after':>7s} {'worse in':>9s} {'worst':>7s}")
    for name, human in scenarios(bands, own_set).items():
        for n in labels:
            if n >= len(human):
                continue
            for z in selection_zs:
                row = measure(predicted, human, n, args.draws, z)
                # The shipped setting keeps the keys of earlier runs; others are named by their z.
                results[f"{name} / {n}" + ("" if z == SELECTION_Z else f" / z {z:g}")] = row
                print(
                    f"{name:20s} {n:6d} {z:4g} {row['mae_before']:10.3f} {row['mae_after']:7.3f}"
                    f" {row['worse_share']:9.0%} {row['worst_change']:+7.3f}"
                )
    headline = {"family": args.family, "n_train": len(train), "n_test": len(test), "draws": args.draws}
    print(json.dumps(headline | results))


if __name__ == "__main__":
    main()
