"""The changes of a pair (rl/changes.py): what raters see marked and judge one by one, grouped into passages."""

import random

import pytest

from rl.changes import pair_changes
from rl.corruptions import corrupt_sentence
from rl.edits import split_sentences


def described(original: str, rewrite: str):
    changes = pair_changes(original, rewrite)
    return (
        [(changes.before(c), changes.after(c), c.passage) for c in changes.changes],
        [(changes.passage_before(p), changes.passage_after(p)) for p in changes.passages],
    )


def test_a_changed_word_an_inserted_comma_and_a_deleted_word_are_changes_with_text_on_both_sides():
    changes, passages = described(
        "In conclusion I think it is a very good idea. Cars is a problem.",
        "In conclusion, I think it is a good idea. Cars are a problem.",
    )
    assert changes == [("conclusion", "conclusion,", 0), ("a very", "a", 0), ("is", "are", 1)]
    assert passages == [
        ("In conclusion I think it is a very good idea.", "In conclusion, I think it is a good idea."),
        ("Cars is a problem.", "Cars are a problem."),
    ]


def test_changes_separated_only_by_spaces_are_one_and_a_sentence_break_joins_two_sentences_in_one_passage():
    changes, passages = described(
        "Firstly, goverment should invest in public transport; secondly, taxes. Fine.",
        "Firstly, the government should invest in public transport. Secondly, taxes. Fine.",
    )
    assert changes == [("goverment", "the government", 0), ("; secondly", ". Secondly", 0)]
    assert passages == [
        (
            "Firstly, goverment should invest in public transport; secondly, taxes.",
            "Firstly, the government should invest in public transport. Secondly, taxes.",
        )
    ]


def test_identical_texts_and_spacing_alone_have_no_changes():
    assert described("Same text. Twice.", "Same text. Twice.") == ([], [])
    assert described("One.  Two.\n\nThree.", "One. Two.\nThree.") == ([], [])


def test_whole_texts_added_or_removed():
    assert described("", "New text.") == ([("", "New text.", 0)], [("", "New text.")])
    assert described("Old text.", "") == ([("Old text.", "", 0)], [("Old text.", "")])


@pytest.mark.parametrize("seed", range(4))
def test_on_real_essays_passages_hold_their_changes_and_everything_else_is_shared(seed):
    """Outside the passages both texts are identical, in both directions, whatever errors were injected."""
    import csv
    from pathlib import Path

    rows = list(csv.DictReader((Path(__file__).parent.parent / "data/chillies_clean/val.csv").open()))
    rng = random.Random(seed)
    for row in rng.sample(rows, 25):
        original = row["essay"]
        rewrite = original
        for sentence in rng.sample(split_sentences(original), 3):
            rewrite = rewrite.replace(sentence, corrupt_sentence(sentence, rng)[0], 1)
        for a, b in ((original, rewrite), (rewrite, original)):
            changes = pair_changes(a, b)
            cursor_a = cursor_b = 0
            for passage in changes.passages:
                assert a[cursor_a : passage.original[0]] == b[cursor_b : passage.rewrite[0]]
                cursor_a, cursor_b = passage.original[1], passage.rewrite[1]
                for index in passage.changes:
                    change = changes.changes[index]
                    assert passage.original[0] <= change.original[0] <= change.original[1] <= passage.original[1]
                    assert passage.rewrite[0] <= change.rewrite[0] <= change.rewrite[1] <= passage.rewrite[1]
                    assert changes.before(change) != changes.after(change)
            assert a[cursor_a:] == b[cursor_b:]
            assert [c.index for c in changes.changes] == list(range(len(changes.changes)))
            # Read the other way round, a pair has the same changes with the sides swapped.
            mirrored = pair_changes(b, a)
            assert len(mirrored.changes) == len(changes.changes)
