"""Word-form candidates: the same stem in another part of speech ("easy" -> "easily"), and none that is only a
spelling coincidence ("early" / "earl")."""

import pytest

from rl.candidates import candidate_spans, word_forms


def test_forms_cover_adverbs_nouns_adjectives_and_verbs():
    assert word_forms("easy") == ("easily",)
    assert "easy" in word_forms("easily")
    assert "simply" in word_forms("simple")
    assert "important" in word_forms("importance")
    assert "environmental" in word_forms("environment")
    assert "economic" in word_forms("economy")
    assert "development" in word_forms("develop")
    assert "healthy" in word_forms("health")
    assert "responsibility" in word_forms("responsible")
    assert word_forms("Easy") == word_forms("easy")


def test_no_form_from_a_shared_spelling_alone():
    assert word_forms("early") == ()  # "ear" is no adjective, "earl" no noun of it
    assert "fin" not in word_forms("final")  # stems keep four letters
    assert word_forms("apart") == ()  # "apart" is no verb: no "apartment"
    assert word_forms("contentment") == ()  # a noun keeps its ending: "job contentment" is no "job content"
    assert word_forms("family") == ()
    assert word_forms("the") == ()


def test_candidate_spans_offer_word_forms_with_their_case():
    sentence = "Environment problems are easy solved."
    spans = {(sentence[s.start : s.end], s.text): s.kind for s in candidate_spans(sentence)}
    assert spans[("Environment", "Environmental")] == "word_form"
    assert spans[("easy", "easily")] == "word_form"


@pytest.mark.slow
def test_the_corrector_fixes_a_word_form_and_leaves_the_right_one_alone():
    from rl.corrector import Corrector, LanguageModel
    from rl.models import PolicySpec

    corrector = Corrector(LanguageModel.load(PolicySpec().model))
    fixed, right = corrector.correct(["This problem can be solved easy by the government.", "It is easy to learn."])
    assert fixed.corrected == "This problem can be solved easily by the government."
    assert [span.kind for span in fixed.applied] == ["word_form"]
    assert right.corrected == right.sentence
