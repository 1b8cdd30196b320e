"""Spelling and word-frequency features, on hand-counted sentences."""

import pytest

from rl.scorer.features import HAND_FEATURES, MONOTONE, hand_features

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


def test_more_misspellings_never_raise_the_band():
    for name in ("misspelt_share", "distinct_misspelt_share", "unknown_word_share"):
        assert name in HAND_FEATURES
        assert MONOTONE[name] == -1
