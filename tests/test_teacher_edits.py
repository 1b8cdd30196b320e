"""Edits a teacher would not make are never proposed (issue 14): rules on general principles, each tested on learner
sentences written for this file."""

import pytest

from rl.candidates import MIN_SUGGESTION_ZIPF, Span, candidate_spans, inflections, spelling_suggestions, zipf
from rl.corrector import _apply_spans, _inside
from rl.verifier import degenerate_reason


def _replacements(sentence: str) -> set[tuple[str, str]]:
    return {(sentence[s.start : s.end], s.text) for s in candidate_spans(sentence)}


def test_a_suggestion_is_a_word_learners_use():
    # "cuntries" is one or two keystrokes from rare words (canaries, sentries, curries): none is offered
    for misspelt in ("cuntries", "sayed", "wated", "comunities"):
        suggestions = spelling_suggestions(misspelt)
        assert suggestions and all(min(zipf(w) for w in s.split()) >= MIN_SUGGESTION_ZIPF for s in suggestions)
    assert "canaries" not in spelling_suggestions("cuntries") and "countries" in spelling_suggestions("cuntries")
    # a rare word is offered when it is the one word a single slip away with the same first letter
    assert zipf("talkative") < MIN_SUGGESTION_ZIPF and spelling_suggestions("talkativve") == ("talkative",)


def test_a_suggestion_keeps_the_first_letter_when_one_can():
    pairs = _replacements("In my opinion the goverment should help people wher they live.")
    assert ("wher", "where") in pairs and ("wher", "her") not in pairs
    assert spelling_suggestions("anothere")[0] == "another"
    assert spelling_suggestions("hte")[0] == "the"  # the first two letters swapped keep the letters
    assert not any(s.startswith("o ") or s in {"there", "these"} for s in spelling_suggestions("othere"))


def test_a_suggestion_keeps_the_ending_the_writer_marked():
    # a plural stays plural, even where the singular is the more common word
    assert "environment" not in spelling_suggestions("enviroments")
    assert spelling_suggestions("enviroments")[0] == "environments"
    assert all(s.endswith("s") for s in spelling_suggestions("advertisments"))
    # and a regular ending put on an irregular word gives the form that ending marks
    assert spelling_suggestions("childs") == ("children",)
    assert spelling_suggestions("buyed") == ("bought",)
    assert spelling_suggestions("informations") == ("information",)  # a noun whose plural is itself
    assert "went" in spelling_suggestions("goed") and "go" not in spelling_suggestions("goed")


def test_a_plural_the_writer_wrote_is_undone_only_where_a_word_asks_for_a_singular():
    assert ("sciences", "science") not in _replacements("Many students like sciences and languages.")
    assert ("books", "book") in _replacements("She gave me a interesting books.")
    assert ("needs", "need") in _replacements("Most people needs a car.")  # also a verb: agreement is open
    assert ("student", "students") in _replacements("Many student like it.")  # adding a plural stays open


def test_two_edits_in_a_short_word_only_when_the_guess_is_unambiguous():
    # a six-letter word two keystrokes from several words is not guessed at; from one it is, and a long one still is
    assert spelling_suggestions("pobrem") == ()  # poem, pogrom, poorer, pore ...
    assert "hand" not in spelling_suggestions("hapend")  # happen(ed), hand, hoped, hated: too many
    assert spelling_suggestions("childen")[0] == "children"  # and a split leaves no two-letter fragment
    assert not any(" " in s for s in spelling_suggestions("techer"))
    assert spelling_suggestions("tommorow") == ("tomorrow",)


def test_a_participle_never_becomes_a_finite_verb():
    for participle, finite in (("been", "is"), ("been", "was"), ("gone", "went"), ("gone", "goes"), ("taken", "takes")):
        assert finite not in inflections(participle)
    assert "be" in inflections("been") and "being" in inflections("been")  # "will been" -> "will be" stays
    sentence = "My brother has been graduated from university."
    assert ("been", "is") not in _replacements(sentence)


def test_a_corrected_word_is_settled_for_the_next_round():
    sentence = "He go to scool every day"
    fixed, settled = _apply_spans(sentence, [Span(3, 5, "goes", "inflection"), Span(9, 14, "school", "spelling")])
    assert fixed == "He goes to school every day"
    assert [fixed[a:b] for a, b in settled] == ["goes", "school"]
    moved, settled = _apply_spans(fixed, [Span(0, 0, "And ", "article")], settled)
    assert [moved[a:b] for a, b in settled] == ["goes", "school", "And "]
    school = settled[1]
    assert _inside(Span(school[0], school[1], "schools", "inflection"), school)
    assert not _inside(Span(school[0], school[0], "the ", "article"), school)  # an article before it is still open
    assert not _inside(Span(school[0], school[1] + 1, "", "article"), school)  # so is deleting a doubled word
    capitalised, settled = _apply_spans("becuse it rains", [Span(0, 6, "Becuse", "capital")])
    assert capitalised == "Becuse it rains" and settled == []  # a capital leaves the spelling open


def test_the_verifier_refuses_a_misspelling_read_as_another_function_word():
    assert degenerate_reason("Some othere students disagree.", "Some there students disagree.")
    assert not degenerate_reason("Some othere students disagree.", "Some other students disagree.")
    assert not degenerate_reason("Teh city is big.", "The city is big.")
    assert not degenerate_reason("It is bigger then mine.", "It is bigger than mine.")  # a known word: the LM judges


@pytest.mark.slow
def test_the_corrector_keeps_the_plural_through_both_rounds():
    from rl.corrector import Corrector, LanguageModel
    from rl.models import PolicySpec

    corrector = Corrector(LanguageModel.load(PolicySpec().model))
    (result,) = corrector.correct(["Young people should study sciences and tecnologies at university."])
    assert "technologies" in result.corrected and "sciences" in result.corrected


def test_a_suggestion_never_drops_a_negating_prefix():
    # the word without its prefix is common and close, and says the opposite ("by careful drivers")
    assert not {"careful", "un careful"} & set(spelling_suggestions("uncareful"))
    assert ("uncareful", "careful") not in _replacements("Accidents are caused by uncareful drivers.")
    assert spelling_suggestions("unpossible") == ("impossible",)  # a misspelt prefix is still corrected


def test_a_deleted_word_takes_its_spaces_and_nothing_more():
    # the next word the candidates look at may lie past a number ("in 2020 are"): the number stays
    sentence = "Most specialists in 2020 are busy with the 3 cars of a 2nd hand shop."
    deleted = [sentence[s.start : s.end] for s in candidate_spans(sentence) if not s.text]
    assert {"in ", "the ", "of ", "a "} <= set(deleted)
    assert all(len(text.split()) == 1 for text in deleted)
