"""Reward for one rewrite and the product metric M over a set of essays.

The mission's reward is band(new) - band(old) - lambda x chars. A holistic band moves by hundredths for one edit, so
on its own it cannot tell a fix from a harm; `edit_reward` keeps that formula and lets the edit-level verdicts of
rl/verifier.py gate it and add to it:
- gate: a rewrite with any changed sentence judged a harm (a degenerate-edit rule fired, the language model finds
  the sentence less likely by more than the threshold, or the raters' learnt verdict rejects the change) gets at
  most HARM_REWARD, whatever the scorer says: scorers can be fooled by added words they like, a harm costs ten times
  what a good edit earns in M, and a gate cannot be outweighed by a scorer's noise the way a penalty term can;
- add: each sentence judged a fix adds edit_weight x its log-likelihood gain (capped), so a verified correction pays
  for its characters (a 4-nat fix is worth 20 characters at the defaults) even when the band does not move;
- a change that is neither (too small a likelihood change, no rule fired) earns the mission's formula alone.
"""

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Protocol

from rapidfuzz.distance import Levenshtein

DEFAULT_CHAR_PENALTY = 0.01  # lambda: one band point is worth 100 changed characters
SMALL_EDIT_CHARS = 100  # a "good" rewrite changes fewer characters than this
HARM_MARGIN = 0.5  # a rewrite harms when it loses at least half a band
HARM_WEIGHT = 10.0
EDIT_WEIGHT = 0.05  # band per nat of log-likelihood gain of a verified fix
EDIT_GAIN_CAP = 20.0  # nats: past this a rewrite is rewarded for size, not correctness
HARM_REWARD = -1.0  # the most a rewrite with a judged-harmful sentence can earn


class BandPredictor(Protocol):
    """Anything that gives an essay a band: the scorer, an independent judge, a test stand-in."""

    def predict_bands(self, questions: Sequence[str], essays: Sequence[str]) -> list[float]: ...


def chars_changed(old: str, new: str) -> int:
    """Character-level Levenshtein distance (rapidfuzz's C implementation)."""
    return Levenshtein.distance(old, new)


def reward(band_old: float, band_new: float, changed: int, char_penalty: float = DEFAULT_CHAR_PENALTY) -> float:
    return band_new - band_old - char_penalty * changed


def edit_reward(
    band_old: float,
    band_new: float,
    changed: int,
    verdicts: Sequence,
    char_penalty: float = DEFAULT_CHAR_PENALTY,
    edit_weight: float = EDIT_WEIGHT,
) -> float:
    """The mission's reward gated and topped up by the verdicts (rl.verifier.Verdict) on the changed sentences."""
    base = reward(band_old, band_new, changed, char_penalty)
    if any(v.harm for v in verdicts):
        return min(base, HARM_REWARD)
    # a fix the raters' learnt verdict accepts may have gained nothing under the language model: it pays nothing
    return base + edit_weight * sum(min(max(v.gain, 0.0), EDIT_GAIN_CAP) for v in verdicts if v.fix)


def is_harm(band_old: float, band_new: float) -> bool:
    return band_new + HARM_MARGIN <= band_old


def is_good_small(band_old: float, band_new: float, changed: int) -> bool:
    return band_new > band_old and changed < SMALL_EDIT_CHARS


@dataclass
class ProductMetric:
    m: float
    harm_share: float
    good_small_share: float
    mean_chars_changed: float
    n: int

    def as_dict(self) -> dict:
        return asdict(self)


def product_metric(bands_old: Sequence[float], bands_new: Sequence[float], changed: Sequence[int]) -> ProductMetric:
    """M = -10 x share(band_new + 0.5 <= band_old) + share(band_new > band_old and chars_changed < 100)."""
    n = len(bands_old)
    if n == 0 or len(bands_new) != n or len(changed) != n:
        raise ValueError(f"need equal, non-empty lists; got {n}, {len(bands_new)}, {len(changed)}")
    harm = sum(is_harm(o, b) for o, b in zip(bands_old, bands_new, strict=True)) / n
    good = sum(is_good_small(o, b, c) for o, b, c in zip(bands_old, bands_new, changed, strict=True)) / n
    return ProductMetric(
        m=-HARM_WEIGHT * harm + good,
        harm_share=harm,
        good_small_share=good,
        mean_chars_changed=sum(changed) / n,
        n=n,
    )


def half_band_metric(bands_old: Sequence[float], bands_new: Sequence[float], changed: Sequence[int]) -> ProductMetric:
    """M with both bands rounded to half bands, as a rater reports them: gains of hundredths vanish."""
    return product_metric([round(b * 2) / 2 for b in bands_old], [round(b * 2) / 2 for b in bands_new], changed)


def judge_rewrites(
    judge: BandPredictor, questions: Sequence[str], originals: Sequence[str], rewrites: Sequence[str]
) -> ProductMetric:
    """M of a set of rewrites with bands from `judge` (the originals are scored in the same call)."""
    n = len(originals)
    bands = judge.predict_bands(list(questions) * 2, list(originals) + list(rewrites))
    changed = [chars_changed(o, r) for o, r in zip(originals, rewrites, strict=True)]
    return product_metric(bands[:n], bands[n:], changed)
