"""A round that queues no pairs says why on its page: its rewrite step records how many rewrites the guard kept as
the original and for which reasons, and the real queueing step then finds nothing to queue."""

from decimal import Decimal

import pytest

from labeling.models import Essay, Rewrite, RoundStatus, RoundStep, Split
from labeling.training import engine
from labeling.training.forms import round_config_from_form
from labeling.training.steps import rewrite_counts

pytestmark = pytest.mark.django_db


def round_with_rewrites(kept_reasons: list[str], changed: int = 0):
    training_round = engine.launch_round("cpu-smoke", round_config_from_form("cpu-smoke", []), dispatch=False)
    for i, reason in enumerate([*kept_reasons, *["ok"] * changed]):
        essay = Essay.objects.create(text=f"Essay {i}: cars is a problem in city.", origin="t", split=Split.POOL)
        kept = reason != "ok"
        Rewrite.objects.create(
            essay=essay,
            training_round=training_round,
            text=essay.text if kept else essay.text.replace("cars is", "cars are"),
            generation={"guard_reason": reason},
            guard_applied=kept,
            chars_changed=0 if kept else 3,
            scorer_band_before=Decimal("5.0"),
            scorer_band_after=Decimal("5.0"),
        )
    RoundStep.objects.filter(training_round=training_round).exclude(name="create_rating_items").update(
        status=RoundStatus.SUCCEEDED
    )
    RoundStep.objects.filter(training_round=training_round, name="generate_rewrites").update(
        metrics=rewrite_counts(training_round)
    )
    queueing = RoundStep.objects.get(training_round=training_round, name="create_rating_items")
    return training_round, queueing


def test_a_round_whose_rewrites_the_guard_all_kept_says_so(staff_client):
    training_round, queueing = round_with_rewrites(["not_better", "not_better", "no_edits"])
    assert engine.run_step(queueing.pk, then_advance=lambda _: None) == RoundStatus.SUCCEEDED
    assert RoundStep.objects.get(pk=queueing.pk).metrics["items"] == 0

    page = staff_client.get(f"/rounds/{training_round.number}/").content.decode()
    assert (
        "No pairs were queued for raters: all 3 rewrites were kept as the original by the guard "
        "(2: no edit raised the reward (scorer band, language-model verdicts, size); 1: nothing to correct was found)"
    ) in page


def test_no_explanation_before_the_queueing_step_ends_or_when_it_queued_pairs(staff_client):
    training_round, queueing = round_with_rewrites(["not_better"], changed=1)
    url = f"/rounds/{training_round.number}/"
    assert "No pairs were queued" not in staff_client.get(url).content.decode()  # not finished: nothing to explain
    RoundStep.objects.filter(pk=queueing.pk).update(status=RoundStatus.SUCCEEDED, metrics={"items": 1})
    assert "No pairs were queued" not in staff_client.get(url).content.decode()
