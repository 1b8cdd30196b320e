"""The raters' learnt edit verdict (rl/verdict_model.py): it flips the verdicts on an edit kind the language model
likes and the raters reject, the reward then caps such rewrites, and with too few labels nothing changes.

The language model is a stand-in (hand-computable log-likelihoods) that, like SmolLM2 on "For the => In the", likes
a preposition swap raters reject: it gives "In the" 3 nats. The database test rates real pairs through the rating
flow and reads them back with labelled_edit_pairs()."""

import pytest
from rating_helpers import make_raters, rate_assignment

from labeling.corpus.edit_labels import labelled_edit_pairs
from labeling.models import Essay, Prompt, Rating, RoundStep, TrainingRound
from labeling.rating.actions import approve_ratings
from labeling.rating.assignment import claim_next
from labeling.rating.batches import create_rating_items
from labeling.training import engine, steps, verdict_learning
from labeling.training.forms import round_config_from_form
from labeling.training.step_context import StepContext, StepSkipped
from rl.config import RewriterSettings
from rl.corrector import ScoredText
from rl.edit_verdicts import LabelledEdit
from rl.reward import HARM_REWARD, edit_reward
from rl.train_rl import EditReward
from rl.verdict_model import MIN_LABELS, VerdictModel, change_kinds, fit_verdict_model, load_verdict_model
from rl.verifier import verdicts

MISSPELLED = {"goverment", "enviroment", "becuase"}
NOUNS = ["children", "students", "workers", "parents", "teachers", "cities", "families", "drivers", "farmers", "cooks"]
Q = "Should cities ban cars?"


class LikesInTheLM:
    """-1 per word, -8 per misspelling, +3 for "In the": the language model prefers a preposition swap."""

    def score(self, texts):
        return [ScoredText(t, [], self.logprob(t)) for t in texts]

    @staticmethod
    def logprob(text: str) -> float:
        words = [w.strip(".,") for w in text.split()]
        return -1.0 * len(words) - 8.0 * sum(w in MISSPELLED for w in words) + 3.0 * ("In the" in text)


def preposition_swap(i: int) -> tuple[str, str]:
    noun = NOUNS[i % len(NOUNS)]
    return f"For the {noun}, cars are a problem {i}.", f"In the {noun}, cars are a problem {i}."


def spelling_fix(i: int) -> tuple[str, str]:
    noun = NOUNS[i % len(NOUNS)]
    return f"The goverment must help {noun} {i}.", f"The government must help {noun} {i}."


def synthetic_edits(n: int) -> list[LabelledEdit]:
    """Raters who reject every "For the => In the" swap and accept every spelling fix, n edits in all."""
    edits = []
    for i in range(n):
        before, after = preposition_swap(i) if i % 2 else spelling_fix(i)
        edits.append(LabelledEdit(Q, before, after, -1 if i % 2 else 1, "original" if i % 2 else "rewrite"))
    return edits


def fitted(edits: list[LabelledEdit], min_labels: int = MIN_LABELS) -> VerdictModel | None:
    pairs = [(e.before, e.after) for e in edits]
    judged = verdicts(LikesInTheLM(), pairs, 1.0)
    labels = [e.label for e in edits]
    return fit_verdict_model(pairs, labels, [v.gain for v in judged], [v.reason for v in judged], 1.0, min_labels)


@pytest.mark.parametrize(
    ("old", "new", "kind"),
    [
        ("For the young, it is hard.", "In the young, it is hard.", "preposition"),
        ("The goverment acts.", "The government acts.", "spelling"),
        ("I have alot of time.", "I have a lot of time.", "spelling"),
        ("He go home.", "He goes home.", "inflection"),
        ("I like cats.", "I like the cats.", "article"),
        ("He went to home.", "He went home.", "preposition"),
        ("I like cats.", "I adore cats.", "word_choice"),
        ("I like cats.", "I really like cats.", "insertion"),
        ("I want go home.", "I want to go home.", "insertion"),
        ("I really like cats.", "I like cats.", "deletion"),
    ],
)
def test_change_kinds(old, new, kind):
    assert change_kinds(old, new) == {kind: 1}


def test_learnt_verdict_flips_the_swaps_raters_reject_and_the_reward_caps_them():
    model = fitted(synthetic_edits(60))
    assert model is not None and model.n_labels == 60
    # on these labels the rule accepts every swap (half the edits wrong); the learnt verdict gets them right
    assert model.rule_accuracy == pytest.approx(0.5)
    assert model.cv_accuracy == pytest.approx(1.0)
    # unseen sentences of both kinds
    swap, fix = (
        ("For the young, it is hard.", "In the young, it is hard."),
        ("The enviroment is.", "The environment is."),
    )
    rule_swap, rule_fix = verdicts(LikesInTheLM(), [swap, fix], 1.0)
    learnt_swap, learnt_fix = verdicts(LikesInTheLM(), [swap, fix], 1.0, model)
    assert rule_swap.gain == pytest.approx(3.0) and rule_swap.fix  # the language model alone calls the swap a fix
    assert learnt_swap.accept < 0.5 - model.margin and learnt_swap.harm and not learnt_swap.fix
    assert rule_fix.fix and learnt_fix.fix and learnt_fix.accept > 0.5
    # the scorer likes the swapped essay by half a band: the rule pays for it, the learnt verdict caps it
    assert edit_reward(6.0, 6.5, 3, [rule_swap]) > 0.5
    assert edit_reward(6.0, 6.5, 3, [learnt_swap]) == HARM_REWARD


class OneBandScorer:
    def predict_bands(self, questions, essays):
        return [6.0 + 0.5 * ("In the" in e) for e in essays]


def test_the_rl_reward_judges_with_the_model_its_settings_name(tmp_path):
    path = fitted(synthetic_edits(60)).save(tmp_path / "verdicts.json")
    essay = "For the young, it is hard. Fine."
    call = {"prompts": [None], "completions": ["For the => In the"], "question": [Q], "essay": [essay],
            "sentence_start": [0], "sentence_end": [26]}  # fmt: skip
    plain = EditReward(OneBandScorer(), RewriterSettings(), language_model=LikesInTheLM())(**call)
    learnt = EditReward(OneBandScorer(), RewriterSettings(verdict_model=str(path)), language_model=LikesInTheLM())
    assert plain[0] > 0.5 and learnt(**call) == [HARM_REWARD]


def test_the_guard_refuses_a_swap_the_learnt_verdict_rejects(tmp_path):
    from rl.edits import Edit
    from rl.rewriter import Candidate, Rewriter, apply_edits_to_essay

    path = fitted(synthetic_edits(60)).save(tmp_path / "verdicts.json")
    essay = "For the young, it is hard. The goverment acts."
    edits = [(0, Edit("For the", "In the")), (1, Edit("The goverment", "The government"))]
    proposals = [[Candidate(0, apply_edits_to_essay(essay, [edit]), [edit]) for edit in edits]]
    plain = Rewriter(None, None, OneBandScorer(), RewriterSettings(), language_model=LikesInTheLM())
    learnt = Rewriter(
        None, None, OneBandScorer(), RewriterSettings(verdict_model=str(path)), language_model=LikesInTheLM()
    )
    (both,) = plain.guard([Q], [essay], proposals)
    (fix_only,) = learnt.guard([Q], [essay], proposals)
    assert both.text == "In the young, it is hard. The government acts."
    assert fix_only.text == "For the young, it is hard. The government acts."


def test_too_few_labels_or_one_kind_of_label_leave_the_rule_alone():
    assert fitted(synthetic_edits(MIN_LABELS - 1)) is None
    assert fitted(synthetic_edits(6), min_labels=6) is not None
    only_accepted = [e for e in synthetic_edits(80) if e.label == 1]
    assert fitted(only_accepted) is None
    assert load_verdict_model("") is None
    pairs = [preposition_swap(1), spelling_fix(2), ("We can not go.", "We cannot cannot go.")]
    assert [(v.fix, v.harm) for v in verdicts(LikesInTheLM(), pairs, 1.0, None)] == [
        (True, False),
        (True, False),
        (False, True),
    ]


def test_json_round_trip(tmp_path):
    model = fitted(synthetic_edits(40))
    path = model.save(tmp_path / "m.json")
    again = VerdictModel.load(path)
    assert again == model
    swap = preposition_swap(3)
    assert again.probability(*swap, 3.0, "") == model.probability(*swap, 3.0, "")
    path.write_text(model.to_json().replace('"gain"', '"old_gain"'))
    with pytest.raises(ValueError, match="features"):
        VerdictModel.load(path)


# --- the round's step, on the database -----------------------------------------------------------------------------


def rate_swaps_and_fixes(n: int) -> None:
    """n pairs whose rewrite swaps "For the" for "In the" and fixes "goverment", rated by one rater who rejects the
    swap (change 0) and accepts the fix (change 1), approved: 2n labelled edits."""
    prompt = Prompt.objects.create(text=Q)
    training_round = TrainingRound.objects.create(number=1)
    rewrites = []
    for i in range(n):
        noun = NOUNS[i % len(NOUNS)]
        before = f"For the goverment, {noun} are a problem {i}. Fine."
        essay = Essay.objects.create(prompt=prompt, text=before, origin="test", split="pool")
        after = f"In the government, {noun} are a problem {i}. Fine."
        rewrites.append(essay.rewrites.create(text=after, training_round=training_round, chars_changed=4))
    create_rating_items(training_round, rewrites, k=1, gold_share=0.0)
    (rater,) = make_raters(1)
    while (assignment := claim_next(rater)) is not None:
        rate_assignment(assignment, 6.0, 6.0, verdicts={0: "original", 1: "rewrite"}, better="same")
    approve_ratings(Rating.objects.all(), reviewer=None)


@pytest.mark.django_db
def test_the_round_learns_from_rated_edits_and_judges_with_it(tmp_path, settings):
    settings.ARTIFACTS_DIR = tmp_path
    rate_swaps_and_fixes(20)
    edits = labelled_edit_pairs()
    assert sorted(e.label for e in edits) == [-1] * 20 + [1] * 20
    summary = verdict_learning.fit_from_labels(LikesInTheLM(), edits, 1.0, MIN_LABELS)
    assert summary["labelled_edits"] == 40 and summary["cv_accuracy"] == pytest.approx(1.0)
    assert summary["rule_accuracy"] == pytest.approx(0.5)
    model = load_verdict_model(summary["verdict_model"])
    (swap,) = verdicts(LikesInTheLM(), [preposition_swap(99)], 1.0, model)
    assert swap.harm
    # the same labels give the same file
    assert verdict_learning.fit_from_labels(LikesInTheLM(), edits, 1.0, MIN_LABELS) == summary

    # a round whose fit_verdicts step stored it judges edits with it in its later steps, and says so on its page
    config = round_config_from_form("cpu-smoke", [])
    training_round = engine.launch_round("cpu-smoke", config, dispatch=False)
    RoundStep.objects.filter(training_round=training_round, name="fit_verdicts").update(metrics=summary)
    later = StepContext(RoundStep.objects.get(training_round=training_round, name="optimise_policy"))
    assert steps.recipe(later).rewriter.verdict_model == summary["verdict_model"]
    version = steps.rewriter_version_of_run(later, steps.recipe(later), str(tmp_path / "run"), {"train_loss": 1.0})
    assert version.metrics == {"train_loss": 1.0, "edit_verdicts": summary}
    assert "learnt from 40 labelled edits" in verdict_learning.summary_text(summary)
    engine.cancel_round(training_round)


@pytest.mark.django_db
def test_a_round_with_too_few_labels_skips_the_step_and_keeps_the_rule(tmp_path, settings, client, make_user):
    settings.ARTIFACTS_DIR = tmp_path
    rate_swaps_and_fixes(5)
    config = round_config_from_form("cpu-smoke", [])
    training_round = engine.launch_round("cpu-smoke", config, dispatch=False)
    step = StepContext(RoundStep.objects.get(training_round=training_round, name="fit_verdicts"))
    with pytest.raises(StepSkipped, match="10 labelled edits, fewer than the 30"):
        steps.fit_verdicts(step)  # no language model is loaded for that
    later = StepContext(RoundStep.objects.get(training_round=training_round, name="generate_rewrites"))
    assert steps.recipe(later).rewriter == RewriterSettings(**config["rewriter"])
    training_round.refresh_from_db()
    assert training_round.metrics["edit_verdicts"]["labelled_edits"] == 10
    engine.cancel_round(training_round)
    client.force_login(make_user("staff", staff=True))
    page = client.get(f"/rounds/{training_round.number}/").content.decode()
    assert "Edit verdicts: the language-model rule alone (10 labelled edits, fewer than the 30" in page


@pytest.mark.slow
@pytest.mark.django_db
def test_the_step_learns_with_the_recipes_own_language_model(tmp_path, settings):
    """The real step: SmolLM2 judges the rated edits, the fitted model rejects the swaps whatever SmolLM2 thinks."""
    settings.ARTIFACTS_DIR = tmp_path
    rate_swaps_and_fixes(20)
    training_round = engine.launch_round("cpu-smoke", round_config_from_form("cpu-smoke", []), dispatch=False)
    summary = steps.fit_verdicts(StepContext(RoundStep.objects.get(training_round=training_round, name="fit_verdicts")))
    engine.cancel_round(training_round)
    assert summary["labelled_edits"] == 40 and summary["cv_accuracy"] is not None
    assert summary["verdict_model"].startswith(str(tmp_path))
    model = load_verdict_model(summary["verdict_model"])
    swap = ("For the young, it is hard.", "In the young, it is hard.")
    assert model.probability(*swap, 2.0, "") < 0.5
    training_round.refresh_from_db()
    assert training_round.metrics["edit_verdicts"] == summary
