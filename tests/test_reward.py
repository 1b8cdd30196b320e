"""Reward and product metric on hand-computed cases."""

import pytest

from rl.reward import chars_changed, judge_rewrites, product_metric, reward


def test_chars_changed_is_levenshtein():
    assert chars_changed("kitten", "sitting") == 3  # k->s, e->i, +g
    assert chars_changed("a cat", "a cat") == 0
    assert chars_changed("", "abc") == 3
    assert chars_changed("He go to school.", "He goes to school.") == 2


def test_reward_subtracts_lambda_times_chars():
    assert reward(6.0, 6.5, 10) == pytest.approx(0.5 - 0.1)
    assert reward(6.0, 6.5, 10, char_penalty=0.0) == pytest.approx(0.5)
    assert reward(7.0, 6.5, 0) == pytest.approx(-0.5)
    assert reward(6.0, 6.0, 100) == pytest.approx(-1.0)


def test_product_metric_hand_computed():
    # essay 1: +0.5 with 20 chars -> good; essay 2: -0.5 -> harm; essay 3: +1.0 but 150 chars -> neither;
    # essay 4: -0.25 -> neither (harm needs a loss of at least half a band)
    metric = product_metric([6.0, 6.0, 5.0, 7.0], [6.5, 5.5, 6.0, 6.75], [20, 5, 150, 1])
    assert metric.harm_share == pytest.approx(0.25)
    assert metric.good_small_share == pytest.approx(0.25)
    assert metric.m == pytest.approx(-10 * 0.25 + 0.25)
    assert metric.mean_chars_changed == pytest.approx(44.0)
    assert metric.n == 4


def test_product_metric_boundaries():
    # exactly 100 chars is not "small"; exactly -0.5 is harm; no change is neither
    metric = product_metric([6.0, 6.0, 6.0], [6.5, 5.5, 6.0], [100, 3, 0])
    assert metric.good_small_share == 0
    assert metric.harm_share == pytest.approx(1 / 3)
    with pytest.raises(ValueError):
        product_metric([], [], [])


class LengthJudge:
    """A judge whose band is the number of words / 10: enough to hand-compute M."""

    def predict_bands(self, questions, essays):
        return [len(e.split()) / 10 for e in essays]


def test_judge_rewrites_scores_both_sides():
    originals = ["one two three four five", "one two three four five six"]
    rewrites = ["one two three four five six", "one"]  # +0.1 with 4 chars; -0.5 -> harm
    metric = judge_rewrites(LengthJudge(), ["q", "q"], originals, rewrites)
    assert metric.good_small_share == pytest.approx(0.5)
    assert metric.harm_share == pytest.approx(0.5)
    assert metric.mean_chars_changed == pytest.approx((4 + 24) / 2)
