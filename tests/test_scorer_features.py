"""Spelling and word-frequency features on hand-counted sentences; more misspellings never raise a scorer's band."""

import random

import numpy as np
import pytest

from rl.corruptions import corrupt_spelling
from rl.metrics import round_to_half_band
from rl.scorer.features import hand_features

QUESTION = "Some people think children should learn a foreign language at school. Discuss."


def test_misspellings_are_counted_per_word():
    clean = hand_features(QUESTION, "Children should learn a foreign language because it opens many doors.")
    misspelt = hand_features(QUESTION, "Childrens shuold learn a foriegn language because it opens many doors.")
    assert clean["misspelt_share"] == 0.0
    # 11 words; "childrens", "shuold" and "foriegn" are not in the dictionary
    assert misspelt["misspelt_share"] == pytest.approx(3 / 11)
    assert misspelt["distinct_misspelt_share"] == pytest.approx(3 / 11)
    assert misspelt["unknown_word_share"] > clean["unknown_word_share"] == 0.0


def test_repeated_misspelling_counts_once_as_distinct():
    features = hand_features(QUESTION, "Languag is useful. Languag is hard.")
    assert features["misspelt_share"] == pytest.approx(2 / 6)
    assert features["distinct_misspelt_share"] == pytest.approx(1 / 6)


def test_rare_words_lower_the_mean_word_frequency():
    plain = hand_features(QUESTION, "People think school is good for children and their life.")
    rare = hand_features(QUESTION, "Pedagogues posit that schooling engenders erudition in juveniles.")
    assert rare["content_zipf_mean"] < plain["content_zipf_mean"]
    assert rare["rare_word_share"] > plain["rare_word_share"]


def misspelt(essay: str, n: int, rng: random.Random) -> str:
    """The essay with n more spelling errors (rl.corruptions: common misspellings and typos in long words)."""
    for _ in range(n):
        essay = corrupt_spelling(essay, rng) or essay
    return essay


MISSPELLINGS = (0, 4, 12, 24)  # cumulative: each level keeps the errors of the one before and adds more


def test_more_misspellings_never_raise_the_band(small_scorer):
    scorer, held_out = small_scorer
    for record in held_out[:12]:
        rng, texts = random.Random(0), [record.essay]
        for before, after in zip(MISSPELLINGS, MISSPELLINGS[1:], strict=False):
            texts.append(misspelt(texts[-1], after - before, rng))
        shares = [hand_features(record.question, text)["misspelt_share"] for text in texts]
        assert shares == sorted(set(shares)), shares  # each level really has more misspelt words
        bands = np.array([p.band for p in scorer.predict([record.question] * len(texts), texts)])
        # The band the product reports (rounded to half bands) never rises; the unrounded prediction may move up by
        # a hair (its embedding members are not constrained) but the heaviest level is clearly lower.
        assert np.all(np.diff(round_to_half_band(bands)) <= 0), (record.essay[:60], bands)
        assert np.all(np.diff(bands) <= 0.05), (record.essay[:60], bands)
        assert bands[-1] < bands[0] - 0.1, (record.essay[:60], bands)
