"""`bench/rewriter.py --essays-from learners`: M on held-out essays by real candidates. The essays come from the
scorer benchmark's test split, which is lower-cased, so capitals are restored; none of them may reach training."""

import re

from rl.config import DataSettings
from rl.data import load_training_set
from rl.text import restore_capitals
from rl.training import essay_opening, load_learner_essays, load_sft_sources


def test_capitals_come_back_at_sentence_starts_and_on_i():
    text = "in my view i'm right. but is it so? i think, as i said, it is! i.e. yes; this is iT"
    restored = "In my view I'm right. But is it so? I think, as I said, it is! I.e. Yes; this is iT"
    assert restore_capitals(text) == restored
    assert restore_capitals("  the end i") == "  The end I"


def test_learner_essays_are_test_essays_that_no_training_step_reads():
    data = DataSettings()
    essays = load_learner_essays(data)
    assert len(essays) >= 400
    trained = {essay_opening(record.essay) for record in load_training_set()[0]}
    trained |= {essay_opening(source.essay) for source in load_sft_sources(data, 100_000)}
    assert not {essay_opening(e.essay) for e in essays} & trained
    assert all(e.essay[0].isupper() and e.question for e in essays)
    assert not any(re.search(r"(?<![\w'.])i(?=['\s,;:!?])", e.essay) for e in essays)
    assert load_learner_essays(data) == essays  # the same order every run: M is comparable between runs
