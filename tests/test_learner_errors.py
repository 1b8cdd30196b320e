"""The SFT warm start's injected learner errors (rl.corruptions.LEARNER_ERRORS) and the sentences it learns from."""

import random

from rl.corruptions import (
    CORRUPTIONS,
    LEARNER_ERRORS,
    corrupt_capitals,
    corrupt_confusion,
    corrupt_inflection,
    corrupt_missing_word,
    corrupt_sentence,
)
from rl.edits import apply_edits, diff_edits

SENTENCES = [
    "I believe that students have to learn how to cook before they leave their parents' home.",
    "However, the government should invest in public transport because it is important for the environment.",
    "Children who are taught at an early age are significantly more successful than their peers later in life.",
]


def test_every_learner_error_is_made_and_its_edits_restore_the_sentence():
    rng = random.Random(5)
    seen = set()
    for _ in range(40):
        for sentence in SENTENCES:
            corrupted, kinds = corrupt_sentence(sentence, rng, kinds=LEARNER_ERRORS)
            seen.update(kinds)
            assert apply_edits(corrupted, diff_edits(corrupted, sentence)) == sentence
    assert seen == set(LEARNER_ERRORS)
    assert set(CORRUPTIONS) < set(LEARNER_ERRORS)


def test_the_default_kinds_stay_the_tuned_ones():
    # the corrector's margins and the raters' gold checks were measured on these; the default must not move
    rng_a, rng_b = random.Random(9), random.Random(9)
    for sentence in SENTENCES * 5:
        assert corrupt_sentence(sentence, rng_a) == corrupt_sentence(sentence, rng_b, kinds=CORRUPTIONS)


def test_each_new_kind_makes_the_slip_it_names():
    rng = random.Random(0)
    inflected = {corrupt_inflection("Students learn quickly.", rng) for _ in range(20)}
    assert "Student learn quickly." in inflected or "Students learns quickly." in inflected
    assert all(s.endswith("quickly.") for s in inflected)  # an adverb has no inflections here
    confused = {corrupt_confusion("It is better than nothing.", rng) for _ in range(10)}
    assert confused == {"It is better then nothing."}
    assert corrupt_missing_word("I want to go home.", rng) == "I want go home."
    assert corrupt_missing_word("Nothing droppable here.", rng) is None
    capitals = {corrupt_capitals("I think I can.", rng) for _ in range(20)}
    assert capitals == {"i think I can.", "I think i can."}
    assert corrupt_capitals("Students learn.", rng) == "students learn."
    assert corrupt_capitals("iPhones sell.", rng) is None


def test_sft_learns_only_from_sentences_without_slips():
    from rl.candidates import likely_errors
    from rl.config import load_recipe
    from rl.edits import parse_edit_lines
    from rl.train_sft import build_sft_examples

    # learner essays from band 6 up: without the filter 12 of these 90 targets kept a slip
    config = load_recipe("cpu-smoke", ["sft.essays=30", "sft.sentences_per_essay=3", "data.sft_min_band=6.0"])
    examples = build_sft_examples(config)
    assert len(examples) == 90 and any(e["origin"] == "corrupted" for e in examples)
    for example in examples:
        shown = example["prompt"][-1]["content"].rsplit("\n", 1)[0]
        answer = example["completion"][0]["content"]
        target = shown if answer == "OK" else apply_edits(shown, parse_edit_lines(answer, shown, False))
        assert likely_errors(target) == 0, target
