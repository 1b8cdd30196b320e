"""The embedder runs under bf16 autocast only where a timed trial finds it clearly faster than fp32: on some CPUs
with AVX512-BF16 (and no AMX) bf16 is slower. The trial is checked with stand-in models whose forward pass takes a
known time in each precision; the real MiniLM is timed the same way in every scorer test."""

import time

import torch

from rl import embeddings


class TimedModel:
    def __init__(self, fp32_seconds: float, bf16_seconds: float):
        self.fp32_seconds, self.bf16_seconds = fp32_seconds, bf16_seconds

    def __call__(self, input_ids, attention_mask):
        time.sleep(self.bf16_seconds if torch.is_autocast_enabled("cpu") else self.fp32_seconds)


def test_bf16_is_chosen_only_when_clearly_faster():
    assert embeddings.bf16_is_faster(TimedModel(0.03, 0.01), ("3x faster",)) is True
    assert embeddings.bf16_is_faster(TimedModel(0.01, 0.015), ("slower",)) is False
    assert embeddings.bf16_is_faster(TimedModel(0.02, 0.019), ("a near tie",)) is False


def test_the_trial_runs_once_per_model_and_thread_count():
    assert embeddings.bf16_is_faster(TimedModel(0.03, 0.01), ("once",)) is True
    assert embeddings.bf16_is_faster(TimedModel(0.01, 0.03), ("once",)) is True  # the first answer is kept
