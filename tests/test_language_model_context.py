"""The language model reads a neutral essay sentence before each sentence it scores (rl.config.RUNNING_TEXT_CONTEXT):
the context's tokens are read, not scored, and the sentence is scored as running text. Read after the start token
alone, a sentence-initial linker was scored as a document's first word and the verdict paid for swapping it for a
synonym. Real SmolLM2."""

import pytest
import torch

from rl.config import RUNNING_TEXT_CONTEXT, RewriterSettings
from rl.corrector import LanguageModel
from rl.models import PolicySpec
from rl.verifier import verdicts

pytestmark = pytest.mark.slow

SENTENCE = "Additionally, it allows individuals to rejuvenate themselves after long hours of work."


def test_a_sentence_is_scored_after_the_context_and_the_context_is_not_scored():
    lm = LanguageModel.load(PolicySpec().model, "float32")
    assert lm.context == RUNNING_TEXT_CONTEXT and len(lm.prefix) > 1
    ids = lm.prefix + lm.encode([SENTENCE])[0]
    with torch.no_grad():
        rows = torch.log_softmax(lm.model(input_ids=torch.tensor([ids])).logits[0, :-1].float(), dim=-1)
    per_token = rows[torch.arange(len(ids) - 1), torch.tensor(ids[1:])]
    expected = float(per_token[len(lm.prefix) - 1 :].sum())
    assert lm.score([SENTENCE])[0].logprob == pytest.approx(expected, abs=0.01)

    alone = LanguageModel.for_rewriter(PolicySpec().model, RewriterSettings(language_model_dtype="float32",
                                                                            language_model_context=""))  # fmt: skip
    assert alone.prefix == [alone.start_id]
    assert abs(alone.score([SENTENCE])[0].logprob - expected) > 1.0


def test_a_linker_swapped_for_its_synonym_is_no_fix_in_running_text():
    swaps = [
        (SENTENCE, SENTENCE.replace("Additionally,", "In addition,")),
        ("Therefore, governments should maintain a balanced approach to the problem.",
         "Thus, governments should maintain a balanced approach to the problem."),
    ]  # fmt: skip
    in_context = LanguageModel.load(PolicySpec().model, "float32")
    as_document_start = LanguageModel.load(PolicySpec().model, "float32", "")
    assert any(v.fix for v in verdicts(as_document_start, swaps))  # the hole the context closes
    assert not any(v.fix for v in verdicts(in_context, swaps))
    # a real fix is still one
    fix = ("There are many reason why student choose to study abroad.",
           "There are many reasons why students choose to study abroad.")  # fmt: skip
    assert verdicts(in_context, [fix])[0].fix
