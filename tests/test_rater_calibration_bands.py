"""A scorer version's stored rater calibration changes the bands the product reads (scoring.load_scorer_version):
the Score page band and uncertainty, and the bands rewards are computed from; the identity changes nothing."""

import re

import pytest
from ratercal_helpers import trained_scorer

from labeling.models import ModelVersion
from labeling.training.scoring import load_scorer_version
from rl.reward import reward
from rl.scorer.rater_calibration import RaterCalibration
from rl.training import as_band_predictor

QUESTION = "Some people think cities should ban cars from their centres. Discuss both views."
ESSAY = (
    "Some people think cities should ban cars from their centres. I agree, because cars pollute the air and make the"
    " streets dangerous for children.\n\nHowever, shops need deliveries, and old people need to reach the doctor."
    " In my opinion, a city can keep a few roads open for them and still close most of its centre to private cars."
)  # over 50 words: the Score page refuses shorter texts
REWRITE = ESSAY.replace("I agree, because", "I agree with this view, mainly because")


def store(version: ModelVersion, calibration: RaterCalibration) -> None:
    version.rater_calibration = calibration.to_dict() | {"fitted_at": "2026-11-29T23:00:00+00:00"}
    version.save(update_fields=["rater_calibration"])


def score_page_prediction(client) -> tuple[float, float, str]:
    page = client.post("/score/", {"question": QUESTION, "essay": ESSAY}).content.decode()
    band, uncertainty = (float(x) for x in re.findall(r'<div class="stat">([\d.]+)</div>', page))
    return band, uncertainty, page


@pytest.mark.django_db
def test_a_stored_calibration_changes_the_score_page_band_and_the_identity_does_not(tmp_path, client, make_user):
    version = trained_scorer(tmp_path, pool=0)
    client.force_login(make_user("boss", staff=True))
    raw = load_scorer_version(version, calibrated=False).predict([QUESTION], [ESSAY])[0]

    band, uncertainty, page = score_page_prediction(client)
    assert (band, uncertainty) == (round(raw.band, 1), round(raw.uncertainty, 2))
    assert "not yet: 0 of 20 labels" in page

    store(version, RaterCalibration(0.0, 1.0, 40, raw.band, "identity", 0.9, 0.9))
    band, _, page = score_page_prediction(client)
    assert band == round(raw.band, 1)
    assert "their bands agree with its scale, no change on 40 labels" in page

    calibration = RaterCalibration(1.0, 1.2, 54, raw.band - 1.0, "shift+slope", 1.21, 0.84)
    store(version, calibration)
    band, uncertainty, page = score_page_prediction(client)
    assert band == round(calibration.apply(raw.band), 1) == round(raw.band + 1.2, 1)
    assert uncertainty == round(raw.uncertainty * 1.2, 2)
    assert "shift +1.0, slope 1.20 on 54 labels; MAE before 1.21 -&gt; after 0.84 (cross-validated)" in page


@pytest.mark.django_db
def test_reward_bands_come_from_the_calibrated_scorer_and_differ_by_the_slope(tmp_path):
    version = trained_scorer(tmp_path, pool=0)
    raw_old, raw_new = as_band_predictor(load_scorer_version(version)).predict_bands([QUESTION] * 2, [ESSAY, REWRITE])
    assert abs(raw_new - raw_old) > 1e-4  # the rewrite moves the band, so the slope has something to scale
    store(version, RaterCalibration(0.8, 1.5, 60, 5.0, "shift+slope", 1.3, 0.9))
    old, new = as_band_predictor(load_scorer_version(version)).predict_bands([QUESTION] * 2, [ESSAY, REWRITE])
    assert old == pytest.approx(5.0 + 0.8 + 1.5 * (raw_old - 5.0))
    assert new - old == pytest.approx(1.5 * (raw_new - raw_old))
    assert reward(old, new, 10) - reward(old, old, 10) == pytest.approx(
        1.5 * (reward(raw_old, raw_new, 10) - reward(raw_old, raw_old, 10))
    )
