"""Cleaning model outputs: full-text answers lose preambles and change lists; edit lines are parsed strictly."""

import random

from rl.corruptions import CORRUPTIONS, corrupt_sentence
from rl.edits import Edit, apply_edits, apply_sentence_edits, diff_edits, format_edits, parse_edit_lines, sentence_spans
from rl.rewriter import clean_rewrite

ESSAY = "Technology has changed education. Students now learn online.\n\nIn conclusion, it is useful."


def test_clean_rewrite_strips_preamble_and_change_list():
    output = f"Sure! Here's the edited version:\n\n{ESSAY}\n\nChanges made:\n- 'have' -> 'has'\n- added a comma"
    assert clean_rewrite(output) == ESSAY


def test_clean_rewrite_other_shapes():
    assert clean_rewrite(f"Edited essay:\n{ESSAY}") == ESSAY
    assert clean_rewrite(f"```\n{ESSAY}\n```") == ESSAY
    assert clean_rewrite(f'"{ESSAY}"') == ESSAY
    assert clean_rewrite(f"{ESSAY}\n\n1. Fixed agreement.\n2. Fixed a typo.") == ESSAY
    assert clean_rewrite(ESSAY) == ESSAY  # a clean answer is left alone
    assert clean_rewrite("Here is the corrected essay:\n") == ""


def test_parse_edit_lines_ignores_noise():
    sentence = "The goverment said it reduce costs."
    output = (
        "Here are the corrections:\n"
        '1. "goverment" => "government" (spelling)\n'
        "- it reduce -> it reduces\n"
        "missing => phrase\n"
        "costs => costs\n"
        "This sentence has an error."
    )
    assert parse_edit_lines(output, sentence) == [Edit("goverment", "government"), Edit("it reduce", "it reduces")]
    assert parse_edit_lines("OK", sentence) == []
    assert parse_edit_lines("OK\ngoverment => government", sentence) == []  # nothing after OK counts


def test_truncated_output_drops_its_last_line():
    sentence = "He go to scool every day."
    assert parse_edit_lines("He go => He goes\nto scool => to sch", sentence, truncated=True) == [
        Edit("He go", "He goes")
    ]


def test_apply_sentence_edits_keeps_layout():
    edits = {1: [Edit("now learn", "now study")], 2: [Edit("it is", "technology is")]}
    assert apply_sentence_edits(ESSAY, edits) == (
        "Technology has changed education. Students now study online.\n\nIn conclusion, technology is useful."
    )
    assert [ESSAY[a:b] for a, b in sentence_spans(ESSAY)][2] == "In conclusion, it is useful."


def test_diff_edits_round_trip_on_corruptions():
    rng = random.Random(3)
    sentences = [
        "However, the government should invest in public transport because it is important for the environment.",
        "In my opinion, people's health depends on the food which they eat every day.",
        "Children who are taught at an early age are significantly more successful later in life.",
    ]
    kinds_seen = set()
    for _ in range(30):
        for sentence in sentences:
            corrupted, kinds = corrupt_sentence(sentence, rng)
            kinds_seen.update(kinds)
            edits = diff_edits(corrupted, sentence)
            assert apply_edits(corrupted, edits) == sentence
            assert (format_edits(edits) == "OK") == (corrupted == sentence)
    assert kinds_seen == set(CORRUPTIONS)


def test_diff_edit_has_context_for_a_dropped_article():
    assert diff_edits("He is best student.", "He is the best student.") == [Edit("is best", "is the best")]


def test_damage_that_games_a_scorer_is_not_a_correction():
    from rl.edits import english_lexicon, implausible_reason

    lexicon = english_lexicon()
    sentence = "In favor of this, I ask why people are here when their earnings plateaued and others break free."

    def reason(wrong: str, right: str) -> str:
        return implausible_reason(sentence, apply_edits(sentence, [Edit(wrong, right)]), sentence, lexicon)

    assert reason("why people are", "why People. are") == "new capital in 'People'"
    assert reason("people are", "people. are") == "sentence break"
    doubled = sentence.replace("earnings", "earningss")  # damage inside a word, however the edit was phrased
    assert implausible_reason(sentence, doubled, sentence, lexicon) == "unknown word 'earningss'"
    assert reason("this, I", "this, Ex- I") == "dangling hyphen"
    assert reason("break free", "break/free") == "stray symbol"
    assert reason("people are", "people' are") == "stray apostrophe"
    assert reason("In favor", "In favour") == reason("earnings plateaued", "earnings plateau") == ""


def test_edits_match_whole_words_only():
    assert parse_edit_lines("s plateaued => ss plateaued", "Their earnings plateaued.") == []
    assert apply_edits("An ant and a cat.", [Edit("a", "the")]) == "An ant and the cat."
