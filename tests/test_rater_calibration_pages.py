"""The Models page and a scorer's page say, per scorer version, whether it is calibrated to the raters and with what
figures, or how many labels it still waits for (figures are the stored ones; no scorer is loaded)."""

import pytest
from rating_helpers import make_items, make_raters, rate_assignment

from labeling.models import ModelKind, ModelVersion, Rating
from labeling.rating.actions import approve_ratings
from labeling.rating.assignment import claim_next
from labeling.training.rater_calibration import calibration_labels, label_count
from rl.scorer.rater_calibration import RaterCalibration


def rate_and_approve(n_items: int) -> None:
    make_items(n_items, k=1)
    rater, boss = make_raters(1)[0], make_raters(1, prefix="boss")[0]
    for _ in range(n_items):
        rate_assignment(claim_next(rater), 6.0, 6.5)
    approve_ratings(Rating.objects.all(), boss)


def scorer(name: str, calibration: RaterCalibration | None = None) -> ModelVersion:
    stored = calibration.to_dict() | {"fitted_at": "2026-11-29T23:00:00+00:00"} if calibration else {}
    return ModelVersion.objects.create(
        kind=ModelKind.SCORER, name=name, artifact_path=f"/nowhere/{name}", rater_calibration=stored
    )


@pytest.mark.django_db
def test_models_page_shows_the_calibration_or_how_many_labels_are_missing(client, make_user):
    rate_and_approve(6)  # 12 texts with consensus bands
    assert label_count() == len(calibration_labels()) == 12
    fitted = scorer("fitted", RaterCalibration(0.9, 1.1, 54, 5.5, "shift+slope", 1.21, 0.84))
    waiting = scorer("waiting")
    agreeing = scorer("agreeing", RaterCalibration(0.0, 1.0, 30, 5.5, "identity", 0.61, 0.61))
    client.force_login(make_user("boss-staff", staff=True))

    page = client.get("/models/").content.decode()
    rows = {v.pk: page.split(f'data-version="{v.pk}"')[1].split("</tr>")[0] for v in (fitted, waiting, agreeing)}
    assert (
        "calibrated to raters: shift +0.9, slope 1.10 on 54 labels; MAE before 1.21 -&gt; after 0.84 (cross-validated)"
        in rows[fitted.pk]
    )
    assert "not yet: 12 of 20 labels" in rows[waiting.pk]
    assert "their bands agree with its scale, no change on 30 labels; MAE before 0.61" in rows[agreeing.pk]

    detail = client.get(f"/models/{fitted.pk}/").content.decode()
    assert "shift +0.9, slope 1.10 on 54 labels" in detail and f"calibrate_scorer --version {fitted.pk}" in detail
    assert "not yet: 12 of 20 labels" in client.get(f"/models/{waiting.pk}/").content.decode()
