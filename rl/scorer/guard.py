"""Post-hoc guard: band penalties for text patterns a rewriter could use to game the learnt models.

The learnt models already use repetition, topicality and length features with sign constraints, but they saw few
essays with such patterns, so the guard adds explicit penalties. Each guarded quantity is compared with a high
percentile of it on the training essays, and the penalty grows linearly with the excess, so more of the pattern never
scores better. Repetition and word lists start at the 99th percentile. The off-topic and generic sentence shares start
at the training maximum: about 1% of genuine essays pass their 99th percentile (sentence-level topic cut-offs are
coarse), and penalising those cost 0.015 of cross-validated MAE and 0.007 of r, while each gaming perturbation raised
the same share of held-out essays either way (within half a percentage point); past the maximum only text unlike any
training essay pays.

A memorised, fluent but topic-free paragraph (perturbations.add_generic_paragraph) is handled apart, at prediction
time: a written paragraph loosely tied to its essay may not raise the band (Scorer._cap_by_loose_paragraphs). Known
gap: filler that is not recognised (about a fifth of the benchmark's cases), or filler run into an essay without line
breaks, still raises some essays a little; the sentence-level generic share below rarely passes its threshold.
"""

from dataclasses import dataclass, field

import numpy as np

# feature -> (band penalty per unit above the threshold, percentile of the training essays that sets the threshold)
GUARDED_FEATURES = {
    "duplicate_sentence_share": (6.0, 99.0),
    "near_duplicate_sentence_share": (6.0, 99.0),
    "repeat_5gram": (6.0, 99.0),
    "word_list_share": (15.0, 99.0),
    "offtopic_sentence_share": (4.0, 100.0),
    "generic_sentence_share": (4.0, 100.0),
}


@dataclass
class Guard:
    thresholds: dict[str, float] = field(default_factory=dict)

    @classmethod
    def fit(cls, table: np.ndarray, names: tuple[str, ...]) -> "Guard":
        """Thresholds for the guarded features present in names (the judge family has no embedding features)."""
        thresholds = {
            name: float(np.percentile(table[:, names.index(name)], quantile))
            for name, (_, quantile) in GUARDED_FEATURES.items()
            if name in names
        }
        return cls(thresholds)

    def penalties(self, table: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
        total = np.zeros(len(table))
        for name, threshold in self.thresholds.items():
            excess = table[:, names.index(name)] - threshold
            total += GUARDED_FEATURES[name][0] * np.maximum(excess, 0.0)
        return total
