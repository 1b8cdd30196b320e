"""Gaming perturbations: the text functions themselves, the guard, and that they never raise a trained scorer's band."""

import random
from collections import Counter

import numpy as np

from rl.data import load_training_set
from rl.scorer import perturbation_report
from rl.scorer.features import HAND_FEATURES, hand_features, join_paragraphs, loose_paragraphs, split_sentences
from rl.scorer.guard import Guard
from rl.scorer.perturbations import (
    FANCY_WORDS,
    GENERIC_PARAGRAPHS,
    PERTURBATIONS,
    add_generic_paragraph,
    append_fancy_vocabulary,
    delete_half,
    paragraphs,
    repeat_paragraph,
    shuffle_sentences,
)

ESSAY = (
    "Some people think that children should learn a foreign language at school. Others disagree. "
    "In this essay I will discuss both views.\n\n"
    "On the one hand, languages open doors to other cultures. They also help students find jobs later.\n\n"
    "On the other hand, the school day is already full. Time spent on grammar drills could go to maths.\n\n"
    "In conclusion, I believe the benefits outweigh the costs."
)


def test_paragraphs_use_breaks_or_sentence_groups():
    assert len(paragraphs(ESSAY)) == 4
    flat = " ".join(paragraphs(ESSAY)).lower()
    assert len(paragraphs(flat)) == 4
    assert paragraphs("One sentence only.") == ["One sentence only."]


def test_repeat_paragraph_duplicates_one_paragraph():
    blocks = paragraphs(repeat_paragraph(ESSAY, random.Random(0)))
    assert len(blocks) == 5
    assert max(Counter(blocks).values()) == 2


def test_shuffle_keeps_the_same_sentences_in_another_order():
    shuffled = shuffle_sentences(ESSAY, random.Random(0))
    assert Counter(split_sentences(shuffled)) == Counter(split_sentences(ESSAY))
    assert split_sentences(shuffled) != split_sentences(ESSAY)


def test_delete_half_keeps_the_first_half_of_sentences():
    kept = split_sentences(delete_half(ESSAY, random.Random(0)))
    assert kept == split_sentences(ESSAY)[: len(split_sentences(ESSAY)) // 2]


def test_fancy_vocabulary_and_generic_paragraph_are_added():
    fancy = append_fancy_vocabulary(ESSAY, random.Random(0))
    assert fancy.startswith(paragraphs(ESSAY)[0])
    assert sum(word in fancy.lower() for word in FANCY_WORDS) >= 20
    generic = add_generic_paragraph(ESSAY, random.Random(0))
    assert paragraphs(generic)[1] in GENERIC_PARAGRAPHS


def test_perturbations_are_deterministic_for_a_seed():
    for perturb in PERTURBATIONS.values():
        assert perturb(ESSAY, random.Random(3)) == perturb(ESSAY, random.Random(3))


def test_guard_penalises_repetition_and_word_lists_but_not_ordinary_essays():
    records, _ = load_training_set()
    sample = records[:200]
    table = np.array([[hand_features(r.question, r.essay)[n] for n in HAND_FEATURES] for r in sample])
    guard = Guard.fit(table, HAND_FEATURES)
    assert (guard.penalties(table, HAND_FEATURES) > 0).mean() <= 0.05
    rng = random.Random(0)
    for perturb in (repeat_paragraph, append_fancy_vocabulary):
        perturbed = np.array(
            [[hand_features(r.question, perturb(r.essay, rng))[n] for n in HAND_FEATURES] for r in sample[:20]]
        )
        assert (guard.penalties(perturbed, HAND_FEATURES) > 0.3).mean() >= 0.9


def test_topic_shares_pay_only_beyond_every_training_essay():
    # Repetition pays from the training 99th percentile on; the off-topic and generic sentence shares only past the
    # training maximum (about 1% of genuine essays pass their 99th percentile).
    names = ("duplicate_sentence_share", "offtopic_sentence_share", "generic_sentence_share")
    training = np.zeros((1000, 3))
    training[:, 0] = np.linspace(0.0, 0.1, 1000)
    training[:, 1] = np.linspace(0.0, 0.3, 1000)
    training[:, 2] = np.linspace(0.0, 0.4, 1000)
    guard = Guard.fit(training, names)
    at_training_max = guard.penalties(np.array([[0.0, 0.3, 0.4]]), names)
    assert at_training_max[0] == 0.0
    beyond = guard.penalties(np.array([[0.0, 0.4, 0.4], [0.0, 0.5, 0.5], [0.1, 0.0, 0.0]]), names)
    assert 0 < beyond[0] < beyond[1]  # more off-topic text never pays less
    assert beyond[2] > 0  # the most repetitive training essay is past the repetition threshold


def test_gaming_perturbations_do_not_raise_the_band(small_scorer):
    scorer, held_out = small_scorer
    report = perturbation_report(scorer, held_out)
    assert set(report) == set(PERTURBATIONS)
    for name in ("repeat_paragraph", "append_fancy_vocabulary", "shuffle_sentences", "delete_half"):
        assert report[name]["raised_share"] <= 0.1, (name, report[name])
        assert report[name]["raised_half_band_share"] <= 0.05, (name, report[name])
    # Learner errors in every other sentence lower the band on average (single small errors are within its noise).
    assert report["inject_learner_errors"]["mean_change"] < 0, report["inject_learner_errors"]


def test_memorised_generic_paragraph_rarely_raises_the_band(small_scorer):
    # Recognised filler cannot raise the band; unrecognised filler still raises some essays a little (the benchmark
    # reports the share). Without the loose-paragraph rule 19% of this sample rise by half a band, with it 4%.
    scorer, held_out = small_scorer
    report = perturbation_report(scorer, held_out)["add_generic_paragraph"]
    assert report["raised_half_band_share"] <= 0.15, report


def test_only_paragraphs_the_writer_made_are_judged(small_scorer):
    scorer, _ = small_scorer
    with_filler = join_paragraphs(paragraphs(ESSAY)[:2] + [GENERIC_PARAGRAPHS[0]] + paragraphs(ESSAY)[2:])
    run_in = with_filler.replace("\n\n", " ")  # no line breaks: the sentence groups of paragraphs() are not judged

    assert loose_paragraphs(scorer.embedder, [ESSAY, run_in, "Too short.\n\nTwo paragraphs."]) == [[], [], []]


def test_recognised_filler_paragraph_cannot_raise_the_band(small_scorer):
    scorer, held_out = small_scorer
    essays = [join_paragraphs(paragraphs(r.essay)) for r in held_out]  # written in paragraphs
    questions = [r.question for r in held_out]
    rng = random.Random(0)
    padded = [add_generic_paragraph(essay, rng) for essay in essays]
    flagged = [bool(loose) for loose in loose_paragraphs(scorer.embedder, padded)]
    assert sum(flagged) >= len(padded) // 2

    before = scorer.predict(questions, essays)
    after = scorer.predict(questions, padded)
    for is_flagged, old, new in zip(flagged, before, after, strict=True):
        if is_flagged:
            assert new.band <= old.band + 1e-9
