"""The corrector analyses a chunk of sentences at a time: each analysis holds a tokens x vocabulary table until its
candidates are scored, and 100 essays' sentences at once took 11 GB. Chunked, the corrections are the same. Real
SmolLM2; the language model's analyse() is only watched, not replaced."""

import pytest

from rl.corrector import Corrector, CorrectorSettings, LanguageModel
from rl.models import PolicySpec

pytestmark = pytest.mark.slow

SENTENCES = [
    "My brother go to school every day becuase he like it.",
    "Most people agree that exercise is healthy.",
    "There are many reason why student choose to study abroad.",
    "The goverment should spend more money on public transport.",
    "In my opinion, both views have their merits.",
]


def test_sentences_are_analysed_a_chunk_at_a_time_and_corrected_alike():
    lm = LanguageModel.load(PolicySpec().model)
    analysed: list[int] = []
    analyse = lm.analyse
    lm.analyse = lambda texts: analysed.append(len(texts)) or analyse(texts)

    chunked = Corrector(lm, CorrectorSettings(chunk_size=2)).correct(SENTENCES)
    assert analysed and max(analysed) <= 2
    lm.forget()
    whole = Corrector(lm, CorrectorSettings()).correct(SENTENCES)
    assert [c.sentence for c in chunked] == SENTENCES
    assert [c.corrected for c in chunked] == [c.corrected for c in whole]
    # Where bf16 scores faster (CPUs with AVX512-BF16) batches padded to other lengths round differently: gains of
    # 13.8 vs 13.4 nats were seen on a Zen 4, with the same corrections; fp32 agrees to hundredths.
    assert [c.gain for c in chunked] == pytest.approx([c.gain for c in whole], rel=0.05, abs=0.05)
    # the misspellings were fixed (not a test of nothing); "many reason why student choose" is left alone since
    # sentences are scored as running text: each inflection gains 5-6 nats there, under the 6 an inflection needs
    assert sum(c.corrected != c.sentence for c in chunked) >= 2
