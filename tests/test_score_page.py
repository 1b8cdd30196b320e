"""The Score page says what is wrong with a text instead of scoring it: over 20,000 characters (no maxlength cuts a
paste silently: the page counts instead), too short to be an essay; and the uncertainty it shows stays within 0-9."""

import pytest
from round_helpers import import_small_corpus

from labeling.training.score_page import MAX_ESSAY_CHARS, shown_band
from labeling.training.scoring import train_scorer_version

ESSAY = (
    "Some people believe that governments should spend more money on public transport than on roads. In my opinion "
    "this is true, because buses and trains carry many more people, they pollute less and they make cities calmer. "
    "However, roads are still needed for goods and for people who live far from a station, so both deserve money. "
)


@pytest.mark.django_db
def test_an_essay_over_the_limit_is_refused_with_its_length_and_nothing_is_cut(staff_client):
    page = staff_client.get("/score/").content.decode()
    assert "maxlength" not in page  # the browser must not cut a paste silently
    assert 'id="essay-count"' in page and f"const limit = {MAX_ESSAY_CHARS};" in page
    too_long = (ESSAY * 100)[: MAX_ESSAY_CHARS + 1]
    response = staff_client.post("/score/", {"question": "Q?", "essay": too_long})
    page = response.content.decode()
    assert "The essay has 20,001 characters; the limit is 20,000" in page and "Nothing was scored" in page
    assert 'id="prediction"' not in page
    assert too_long in page  # what was pasted is kept in the form, nothing lost


@pytest.mark.django_db
def test_a_text_too_short_to_be_an_essay_is_not_scored(staff_client):
    page = staff_client.post("/score/", {"question": "Q?", "essay": "Hello"}).content.decode()
    assert "The text has 1 word: too short to be an essay (at least 50" in page and 'id="prediction"' not in page


def test_the_shown_uncertainty_and_range_stay_on_the_0_to_9_scale():
    wide = shown_band(0.0, 12.91)  # seen on a 20,000-character paste before the limit was enforced
    assert (wide.uncertainty, wide.low, wide.high, wide.capped) == (9.0, 0.0, 9.0, True)
    high = shown_band(8.8, 0.5)
    assert (high.low, high.high, high.capped) == (pytest.approx(8.3), 9.0, True)
    usual = shown_band(6.0, 0.7)
    assert (usual.low, usual.high, usual.capped) == (pytest.approx(5.3), pytest.approx(6.7), False)


@pytest.mark.django_db
def test_a_real_essay_is_scored_with_its_range(staff_client, tmp_path):
    import_small_corpus(tmp_path, train=30, test=2, pool=1)
    train_scorer_version({"family": "judge", "cv_folds": 3}).promote()
    page = staff_client.post("/score/", {"question": "Q?", "essay": ESSAY}).content.decode()
    assert 'id="prediction"' in page and "Likely range" in page
