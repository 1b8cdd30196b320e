"""Per-change verdicts as training data: exactly which sentence pairs SFT and DPO get from hand-made verdicts, and
the verdict-labelled edits an edit-level reward can learn from."""

import pytest
from rating_helpers import JUDGED_PAIRS, dpo_rows, judged_pairs_training_rows, rate_judged_pairs, sft_rated_rows

from labeling.corpus.edit_labels import labelled_edit_pairs
from labeling.models import EditVerdict, Rating
from labeling.training.rewriting import rater_training_data
from rl.config import load_recipe
from rl.edit_verdicts import (
    JudgedChange,
    JudgedPassage,
    LabelledEdit,
    SentencePair,
    accepted_sentence_pairs,
    consensus,
    labelled_edits,
    preference_sentence_pairs,
)
from rl.preferences import RatedPair
from rl.train_dpo import build_preference_rows
from rl.train_sft import build_sft_examples

Q, ORIGINAL, REWRITE, PLAIN_ORIGINAL, PLAIN_REWRITE = JUDGED_PAIRS


def test_consensus_is_a_strict_plurality():
    assert consensus(["rewrite", "rewrite", "same"]) == "rewrite"
    assert consensus(["rewrite", "original"]) is None
    assert consensus(["same"]) == "same"
    assert consensus([]) is None


def test_a_passage_with_accepted_rejected_same_and_undecided_changes():
    passage = JudgedPassage(
        Q,
        "Many people believes it strongly.",
        (
            JudgedChange(0, 4, "Lots of", "same"),
            JudgedChange(12, 20, "believe", "rewrite"),
            JudgedChange(21, 23, "that", None),
            JudgedChange(24, 32, "strong", "original"),
        ),
    )
    assert passage.accepted == "Many people believe it strongly."
    assert accepted_sentence_pairs([passage]) == [(Q, passage.passage, "Many people believe it strongly.")]
    assert preference_sentence_pairs([passage]) == [
        SentencePair(Q, passage.passage, "Many people believe it strongly.", "Many people believe it strong.")
    ]
    assert [(e.after, e.label) for e in labelled_edits([passage])] == [
        ("Lots of people believes it strongly.", 0),
        ("Many people believe it strongly.", 1),
        ("Many people believes it strong.", -1),
    ]
    # Only rejected changes: the passage as it was is preferred; only "same": nothing to learn.
    rejected_only = JudgedPassage(Q, "It is bad.", (JudgedChange(3, 5, "are", "original"),))
    assert preference_sentence_pairs([rejected_only]) == [SentencePair(Q, "It is bad.", "It is bad.", "It are bad.")]
    assert accepted_sentence_pairs([rejected_only]) == []
    same_only = JudgedPassage(Q, "It is bad.", (JudgedChange(3, 5, "was", "same"),))
    assert preference_sentence_pairs([same_only]) == [] and accepted_sentence_pairs([same_only]) == []


@pytest.fixture
def rated(db):
    return rate_judged_pairs()


def test_hand_made_verdicts_give_exactly_these_sentence_pairs_to_sft_and_dpo(rated):
    data = rater_training_data()
    # The judged rewrite is learnt change by change; the other one as a whole, from its bands.
    assert data.pairs == [RatedPair(Q, PLAIN_ORIGINAL, PLAIN_REWRITE, 6.0, 6.5)]
    # The tied change (believes -> believe) gives nothing to learn: its passage is left out.
    assert [(p.passage, [(c.after, c.verdict) for c in p.changes]) for p in data.passages] == [
        ("The goverment should act now.", [("government", "rewrite")]),
        ("Pollution is bad.", [("are", "original")]),
    ]

    config = load_recipe("cpu-smoke")
    expected_sft, expected_dpo = judged_pairs_training_rows(config.sft.rated_pair_copies)
    assert sft_rated_rows(build_sft_examples(config, data.pairs, data.passages)) == expected_sft
    rows, skipped = build_preference_rows(data.pairs, data.passages)
    assert skipped == 0 and dpo_rows(rows) == expected_dpo


def test_labelled_edit_pairs_for_an_edit_level_reward(rated):
    assert labelled_edit_pairs() == [
        LabelledEdit(Q, "The goverment should act now.", "The government should act now.", 1, "rewrite"),
        LabelledEdit(Q, "Pollution is bad.", "Pollution are bad.", -1, "original"),
    ]


def test_unapproved_ratings_and_gold_edits_are_not_trained_on(rated):
    EditVerdict.objects.filter(position=2).update(gold_expected="original")  # as if "is -> are" were a gold edit
    assert [p.passage for p in rater_training_data().passages] == ["The goverment should act now."]
    assert [e.before for e in labelled_edit_pairs()] == ["The goverment should act now."]
    Rating.objects.update(review_status="pending")
    data = rater_training_data()
    assert data.pairs == [] and data.passages == [] and labelled_edit_pairs() == []
