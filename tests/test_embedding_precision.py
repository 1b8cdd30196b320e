"""Scoring models run in bf16 only where a timed trial finds it clearly faster than fp32: on some CPUs with
AVX512-BF16 (and no AMX) bf16 is slower, and without bf16 units it is emulated and several times slower. The trial
(rl.models.bf16_is_faster) is checked with stand-in forward passes that take a known time in each precision; the real
MiniLM is timed the same way in every scorer test."""

import time

from rl.models import bf16_is_faster


def timed_forward(fp32_seconds: float, bf16_seconds: float):
    return lambda bf16: time.sleep(bf16_seconds if bf16 else fp32_seconds)


def test_bf16_is_chosen_only_when_clearly_faster():
    assert bf16_is_faster(timed_forward(0.03, 0.01), ("3x faster",)) is True
    assert bf16_is_faster(timed_forward(0.01, 0.015), ("slower",)) is False
    assert bf16_is_faster(timed_forward(0.02, 0.019), ("a near tie",)) is False


def test_the_trial_runs_once_per_model_and_thread_count():
    assert bf16_is_faster(timed_forward(0.03, 0.01), ("once",)) is True
    assert bf16_is_faster(timed_forward(0.01, 0.03), ("once",)) is True  # the first answer is kept
