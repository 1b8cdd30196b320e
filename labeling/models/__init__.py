from .corpus import Essay, Prompt, Rewrite, Split
from .training import ModelKind, ModelVersion, Promotion, RoundStatus, RoundStep, TrainingRound

__all__ = [
    "Essay",
    "ModelKind",
    "ModelVersion",
    "Promotion",
    "Prompt",
    "Rewrite",
    "RoundStatus",
    "RoundStep",
    "Split",
    "TrainingRound",
]
