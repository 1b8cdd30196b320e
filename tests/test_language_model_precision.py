"""The scoring copy of the base model (LanguageModel.load, dtype "auto"): fp32 on a CPU without bf16 units, with no
trial; on one with them, what the timed trial finds; an explicit dtype is kept. The real SmolLM2 loads each time; only
the CPU's flags are stood in for (these machines have no bf16 units)."""

import pytest
import torch

from rl import corrector, models
from rl.corrector import LanguageModel, _load_language_model
from rl.policy_spec import PolicySpec

pytestmark = pytest.mark.slow
MODEL = PolicySpec().model


@pytest.fixture(autouse=True)
def fresh_loads():
    """Loads are cached per (model, dtype): each load here must choose anew, and none stays for other tests."""
    _load_language_model.cache_clear()
    yield
    _load_language_model.cache_clear()


def dtype_of(lm: LanguageModel) -> torch.dtype:
    return next(lm.model.parameters()).dtype


def test_without_bf16_units_scoring_stays_fp32_without_a_trial(monkeypatch):
    monkeypatch.setattr(models, "cpu_has_bf16_units", lambda: False)
    monkeypatch.setattr(models, "_BF16_FASTER", {})
    assert dtype_of(LanguageModel.load(MODEL)) == torch.float32
    assert models._BF16_FASTER == {}
    assert dtype_of(LanguageModel.load(MODEL, "bfloat16")) == torch.bfloat16


def test_with_bf16_units_the_timed_trial_chooses_and_is_kept(monkeypatch):
    monkeypatch.setattr(models, "cpu_has_bf16_units", lambda: True)
    monkeypatch.setattr(models, "_BF16_FASTER", {})
    # A small trial batch: emulated bf16 is slow here, and the trial's outcome is not what this test checks.
    monkeypatch.setattr(corrector, "PRECISION_TRIAL_BATCH", (2, 8))
    lm = LanguageModel.load(MODEL)
    ((key, bf16_faster),) = models._BF16_FASTER.items()
    assert key == (MODEL, "causal-lm", torch.get_num_threads())
    assert dtype_of(lm) == (torch.bfloat16 if bf16_faster else torch.float32)
    # Both answers load the precision they name, and a correction gains alike in either (decisions are nats apart).
    pair = ["My brother go to school every day.", "My brother goes to school every day."]
    gains = {}
    for answer in (True, False):
        models._BF16_FASTER[key] = answer
        _load_language_model.cache_clear()
        lm = LanguageModel.load(MODEL)
        assert dtype_of(lm) == (torch.bfloat16 if answer else torch.float32)
        wrong, right = lm.score(pair)
        gains[answer] = right.logprob - wrong.logprob
    assert gains[False] > 4.0
    assert abs(gains[True] - gains[False]) < 1.0
