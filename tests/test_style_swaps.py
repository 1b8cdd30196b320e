"""The meaning-neutral style swaps bench/judge_swaps.py probes the scorers with: contractions written out, and a
repeated sentence-initial linker replaced by an exact synonym the essay does not use yet."""

from rl.style_swaps import expand_contractions, vary_repeated_linkers


def test_contractions_are_written_out_keeping_the_capital():
    assert expand_contractions("It's clear that people don't care.") == "It is clear that people do not care."
    assert expand_contractions("I'm sure we can't stop. They've tried.") == "I am sure we cannot stop. They have tried."


def test_its_been_is_it_has_been():
    assert expand_contractions("it's been years, and it's late.") == "it has been years, and it is late."


def test_words_without_an_apostrophe_are_left_alone():
    text = "Its roots are deep and dont matter."
    assert expand_contractions(text) == text


def test_only_the_second_use_of_a_linker_changes_and_to_an_unused_synonym():
    essay = (
        "For example, cars pollute. Moreover, they are loud. For example, buses are cleaner. Moreover, trains are "
        "quiet.\nFurthermore, bikes are free."
    )
    assert vary_repeated_linkers(essay) == (
        "For example, cars pollute. Moreover, they are loud. For instance, buses are cleaner. In addition, trains "
        "are quiet.\nFurthermore, bikes are free."
    )


def test_linkers_mid_sentence_without_a_synonym_left_or_outside_the_lists_stay():
    essay = (
        "However, it rains. However, we go. Thus, we win. Therefore, we rest. Thus, we sleep. "
        "It is, for example, wet. It is, for example, cold."
    )
    assert vary_repeated_linkers(essay) == essay
