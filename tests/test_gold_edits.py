"""Gold on edits: gold items can be the essay against itself with one injected learner error; a rater's verdict on
that change is checked against the expected one, like their band on gold items."""

import random
from decimal import Decimal

import pytest
from rating_helpers import make_raters, make_rewrites

from labeling.models import Assignment, RatingItem, Rewrite
from labeling.rating.actions import RatingAnswer, submit_rating
from labeling.rating.agreement import agreement_report, rater_gold_edit_summary
from labeling.rating.assignment import claim_next
from labeling.rating.batches import create_rating_items
from labeling.rating.gold_edits import inject_error
from rl.changes import pair_changes

ESSAY = (
    "Many people believe that the government should pay for university education. "
    "In my opinion, this is necessary because education benefits the whole society. "
    "However, others think that students should pay for their own studies."
)


def test_an_injected_error_is_one_change_whose_original_is_better():
    for seed in range(20):
        edited, gold = inject_error(ESSAY, random.Random(seed))
        (change,) = pair_changes(ESSAY, edited).changes
        assert gold["expected"] == "original" and gold["kind"]
        assert (gold["original_start"], gold["original_end"]) == change.original
        assert ESSAY[change.original[0] : change.original[1]] == gold["before"] != gold["after"]
    assert inject_error("Too short. Really.", random.Random(0)) is None


@pytest.fixture
def gold_batch(settings, db):
    settings.RATING_GOLD_EDIT_SHARE = 1.0
    _, gold_rewrites = make_rewrites(4, round_number=1, split="val", band="6.5", tag="gold")
    for rewrite in gold_rewrites:  # long enough sentences to take an error
        rewrite.essay.text = ESSAY.replace("Many", f"Very many ({rewrite.pk})")
        rewrite.essay.save()
    training_round, pool = make_rewrites(6, round_number=2, tag="pool")
    return create_rating_items(training_round, pool, k=2, gold_share=0.4).batch, training_round, pool


def test_gold_items_carry_a_gold_edit_and_a_second_call_adds_nothing(gold_batch):
    batch, training_round, pool = gold_batch
    gold = list(batch.items.filter(is_gold=True).select_related("essay", "rewrite"))
    assert len(gold) == 4
    for item in gold:
        assert item.gold_edit["expected"] == "original" and item.gold_edit["source_rewrite"]
        assert "gold_edit" in item.rewrite.generation and item.rewrite.training_round is None
        (change,) = pair_changes(item.essay.text, item.rewrite.text).changes
        assert change.original == (item.gold_edit["original_start"], item.gold_edit["original_end"])
    rewrites = Rewrite.objects.count()
    again = create_rating_items(training_round, pool, k=2, gold_share=0.4)
    assert again.created == 0 and again.items == batch.items.count() and Rewrite.objects.count() == rewrites


def test_verdicts_on_gold_edits_measure_a_raters_accuracy_on_edits(gold_batch, settings):
    batch, _, _ = gold_batch
    good, careless = make_raters(2)
    for rater, right in ((good, True), (careless, False)):
        while (assignment := claim_next(rater)) is not None:
            expected_side = "B" if assignment.rewrite_side == "A" else "A"  # the side showing the original
            wrong_side = assignment.rewrite_side
            verdicts = {0: expected_side if right else wrong_side} if assignment.item.gold_edit else {}
            answer = RatingAnswer(band_a=Decimal("6"), band_b=Decimal("6"), better="same", edit_verdicts=verdicts)
            submit_rating(assignment.pk, answer)
    gold_items = RatingItem.objects.filter(batch=batch, is_gold=True).count()
    rated = Assignment.objects.filter(rater=good, item__is_gold=True, status="submitted").count()
    assert rated == gold_items == 4
    assert rater_gold_edit_summary(good) == (4, 4)
    assert rater_gold_edit_summary(careless) == (4, 0)
    stats = {s.username: s for s in agreement_report(batch_id=batch.pk).raters}
    assert stats[good.username].gold_edit_accuracy == 1.0 and "misjudges gold edits" not in stats[good.username].flags
    assert stats[careless.username].gold_edit_accuracy == 0.0
    assert "misjudges gold edits" in stats[careless.username].flags
