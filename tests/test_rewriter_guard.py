"""The guard: every rejected rewrite comes back as the original, with the reason.

The scorer here is a tiny stand-in (band falls by 0.5 per known misspelling) so each case is hand-computable; the
real scorer is too slow for a unit test and its behaviour is not what is under test. So is the language model of the
edit verifier (log-likelihood -8 per misspelling, -1 per word): SmolLM2 itself is exercised in the slow tests.
"""

import pytest

from rl.config import RewriterSettings
from rl.edits import Edit
from rl.rewriter import Candidate, Rewriter, apply_edits_to_essay

MISSPELLED = {"goverment", "enviroment", "becuase"}
ESSAY = (
    "The goverment should protect the enviroment. "
    "Many people agree becuase pollution harms health. "
    "In conclusion, action is needed now."
)


class MisspellingScorer:
    def __init__(self):
        self.calls = 0

    def predict_bands(self, questions, essays):
        self.calls += 1
        return [7.0 - 0.5 * sum(word.strip(".,").lower() in MISSPELLED for word in e.split()) for e in essays]


class MisspellingLM:
    """Stand-in for rl.corrector.LanguageModel: only score() is used by the verifier."""

    def score(self, texts):
        from rl.corrector import ScoredText

        return [ScoredText(t, [], -1.0 * len(t.split()) - 8.0 * misspellings(t)) for t in texts]


def misspellings(text: str) -> int:
    return sum(word.strip(".,").lower() in MISSPELLED for word in text.split())


class FavouriteScorer(MisspellingScorer):
    """A scorer that can be fooled: every "favourite" is worth a whole band."""

    def predict_bands(self, questions, essays):
        bands = super().predict_bands(questions, essays)
        return [b + e.count("favourite") for b, e in zip(bands, essays, strict=True)]


def edit_candidate(*edits: tuple[int, Edit]) -> Candidate:
    return Candidate(0, apply_edits_to_essay(ESSAY, list(edits)), list(edits))


@pytest.fixture
def rewriter():
    return Rewriter(None, None, MisspellingScorer(), RewriterSettings(), language_model=MisspellingLM())


def test_helpful_edits_are_combined(rewriter):
    fix_1 = (0, Edit("The goverment", "The government"))
    fix_2 = (1, Edit("agree becuase", "agree because"))
    (result,) = rewriter.guard(["q"], [ESSAY], [[edit_candidate(fix_1), edit_candidate(fix_2)]])
    assert not result.guard_applied and result.reason == "ok"
    assert "government" in result.text and "because" in result.text and "enviroment" in result.text
    assert (result.band_before, result.band_after) == (5.5, 6.5)
    assert result.chars_changed == 3  # one inserted "n", one swapped pair "ua" -> "au"


def test_worse_or_equal_rewrite_is_replaced_by_original(rewriter):
    worse = edit_candidate((2, Edit("action is", "acton is")), (2, Edit("needed now", "needed goverment")))
    same = edit_candidate((2, Edit("action is", "action was")))  # the scorer sees no gain
    (result,) = rewriter.guard(["q"], [ESSAY], [[worse, same]])
    assert result.guard_applied and result.reason == "not_better"
    assert result.text == ESSAY and result.chars_changed == 0
    assert result.band_after == result.band_before == 5.5


@pytest.mark.parametrize(
    ("candidate", "reason"),
    [
        (Candidate(0, "   "), "empty"),
        (Candidate(0, ESSAY, problem="truncated"), "truncated"),
        (Candidate(0, ESSAY[:60]), "length"),
        (Candidate(0, ESSAY.upper()), "too_many_changes"),  # same length, ~110 characters changed
    ],
)
def test_bad_outputs_never_reach_the_text(rewriter, candidate, reason):
    (result,) = rewriter.guard(["q"], [ESSAY], [[candidate]])
    assert result.guard_applied and result.reason == reason and result.text == ESSAY


def test_no_proposal_means_no_change(rewriter):
    fix = edit_candidate((0, Edit("The goverment", "The government")))
    results = rewriter.guard(["q", "q"], [ESSAY, ESSAY], [[], [fix]])
    assert results[0].guard_applied and results[0].reason == "no_edits" and results[0].text == ESSAY
    assert not results[1].guard_applied and results[1].band_after == 6.0


def test_verified_fix_pays_for_its_characters_and_a_fooled_scorer_cannot_buy_added_words():
    scorer = FavouriteScorer()
    guard = Rewriter(None, None, scorer, RewriterSettings(), language_model=MisspellingLM())
    fix = edit_candidate((0, Edit("The goverment", "The government")))
    added = edit_candidate((2, Edit("action is", "favourite action is")))  # +1 band from the scorer, added content
    (fixed, fooled) = guard.guard(["q", "q"], [ESSAY, ESSAY], [[fix], [added]])
    assert not fixed.guard_applied and "government" in fixed.text
    assert fooled.guard_applied and fooled.text == ESSAY
    # without the verifier the fooled scorer wins: the edit verdict is what stops it
    plain = Rewriter(None, None, scorer, RewriterSettings(edit_verifier=False))
    (fooled_plain,) = plain.guard(["q"], [ESSAY], [[added]])
    assert not fooled_plain.guard_applied and "favourite" in fooled_plain.text


def test_min_band_gain_is_respected_without_the_verifier():
    strict = Rewriter(None, None, MisspellingScorer(), RewriterSettings(min_band_gain=0.5, edit_verifier=False))
    (result,) = strict.guard(["q"], [ESSAY], [[edit_candidate((0, Edit("The goverment", "The government")))]])
    assert result.guard_applied and result.reason == "not_better"
