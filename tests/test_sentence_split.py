"""Sentences are split at a full stop, question or exclamation mark and at line breaks, but not after an
abbreviation followed by a lower-case word, nor after a title: split there, the corrector capitalised the next word
("U.S. states => U.S. States")."""

from rl.edits import split_sentences


def test_abbreviations_before_a_lower_case_word_and_titles_end_no_sentence():
    text = (
        "Many U.S. states offer free care. Cars, buses etc. are noisy, e.g. at 5 p.m. when people drive home. "
        "Mr. Smith and Dr. Lee agreed."
    )
    assert split_sentences(text) == [
        "Many U.S. states offer free care.",
        "Cars, buses etc. are noisy, e.g. at 5 p.m. when people drive home.",
        "Mr. Smith and Dr. Lee agreed.",
    ]


def test_an_abbreviation_before_a_capital_and_a_lower_case_sentence_start_still_split():
    assert split_sentences("I moved to the U.S. The weather was cold. it rained every day.") == [
        "I moved to the U.S.",
        "The weather was cold.",
        "it rained every day.",  # a learner's missing capital: the corrector's to fix
    ]
    assert split_sentences("We went home.\nthen we ate.") == ["We went home.", "then we ate."]
