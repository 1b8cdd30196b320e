"""Judging a proposed edit of a sentence with injected errors against its original (what --tune-threshold counts)."""

from rl.candidates import Span
from rl.corruptions import edit_outcome


def span_replacing(sentence: str, old: str, new: str, kind: str = "inflection") -> Span:
    start = sentence.index(old)
    return Span(start, start + len(old), new, kind)


def test_a_repair_of_the_injected_error_is_a_fix():
    original, shown = "They visit these sites every year.", "They visit this sites every year."
    assert edit_outcome(shown, original, span_replacing(shown, "this", "these")) == 1


def test_another_repair_of_the_same_place_is_neither():
    original, shown = "They visit these sites every year.", "They visit this sites every year."
    assert edit_outcome(shown, original, span_replacing(shown, "sites", "site")) == 0


def test_an_edit_away_from_any_injected_error_is_a_harm():
    original, shown = "They visit these sites every year.", "They visit this sites every year."
    assert edit_outcome(shown, original, span_replacing(shown, "year", "years")) == -1
    clean = "They visit these sites every year."  # shown as written: any change is a harm
    assert edit_outcome(clean, clean, span_replacing(clean, "sites", "site")) == -1


def test_insertions_and_deletions_are_placed_by_word():
    original, shown = "He went to the park after a long day at school.", "He went to park after a long day at school."
    insertion = Span(shown.index("park"), shown.index("park"), "the ", "article")
    assert edit_outcome(shown, original, insertion) == 1
    deletion = Span(shown.index("at "), shown.index("school"), "", "preposition")  # far from the missing "the"
    assert edit_outcome(shown, original, deletion) == -1
