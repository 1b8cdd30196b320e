"""Exports hold what their label says: the round page's buttons give that round's approved human labels only (no
published essays, no test split); the whole dataset names every row's split. (The round trip through the importer,
the below_4 flag included: test_export_roundtrip.py.)"""

import csv
from decimal import Decimal
from io import StringIO

import pytest
from rating_helpers import make_items, make_raters, rate_assignment

from labeling.corpus import exporters
from labeling.models import Essay, Prompt, Rating, Split
from labeling.rating.actions import approve_ratings
from labeling.rating.assignment import claim_next
from rl.data import BELOW_4_BAND, BELOW_4_WEIGHT, read_scorer_csv

pytestmark = pytest.mark.django_db


def rate_everything(rater, reviewer):
    while (assignment := claim_next(rater)) is not None:
        rate_assignment(assignment, 5.0, 6.5)
    approve_ratings(Rating.objects.filter(review_status="pending"), reviewer=reviewer)


def test_a_round_export_holds_only_that_rounds_approved_labels_and_imports_back(client, make_user, tmp_path):
    boss = make_user("boss", staff=True)
    published = make_rewrites_free_essays()
    make_items(2, k=1, round_number=1, tag="one")
    make_items(1, k=1, round_number=2, tag="two")
    make_items(1, k=1, round_number=1, split=Split.TEST, band="6.0", tag="bench")  # test split: never exported
    [rater] = make_raters(1)
    rate_everything(rater, boss)

    client.force_login(boss)
    response = client.get("/rounds/1/export/scorer_csv/")
    rows = list(csv.DictReader(StringIO(b"".join(response.streaming_content).decode())))
    # Round 1's two pool pairs, two labels each (original and rewrite); nothing of round 2, of the test split, or
    # of the published essays.
    assert len(rows) == 4 and {row["iteration"] for row in rows} == {"1"}
    assert {row["split"] for row in rows} == {"pool"} and {row["below_4"] for row in rows} == {"false"}
    assert sorted(row["score"] for row in rows) == ["5.0", "5.0", "6.5", "6.5"]
    assert not any(row["essay"] in published for row in rows)
    page = client.get("/rounds/1/").content.decode()
    assert "approved human labels of this round's pairs only" in page

    # The whole dataset: the published essays (every split, named) and every round's labels.
    everything = tmp_path / "all.csv"
    # Four essays with a reference band (the test-split gold essay among them), two labels for each of three pairs.
    assert exporters.export_dataset("scorer_csv", everything) == 4 + 2 * 3
    rows = list(csv.DictReader(everything.open(encoding="utf-8")))
    by_text = {row["essay"]: row for row in rows if row["iteration"] == "0"}
    weak = by_text["A weak published essay."]
    assert (weak["score"], weak["below_4"]) == ("3.5", "true")
    # The benchmarks' reader honours the flag too (a censored band, not a plain 3.5).
    [read_back] = [r for r in read_scorer_csv(everything) if r.essay == "A weak published essay."]
    assert (read_back.band, read_back.weight) == (BELOW_4_BAND, BELOW_4_WEIGHT)
    assert by_text["A test essay."]["split"] == "test" and by_text["A good published essay."]["split"] == "val"


def make_rewrites_free_essays() -> set[str]:
    prompt = Prompt.objects.create(text="Published question?")
    texts = {
        "A weak published essay.": dict(split=Split.TRAIN, band_below_4=True),
        "A good published essay.": dict(split=Split.VAL, band=Decimal("7.5")),
        "A test essay.": dict(split=Split.TEST, band=Decimal("6.0")),
    }
    for text, fields in texts.items():
        Essay.objects.create(prompt=prompt, text=text, origin="published", **fields)
    return set(texts)
