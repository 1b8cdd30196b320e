"""Krippendorff's alpha, QWK between raters, consensus bands and per-rater flags, checked against hand computation."""

from datetime import timedelta
from decimal import Decimal

import pytest
from rating_helpers import make_items, make_raters, make_rewrites, rate_assignment

from labeling.corpus.labels import consensus_band, consensus_human_labels
from labeling.models import Rating
from labeling.rating.actions import RatingAnswer, approve_ratings, reject_rating, submit_rating
from labeling.rating.agreement import (
    FlagThresholds,
    agreement_report,
    krippendorff_alpha_interval,
    pairwise_qwk,
)
from labeling.rating.assignment import claim_next
from labeling.rating.batches import create_rating_items


def test_alpha_interval_by_hand():
    # Values 1,2 | 3,3. D_o = (2*1/1)/4 = 0.5; D_e = 22 / (4*3); alpha = 1 - 0.5/(11/6) = 8/11.
    assert krippendorff_alpha_interval([[1, 2], [3, 3]]) == pytest.approx(8 / 11)
    # A unit with one value is not pairable and changes nothing.
    assert krippendorff_alpha_interval([[1, 2], [3, 3], [9]]) == pytest.approx(8 / 11)


def test_alpha_with_three_raters_by_hand():
    # Unit 1: 1,2,3 -> ordered sq diffs 2*(1+4+1)=12, /(3-1) = 6; unit 2: 4,4 -> 0. n=5, D_o = 6/5.
    # All values 1,2,3,4,4: sum=14, sum sq=46 -> ordered sum = 2*5*46 - 2*196 = 68; D_e = 68/20 = 3.4.
    assert krippendorff_alpha_interval([[1, 2, 3], [4, 4]]) == pytest.approx(1 - 1.2 / 3.4)


def test_alpha_edge_cases():
    assert krippendorff_alpha_interval([[5, 5], [7, 7]]) == 1.0
    assert krippendorff_alpha_interval([[5], [6]]) is None
    assert krippendorff_alpha_interval([[6, 6], [6, 6]]) == 1.0


def test_pairwise_qwk_by_hand():
    # Pairs (6,7) and (5,5), both orders. On the half-band grid (index = 2*band), sum w*O = 4+4 = 8 and
    # sum w*E = 88/4 = 22 with w = (i-j)^2, so kappa = 1 - 8/22 = 7/11.
    assert pairwise_qwk([[6, 7], [5, 5]]) == pytest.approx(7 / 11)
    assert pairwise_qwk([[6, 6], [5, 5], [7, 7]]) == pytest.approx(1.0)
    assert pairwise_qwk([[6]]) is None


def test_consensus_band_mean_and_weighted():
    assert consensus_band([6.0, 7.0]) == 6.5
    assert consensus_band([6.0, 7.0], weights=[3.0, 1.0]) == pytest.approx(6.25)


@pytest.mark.django_db
def test_report_from_database_gold_bias_consensus_and_flags():
    training_round, pool = make_rewrites(2, round_number=1, tag="pool")
    _, gold = make_rewrites(1, round_number=None, split="val", band="7.0", tag="gold")
    batch = create_rating_items(training_round, pool + gold, k=2, gold_share=0).batch
    assert batch.items.filter(is_gold=True).count() == 1
    careful, sloppy = make_raters(2)
    # careful: original 7.0, rewrite 7.5 everywhere; sloppy: 5.0 and 5.0, 10 seconds each.
    for rater, a, b, seconds in ((careful, "7.0", "7.5", 300), (sloppy, "5.0", "5.0", 10)):
        while (assignment := claim_next(rater)) is not None:
            rewrite_a = assignment.rewrite_side == "A"
            band_a, band_b = (b, a) if rewrite_a else (a, b)
            submit_rating(
                assignment.pk,
                RatingAnswer(band_a=Decimal(band_a), band_b=Decimal(band_b), better="same", active_seconds=seconds),
                now=assignment.reserved_at + timedelta(minutes=10),  # active time is capped by the time elapsed
            )
    report = agreement_report(batch_id=batch.pk, thresholds=FlagThresholds(min_ratings=3, min_gold=1))
    assert (report.items, report.ratings_needed, report.ratings_done) == (3, 6, 6)
    by_name = {s.username: s for s in report.raters}
    assert by_name[careful.username].gold_mae == 0.0 and by_name[careful.username].gold_bias == 0.0
    assert by_name[sloppy.username].gold_bias == -2.0
    assert by_name[sloppy.username].consensus_mae == pytest.approx((2 + 2.5 + 2 + 2.5 + 2 + 2.5) / 6)
    assert "drifts from gold" in by_name[sloppy.username].flags
    assert "always the same band" in by_name[sloppy.username].flags
    assert by_name[careful.username].flags == []
    # Nothing approved yet: no consensus, only the provisional band of the pending ratings.
    assert all(row.band is None and row.n == 0 for row in report.consensus)
    assert all(row.provisional in (6.0, 6.25) and row.provisional_n == 2 for row in report.consensus)
    # Six texts, two raters each, consistently 2 or 2.5 bands apart: alpha far below 0.
    units = [[7.0, 5.0], [7.5, 5.0]] * 3
    assert report.alpha == pytest.approx(krippendorff_alpha_interval(units))
    assert report.units == 6
    assert [p[0] for p in report.gold_points] == [7.0, 7.0]


@pytest.mark.django_db
def test_rejected_and_pending_ratings_do_not_move_the_consensus():
    item = make_items(1, k=3).items.get()
    approved_rater, pending_rater, rejected_rater, reviewer = make_raters(4)
    for rater, original, rewrite in ((approved_rater, 6.0, 6.5), (pending_rater, 9.0, 9.0), (rejected_rater, 3.0, 3.0)):
        rate_assignment(claim_next(rater), original, rewrite)
    approve_ratings(Rating.objects.filter(rater=approved_rater), reviewer)
    reject_rating(Rating.objects.get(rater=rejected_rater).pk, reviewer)

    # What the scorer and the rewriter train on: the approved rating alone.
    human = consensus_human_labels()
    assert human[(item.essay_id, None)]["band"] == 6.0 and human[(item.essay_id, item.rewrite_id)]["band"] == 6.5
    assert human[(item.essay_id, None)]["n"] == 1
    # The agreement page shows the same consensus, and beside it the provisional band with the pending rating.
    rows = {(row.essay_id, row.rewrite_id): row for row in agreement_report().consensus}
    original, rewrite = rows[(item.essay_id, None)], rows[(item.essay_id, item.rewrite_id)]
    assert (original.band, original.n, original.provisional, original.provisional_n) == (6.0, 1, 7.5, 2)
    assert (rewrite.band, rewrite.n, rewrite.provisional, rewrite.provisional_n) == (6.5, 1, 7.75, 2)
