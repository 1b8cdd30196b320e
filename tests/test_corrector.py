"""Candidate corrections (fast: word lists only) and the language-model corrector on SmolLM2 (slow)."""

import pytest

from rl.candidates import candidate_spans, inflections, spell_check, spelling_suggestions


def test_spelling_suggestions_and_the_spell_check_baseline():
    assert spelling_suggestions("goverment")[0] == "government"
    assert "a lot" in spelling_suggestions("alot")
    assert "12 years" in spelling_suggestions("12years")
    # unknown words are replaced, names in mid-sentence and known words are not
    assert spell_check("The goverment of Bacchan said alot.") == "The government of Bacchan said a lot."


def test_inflections_keep_the_tense():
    assert "goes" in inflections("go") and "gone" in inflections("go")
    assert "went" not in inflections("go")  # present -> past is the writer's choice
    assert "is" not in inflections("was") and "were" in inflections("was")
    assert inflections("could") == ()


def test_candidate_spans_cover_the_error_types():
    sentence = "i think he go to the school becuase of there friends"
    kinds = {(sentence[s.start : s.end], s.text): s.kind for s in candidate_spans(sentence)}
    assert kinds[("i", "I")] == "capital"
    assert kinds[("go", "goes")] == "inflection"
    assert kinds[("becuase", "because")] == "spelling"
    assert kinds[("there", "their")] == "confusion"
    assert kinds[("the ", "")] == "article"
    assert kinds[("to", "at")] == "preposition"
    assert ("far-from", "far-") not in kinds  # never delete inside a hyphenated word
    # names are left alone, even when their words are also English words (seen: "Hoi An in => Hoi in")
    named = "Tourists visit Hoi An and the Hung Kings temple"
    assert not [s for s in candidate_spans(named) if named[s.start : s.end] in {"An", "Hung", "Kings"}]


def test_a_comma_is_offered_after_an_opening_linker_that_lacks_one():
    def commas(sentence):
        return [(s.start, s.text) for s in candidate_spans(sentence) if s.kind == "comma"]

    assert commas("However I think it is wrong.") == [(7, ",")]
    assert commas("on the other hand we need rules.") == [(17, ",")]
    assert commas("However, I think it is wrong.") == []
    assert commas("In addition to this, schools help.") == []  # a preposition follows: no linker here
    assert commas("Howard thinks so.") == []


@pytest.mark.slow
def test_the_corrector_puts_the_comma_after_an_opening_linker_where_it_belongs():
    from rl.corrector import Corrector, CorrectorSettings, LanguageModel
    from rl.models import PolicySpec

    corrector = Corrector(LanguageModel.load(PolicySpec().model), CorrectorSettings())
    opinion, degree = corrector.correct(
        ["In my opinion governments should spend more on schools.", "However much we try, the problem remains."]
    )
    assert opinion.corrected == "In my opinion, governments should spend more on schools."  # gains about 7 nats
    assert [span.kind for span in opinion.applied] == ["comma"]
    assert degree.corrected == degree.sentence  # "However much": a degree adverb, not a linker


@pytest.mark.slow
def test_corrector_fixes_errors_and_leaves_correct_sentences_alone():
    from rl.corrector import Corrector, CorrectorSettings, LanguageModel
    from rl.models import PolicySpec

    lm = LanguageModel.load(PolicySpec().model)
    corrector = Corrector(lm, CorrectorSettings())
    fixed, clean = corrector.correct(
        ["My brother go to school every day becuase he like it.", "Most people agree that exercise is healthy."]
    )
    assert "goes" in fixed.corrected and "because" in fixed.corrected and fixed.gain > 4.0
    assert clean.corrected == clean.sentence and not clean.applied
    # the same language model judges any edit: a fix gains log-likelihood, damage loses it
    from rl.verifier import verdicts

    good, bad = verdicts(
        lm, [(fixed.sentence, fixed.corrected), (clean.sentence, "Most people agree that exercise is healthy healthy.")]
    )
    assert good.fix and bad.harm
    # a margin by kind raises the bar for that kind alone
    strict_spelling = Corrector(lm, CorrectorSettings(kind_margins={"spelling": 100.0})).correct([fixed.sentence])[0]
    assert "goes" in strict_spelling.corrected and "becuase" in strict_spelling.corrected
    strict_inflection = Corrector(lm, CorrectorSettings(kind_margins={"inflection": 100.0})).correct([fixed.sentence])
    assert "go to" in strict_inflection[0].corrected and "because" in strict_inflection[0].corrected


class FlatScorer:
    """Every essay gets the same band: the holistic scorer sees nothing, so only the edit verdicts can decide."""

    def predict_bands(self, questions, essays):
        return [6.0 for _ in essays]


@pytest.mark.slow
def test_rewriter_without_a_policy_makes_verified_corrections():
    from rl.config import RewriterSettings
    from rl.models import PolicySpec
    from rl.rewriter import Rewriter

    settings = RewriterSettings(num_candidates=0)
    rewriter = Rewriter.from_spec(PolicySpec(), FlatScorer(), settings)
    assert rewriter.model is None  # the corrector alone needs no policy
    essay = "Many people believes that cars are necessary. I disagree with this view becuase buses are cheaper."
    (result,) = rewriter.rewrite(["Are cars necessary?"], [essay])
    assert not result.guard_applied and "because" in result.text
    assert 0 < result.chars_changed < 100 and rewriter.stats.corrector_sentences >= 1
