"""Edit-level verdicts: the degenerate-edit rules, the gate and top-up of the reward, and the harm list.

The language model is a stand-in here (log-likelihood -8 per known misspelling, -1 per word) so every case is
hand-computable; SmolLM2's own judgements are tested in test_corrector.py (slow).
"""

import random

import pytest

from rl.corrector import ScoredText
from rl.harms import HARMS, SEEN_HARMS, harmful_edits
from rl.reward import EDIT_GAIN_CAP, HARM_REWARD, edit_reward, reward
from rl.train_rl import EditReward
from rl.verdict_model import kind_margin, raise_by_kind
from rl.verifier import Verdict, degenerate_reason, rewrite_verdicts, sentence_changes, verdicts

MISSPELLED = {"goverment", "enviroment", "becuase"}


class StandInLM:
    def score(self, texts):
        return [ScoredText(t, [], -1.0 * len(t.split()) - 8.0 * sum(w.strip(".,") in MISSPELLED for w in t.split()))
                for t in texts]  # fmt: skip


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ("We can not use it.", "We cannot cannot use it.", "doubled word"),
        ("It attracts people's attention.", "It attracts them's attention.", "pronoun of another person"),
        ("They are happy.", "Them are happy.", "object pronoun as subject"),
        ("I studied in my college.", "I studied in your college.", "pronoun of another person"),
        ("It is not good for children.", "It is good for children.", "dropped negation"),
        ("My cousin is a doctor.", "My favourite cousin is a doctor.", "added content"),
    ],
)
def test_rules_catch_the_harms_seen_from_the_rewriter(old, new, reason):
    assert degenerate_reason(old, new).startswith(reason)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("He go to school every day.", "He goes to school every day."),
        ("The goverment should act.", "The government should act."),
        ("I dont like ther food.", "I don't like their food."),
        ("is important to study.", "It is important to study."),  # a dummy "it" is a fix, not another person
        ("He had had enough.", "He had had enough!"),  # "had had" was already there
        ("Not for use car.", "Not for use with a car."),  # function words only
    ],
)
def test_rules_leave_corrections_alone(old, new):
    assert degenerate_reason(old, new) == ""


def test_every_seen_harm_and_every_harm_maker_is_caught_or_changes_text():
    rng = random.Random(0)
    sentence = "However, they are not able to afford the high prices of houses in my city, which has grown quickly."
    made = dict(harmful_edits(sentence, rng))
    assert set(made) == set(HARMS)  # this sentence allows every kind
    assert all(harmed != sentence for harmed in made.values())
    caught = [old for old, new in SEEN_HARMS if degenerate_reason(old, new)]
    assert len(caught) == 5  # the other four (meaning changes, word salad) are left to the language model


def test_verdicts_use_the_log_likelihood_ratio():
    fix, harm, neutral = verdicts(StandInLM(), [
        ("The goverment acts.", "The government acts."),  # +8
        ("The government acts.", "The goverment acts."),  # -8
        ("The government acts.", "The government then acts."),  # -1: within the threshold
    ], threshold=1.0)  # fmt: skip
    assert fix.gain == 8.0 and fix.fix and not fix.harm
    assert harm.harm and not harm.fix
    assert not neutral.fix and not neutral.harm


def test_kind_margins_raise_the_bar_for_their_kind_of_change():
    margins = {"preposition": 3.0, "spelling": 0.0, "confusion": 1.0, "insertion": 0.5}
    assert kind_margin("They live in Paris.", "They live at Paris.", margins) == 3.0
    # a left-out "to" put back needs what the corrector's insertion needs, not a swapped preposition's margin
    assert kind_margin("They want go to Paris.", "They want to go to Paris.", margins) == 0.5
    assert kind_margin("The goverment acts.", "The government acts.", margins) == 0.0
    assert kind_margin("I like there house.", "I like their house.", margins) == 1.0  # word choice: a confusion set
    mixed = ("He go to school in Paris.", "He goes to school at Paris.")
    assert kind_margin(*mixed, margins) == 3.0  # the strictest kind present
    pairs = [
        ("The goverment sits in Paris.", "The government sits at Paris."),  # +8, a spelling fix and a swap
        ("The goverment acts.", "The government acts."),  # +8, spelling only
    ]
    swap, spelling = raise_by_kind(pairs, verdicts(StandInLM(), pairs, threshold=1.0), {"preposition": 8.0})
    assert swap.threshold == 9.0 and not swap.fix
    assert spelling.threshold == 1.0 and spelling.fix


def test_edit_reward_gates_and_tops_up_the_mission_reward():
    fix, harm = Verdict(8.0, ""), Verdict(-8.0, "")
    flagged = Verdict(30.0, "added content 'favourite'")
    assert edit_reward(6.0, 6.0, 10, []) == pytest.approx(reward(6.0, 6.0, 10))  # no verdicts: the mission's formula
    assert edit_reward(6.0, 6.0, 10, [fix]) == pytest.approx(-0.1 + 0.05 * 8)
    assert edit_reward(6.0, 7.0, 10, [fix, harm]) == HARM_REWARD  # any harm gates the whole rewrite
    assert edit_reward(6.0, 9.0, 5, [flagged]) == HARM_REWARD  # a fooled scorer cannot buy a flagged edit
    assert edit_reward(6.0, 6.0, 0, [Verdict(100.0, "")]) == pytest.approx(0.05 * EDIT_GAIN_CAP)


def test_sentence_changes_pair_changed_sentences():
    original = "First one is fine. He go home. Last one."
    assert sentence_changes(original, "First one is fine. He goes home. Last one.") == [
        ("He go home.", "He goes home.")
    ]
    assert sentence_changes(original, original) == []
    joined = sentence_changes(original, "First one is fine. He go home and last one.")
    assert joined == [("He go home. Last one.", "He go home and last one.")]
    (judged,) = rewrite_verdicts(StandInLM(), ["The goverment acts. Fine."], ["The government acts. Fine."])
    assert [v.gain for v in judged] == [8.0]


class OneBandScorer:
    def predict_bands(self, questions, essays):
        return [6.0 for _ in essays]


def test_rl_reward_function_pays_verified_fixes_and_refuses_flagged_edits():
    from rl.config import RewriterSettings

    essay = "The goverment acts. My cousin agrees."
    reward_function = EditReward(OneBandScorer(), RewriterSettings(), language_model=StandInLM())
    rewards = reward_function(
        prompts=[None] * 3,
        completions=["goverment acts => government acts", "My cousin => My favourite cousin", "OK"],
        question=["q"] * 3,
        essay=[essay] * 3,
        sentence_start=[0, 20, 0],
        sentence_end=[19, 37, 19],
    )
    assert rewards[0] == pytest.approx(-0.01 + 0.05 * 8)  # one inserted "n", an 8-nat gain
    assert rewards[1] == HARM_REWARD
    assert rewards[2] == 0.0
