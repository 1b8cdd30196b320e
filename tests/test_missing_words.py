"""A function word the writer left out ("want go", "it important") is put back, and only where a word is missing."""

import random

import pytest

from rl.candidates import INSERTED_WORDS, candidate_spans
from rl.corruptions import corrupt_missing_word


def insertions(sentence: str) -> set[str]:
    return {span.apply(sentence) for span in candidate_spans(sentence) if span.kind == "insertion"}


def test_a_left_out_function_word_is_offered_at_every_gap_between_two_words():
    sentence = "Students want go abroad"
    offered = insertions(sentence)
    assert "Students want to go abroad" in offered
    assert "Students are want go abroad" in offered  # the language model, not the list, tells which is right
    assert len(offered) == len(INSERTED_WORDS) * 3  # three gaps, every word at each
    assert all(span.start == span.end for span in candidate_spans(sentence) if span.kind == "insertion")


def test_no_word_is_inserted_beside_itself_nor_across_punctuation():
    assert "I want to to go" not in insertions("I want to go")
    assert "It is is important" not in insertions("It is important")
    sentence = "First, it important"
    assert not [s for s in insertions(sentence) if s.startswith("First to,") or s.startswith("First, to")]
    assert "First, it is important" in insertions(sentence)


def test_no_insertion_changes_the_tense_or_breaks_the_grammar_it_fixes():
    offered = insertions("Many works become famous and the homeland do well in sometimes")
    assert not [s for s in offered if {"will", "has", "have"} & set(s.split())]  # the writer's tense stays
    assert "Many works become famous and the homeland do well in is sometimes" not in offered  # no verb after "in"
    assert "Many works become famous and the is homeland do well in sometimes" not in offered  # nor after "the"
    assert "It can be involve risks" not in insertions("It can involve risks")  # no "be" before a plain verb
    assert "It will be perceived" in insertions("It will perceived")
    assert "jobs to be available" in insertions("jobs to available")


def test_the_corruption_drops_a_word_the_candidates_put_back():
    rng = random.Random(3)
    for original in ["I want to go abroad next year", "It is important to learn", "The price of food rose"]:
        corrupted = corrupt_missing_word(original, rng)
        assert corrupted != original
        assert original in insertions(corrupted)


@pytest.mark.slow
def test_the_corrector_puts_back_a_missing_to_and_leaves_a_complete_sentence_alone():
    from rl.corrector import Corrector, LanguageModel
    from rl.models import PolicySpec

    corrector = Corrector(LanguageModel.load(PolicySpec().model))
    fixed, complete = corrector.correct(["Many young people want go abroad after school.", "I want to go home now."])
    assert fixed.corrected == "Many young people want to go abroad after school."
    assert [span.kind for span in fixed.applied] == ["insertion"]
    assert complete.corrected == complete.sentence
