"""The scorer (reward model): predicts an essay's IELTS band with an uncertainty; see rl/scorer/model.py."""

from rl.scorer.evaluation import evaluate, human_label_ablation, learning_curve, perturbation_report
from rl.scorer.model import FAMILIES, Prediction, Scorer, ScorerConfig, disjoint_halves, load_scorer, train_scorer

__all__ = [
    "FAMILIES",
    "Prediction",
    "Scorer",
    "ScorerConfig",
    "disjoint_halves",
    "evaluate",
    "human_label_ablation",
    "learning_curve",
    "load_scorer",
    "perturbation_report",
    "train_scorer",
]
