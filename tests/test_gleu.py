"""GLEU on sentences written here, with n-gram counts worked out by hand."""

import math

import pytest

from rl.gec_eval import GecSet, as_tokenised, detokenise, evaluate_outputs, load_gec_set, tokenise
from rl.gleu import corpus_gleu, gleu_from_stats, reference_draws, sentence_gleu, sentence_stats

SOURCE = "she like the cats and the dogs"
REFERENCE = "she likes the cats and the dogs"


def test_stats_of_the_unchanged_source():
    # 1-grams: 6 of 7 in the reference, minus "like" (in the source, not in the reference) = 5 of 7
    # 2-grams: "the cats", "cats and", "and the", "the dogs" = 4, minus "she like", "like the" = 2 of 6
    # 3-grams: 3 in the reference minus 2 source-only = 1 of 5; 4-grams: 2 - 2 = 0 of 4
    stats = sentence_stats(SOURCE.split(), SOURCE.split(), REFERENCE.split())
    assert stats == [7, 7, 5, 7, 2, 6, 1, 5, 0, 4]
    assert gleu_from_stats(stats) == 0.0  # a zero count without smoothing
    assert gleu_from_stats(stats, smooth=True) == pytest.approx((5 / 7 * 2 / 6 * 1 / 5 * 1 / 4) ** 0.25)


def test_the_correction_scores_one_and_an_added_word_costs_precision():
    assert sentence_stats(REFERENCE.split(), SOURCE.split(), REFERENCE.split()) == [7, 7, 7, 7, 6, 6, 5, 5, 4, 4]
    added = ["she", "likes", "the", "cats", "and", "the", "big", "dogs"]
    # 7 of 8 words, 5 of 7 bigrams, 4 of 6 trigrams, 3 of 5 four-grams; no brevity penalty (8 >= 7)
    assert sentence_stats(added, SOURCE.split(), REFERENCE.split()) == [8, 7, 7, 8, 5, 7, 4, 6, 3, 5]
    assert gleu_from_stats([8, 7, 7, 8, 5, 7, 4, 6, 3, 5]) == pytest.approx(0.25**0.25)


def test_brevity_penalty():
    # hypothesis of 6 tokens against a reference of 7: exp(1 - 7/6) times the precision
    short = ["she", "likes", "the", "cats", "and", "dogs"]
    stats = sentence_stats(short, SOURCE.split(), REFERENCE.split())
    assert stats[:2] == [6, 7]
    precision = math.exp(sum(math.log(m / p) for m, p in zip(stats[2::2], stats[3::2], strict=True)) / 4)
    assert gleu_from_stats(stats) == pytest.approx(math.exp(1 - 7 / 6) * precision)


def test_corpus_gleu_sums_stats_over_sentences():
    # two sentences, one reference: stats add up before the geometric mean (not a mean of sentence scores)
    sources = [SOURCE, "he go to the school every day"]
    references = [[REFERENCE, "he goes to the school every day"]]
    hypotheses = [REFERENCE, "he goes to the school every day"]
    assert corpus_gleu(hypotheses, sources, references, iterations=3) == pytest.approx(100.0)
    totals = [a + b for a, b in zip(*(sentence_stats(*(x.split() for x in t)) for t in
                                      [(SOURCE, SOURCE, REFERENCE),
                                       (sources[1], sources[1], references[0][1])]), strict=True)]  # fmt: skip
    expected = 100 * gleu_from_stats(totals)
    assert corpus_gleu(sources, sources, references, iterations=3) == pytest.approx(expected)


def test_several_references_are_drawn_per_sentence_and_iteration():
    draws = reference_draws(sentences=50, references=4, iterations=20)
    assert len(draws) == 20 and all(len(d) == 50 for d in draws)
    assert {k for d in draws for k in d} == {0, 1, 2, 3}
    assert draws == reference_draws(50, 4, 20)  # fixed seeds: the score is reproducible
    # identical reference sets: the draw cannot matter
    sources, hypotheses = [SOURCE], ["she likes the cats and dogs"]
    single = corpus_gleu(hypotheses, sources, [[REFERENCE]])
    assert corpus_gleu(hypotheses, sources, [[REFERENCE], [REFERENCE]]) == pytest.approx(single)
    # sentence-level GLEU averages over the references
    other = "she likes cats and dogs"
    mean = (sentence_gleu(hypotheses[0], SOURCE, [REFERENCE]) + sentence_gleu(hypotheses[0], SOURCE, [other])) / 2
    assert sentence_gleu(hypotheses[0], SOURCE, [REFERENCE, other]) == pytest.approx(mean)


def test_tokenisation_round_trip_keeps_source_tokens():
    source = "I do n't think he 's right , ( really ) etc. ."
    assert detokenise(source) == "I don't think he's right, (really) etc.."
    assert tokenise("He doesn't go.") == "He does n't go ."
    assert as_tokenised(detokenise(source), source) == source  # unchanged words keep their source tokens
    assert as_tokenised("I don't think she's right, (really) etc..", source) == (
        "I do n't think she 's right , ( really ) etc. ."
    )


def test_evaluate_outputs_counts_rises_and_falls(tmp_path):
    gec = GecSet(
        sources=["she like the cats .", "he go to school .", "it is fine ."],
        references=[["she likes the cats .", "he goes to school .", "it is fine ."]],
    )
    figures = evaluate_outputs(gec, ["she likes the cats.", "he go to schools.", "it is fine."])
    assert figures.changed_sentences == 2 and figures.changed == pytest.approx(2 / 3)
    assert figures.precision == pytest.approx(0.5) and figures.harm == pytest.approx(0.5)
    assert figures.by_kind == {
        "inflection": {"changed": 2, "rose": 1, "fell": 1},  # likes: a fix; schools: a harm
    }
    mixed = evaluate_outputs(gec, ["she like the cats.", "he goes to a school!", "it is fine!"])
    assert mixed.by_kind == {  # go => goes and a new article (it breaks "to school ."); "fine." => "fine!": no word
        "mixed": {"changed": 1, "rose": 0, "fell": 1},
        "punctuation": {"changed": 1, "rose": 0, "fell": 1},
    }
    with pytest.raises(ValueError, match="2 outputs for 3"):
        evaluate_outputs(gec, ["a", "b"])
    (tmp_path / "dev.src").write_text("a b\nc d\n")
    (tmp_path / "dev.ref0").write_text("a b\n")
    with pytest.raises(ValueError, match="has 1 lines"):
        load_gec_set(tmp_path)
    with pytest.raises(FileNotFoundError, match="dev.src"):
        load_gec_set(tmp_path / "missing")
