"""The scorer (reward model): predicts an essay's IELTS band with an uncertainty; see rl/scorer/model.py."""

from rl.scorer.evaluation import (
    calibration_rows,
    evaluate,
    human_label_ablation,
    interval_figures,
    learning_curve,
    perturbation_report,
    shift_evaluation,
)
from rl.scorer.model import FAMILIES, Prediction, Scorer, ScorerConfig, disjoint_halves, load_scorer, train_scorer

__all__ = [
    "FAMILIES",
    "Prediction",
    "Scorer",
    "ScorerConfig",
    "calibration_rows",
    "disjoint_halves",
    "evaluate",
    "human_label_ablation",
    "interval_figures",
    "learning_curve",
    "load_scorer",
    "perturbation_report",
    "shift_evaluation",
    "train_scorer",
]
