"""The loop, end to end on CPU: launch over HTTP, a real Celery worker runs every step with the cpu-smoke recipe,
rating items appear, simulated raters rate them, and the human-judged M appears on the round page."""

from decimal import Decimal

import pytest
from round_helpers import import_small_corpus, wait_for_round

from labeling.models import ModelKind, ModelVersion, RatingItem, Rewrite, RoundStatus
from labeling.rating.actions import RatingAnswer, approve_ratings, submit_rating
from labeling.rating.assignment import claim_next
from labeling.roles import create_rater
from labeling.training.round_metrics import round_metrics

pytestmark = pytest.mark.slow

# SFT then one GRPO step. Two smoke steps teach the policy only to answer "OK", so SFT barely moves it here and the
# few-shot prompt and a relaxed guard let its edits reach the raters; the real guard is tested elsewhere. Without the
# edit verifier too: with it both pool essays came back unchanged ("no_edits": the check on the policy's own edits
# refused the few-shot model's, and the corrector found nothing to fix), and the raters had no pair to judge.
SMOKE_OVERRIDES = "\n".join(
    [
        "stage=sft+rl",
        "sft.learning_rate=1.0e-6",
        "rewriter.few_shot=true",
        "round.eval_essays=1",
        "rewriter.edit_verifier=false",
        "rewriter.min_band_gain=-9.0",
        "rewriter.max_chars_changed=100000",
        "rewriter.max_length_ratio_change=10.0",
    ]
)


def test_round_runs_on_a_worker_and_human_m_appears(celery_worker, client, make_user, tmp_path):
    import_small_corpus(tmp_path)
    make_user("boss", staff=True)
    client.login(username="boss", password="pw-for-tests-1")

    response = client.post(
        "/rounds/new/",
        {
            "recipe": "cpu-smoke",
            "rewrite_essays": 2,
            "ratings_per_item": 2,
            "gold_share": 0.25,
            "extra": SMOKE_OVERRIDES,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    training_round = wait_for_round(1, timeout=900)
    steps = {s.name: s for s in training_round.steps.all()}
    assert training_round.status == RoundStatus.SUCCEEDED, (training_round.error, {n: s.log for n, s in steps.items()})

    # Every step ran once, on the worker, and left its figures.
    assert all(s.attempts == 1 for s in steps.values() if s.status == RoundStatus.SUCCEEDED)
    scorer = ModelVersion.objects.get(kind=ModelKind.SCORER, training_round=training_round)
    assert scorer.is_promoted  # the first scorer is promoted so the product has one
    assert "qwk" in scorer.metrics["test"]
    assert ModelVersion.objects.filter(kind=ModelKind.REWRITER, training_round=training_round).exists()
    assert steps["sft"].metrics["history"], "SFT reported no training curve"
    assert any("reward" in point for point in steps["optimise_policy"].metrics["history"]), "GRPO reported no reward"
    for key in ("m", "harm_share", "good_small_share", "baseline_m"):
        assert key in training_round.metrics
    rewrites = Rewrite.objects.filter(training_round=training_round)
    assert rewrites.filter(essay__split="pool").count() == 2

    # Raters rate every queued pair; staff approve; the human-judged M appears.
    items = RatingItem.objects.filter(batch__training_round=training_round)
    assert items.exists(), "no rating items were queued"
    raters = [create_rater(f"r{i}", f"r{i}@example.org", "pw-for-tests-1")[0] for i in range(2)]
    rated = 0
    for rater in raters:
        while (assignment := claim_next(rater)) is not None:
            answer = RatingAnswer(band_a=Decimal("5.0"), band_b=Decimal("6.0"), better="B", active_seconds=30)
            submit_rating(assignment.pk, answer)
            rated += 1
    assert rated == 2 * items.count()
    approve_ratings(training_round_ratings(training_round), reviewer=None)

    human = round_metrics(training_round)
    assert human.get("human_m") is not None
    page = client.get(f"/rounds/{training_round.number}/")
    assert page.status_code == 200 and b"human" in page.content.lower()


def training_round_ratings(training_round):
    from labeling.models import Rating

    return Rating.objects.filter(item__batch__training_round=training_round)
