"""The corrector's window gains: variants of several sentences, changed at different tokens, are scored in shared
forward passes on top of each sentence's cached prefix, and each gain is what scoring the two texts in full gives over
the same tokens. Real SmolLM2 in fp32."""

import pytest
import torch

from rl.corrector import LanguageModel, _common_suffix, _first_difference
from rl.models import PolicySpec

pytestmark = pytest.mark.slow

SENTENCES = {
    "He go to school every day because his parents wants him to learn.": [
        "He goes to school every day because his parents wants him to learn.",
        "He go to school every day because his parents want him to learn.",
        "He go to the school every day because his parents wants him to learn.",
        "He go to school every day because his parents wants him to learn .",
    ],
    "Nowadays technology are very important.": [
        "Nowadays, technology are very important.",
        "Nowadays technology is very important.",
        "Nowadays technology are important.",
    ],
}


def full_logprobs(lm: LanguageModel, ids: list[int]) -> torch.Tensor:
    """Log-probability of each of the sentence's tokens, read after the context in one plain forward pass."""
    sequence = lm.prefix + ids
    with torch.no_grad():
        rows = torch.log_softmax(lm.model(input_ids=torch.tensor([sequence])).logits[0, :-1].float(), dim=-1)
    return rows[torch.arange(len(sequence) - 1), torch.tensor(sequence[1:])][len(lm.prefix) - 1 :]


def expected_gain(lm: LanguageModel, original: list[int], variant: list[int]) -> float:
    d = _first_difference(original, variant)
    tail = _common_suffix(original[d:], variant[d:])
    end_o = min(len(original), len(original) - tail + lm.window)
    end_v = min(len(variant), len(variant) - tail + lm.window)
    return float(full_logprobs(lm, variant)[d:end_v].sum() - full_logprobs(lm, original)[d:end_o].sum())


def test_variants_of_many_sentences_share_passes_and_score_as_in_full():
    lm = LanguageModel.load(PolicySpec().model, "float32")
    originals = list(SENTENCES)
    analyses = lm.analyse(originals)
    jobs = [(analysis, lm.encode(SENTENCES[text])) for analysis, text in zip(analyses, originals, strict=True)]
    assert len({_first_difference(a.scored.token_ids, v) for a, variants in jobs for v in variants}) >= 5

    passes = []
    hook = lm.model.register_forward_hook(lambda module, args, output: passes.append(1))
    try:
        together = lm.window_gains(jobs)
    finally:
        hook.remove()
    assert len(passes) == 1  # seven variants, five change points, two sentences: one batch

    for (analysis, variants), gains in zip(jobs, together, strict=True):
        alone = lm.window_gains([(analysis, variants)])[0]
        for variant, gain, gain_alone in zip(variants, gains, alone, strict=True):
            assert gain == pytest.approx(expected_gain(lm, analysis.scored.token_ids, variant), abs=1e-3)
            assert gain == pytest.approx(gain_alone, abs=1e-3)
    assert together[0][0] > 0 and together[1][1] > 0  # "He goes", "technology is": fixes under the model
