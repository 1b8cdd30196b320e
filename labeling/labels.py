"""Human labels as training data: consensus bands per text and preference pairs.

Filled in by the rater workspace (approved ratings only); the exporters and the scorer/rewriter training read it.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class HumanBandLabel:
    """One approved rating of one text (an original essay or a rewrite)."""

    label_id: str  # stable id, e.g. "rating-12-a"
    question: str
    text: str
    band: Decimal
    rater: str
    rated_at: datetime
    round_number: int | None
    essay_id: int
    rewrite_id: int | None


@dataclass(frozen=True)
class PreferencePair:
    """chosen = the text with the higher consensus band; the original essay stands for "no change"."""

    prompt: str
    chosen: str
    rejected: str
    essay_id: int
    rewrite_id: int
    round_number: int | None


def human_band_labels(round_number: int | None = None) -> list[HumanBandLabel]:
    return []


def preference_pairs(round_number: int | None = None) -> list[PreferencePair]:
    return []
