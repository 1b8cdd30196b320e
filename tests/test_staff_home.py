"""The staff home page is a getting-started checklist that follows the state: essays by split, a promoted scorer,
raters, a finished round, pairs waiting and rated today, payouts due; each line links to the page that does it."""

import re

import pytest
from rating_helpers import make_items, make_raters, rate_assignment

from labeling.models import ModelKind, ModelVersion, Rating, RoundStatus, Split, TrainingRound
from labeling.rating.actions import approve_ratings
from labeling.rating.assignment import claim_next


def checklist(client) -> dict[str, tuple[str, str]]:
    """key -> (done yes/no, the line's text) as the page shows it."""
    page = client.get("/").content.decode()
    lines = re.findall(r'<li data-check="(\w+)" data-done="(\w+)">(.*?)</li>', page, re.S)
    return {key: (done, " ".join(re.sub(r"<[^>]+>", " ", text).split())) for key, done, text in lines}


@pytest.mark.django_db
def test_checklist_lines_follow_the_state_and_link_to_their_pages(client, make_user):
    boss = make_user("boss", staff=True)
    client.force_login(boss)
    lines = checklist(client)
    assert list(lines) == ["essays", "scorer", "raters", "round", "pairs", "payouts"]
    assert all(done == "no" for key, (done, _) in lines.items() if key != "payouts")
    assert "0 train, 0 val, 0 test, 0 pool essays" in lines["essays"][1]
    assert "no scorer promoted yet" in lines["scorer"][1] and "0 active rater accounts" in lines["raters"][1]
    assert "Launch a round" in lines["round"][1] and lines["payouts"] == ("yes", "✓ no payouts due · Payouts")
    page = client.get("/").content.decode()
    for url in ("/admin/labeling/essay/", "/models/", "/staff/raters/", "/rounds/new/", "/staff/ratings/"):
        assert f'href="{url}"' in page

    # Pairs from a finished round, a promoted scorer, raters who rate two of them, approved: lines turn done.
    batch = make_items(3, k=1, round_number=1, band="6.0", split=Split.TRAIN)
    make_items(2, k=1, round_number=2, split=Split.POOL, tag="p")
    TrainingRound.objects.filter(number=1).update(status=RoundStatus.SUCCEEDED)
    ModelVersion.objects.create(kind=ModelKind.SCORER, name="scorer 20261129-101010-1", artifact_path="x").promote()
    [rater] = make_raters(1)
    for _ in range(2):
        rate_assignment(claim_next(rater), 5.0, 6.0)
    approve_ratings(Rating.objects.all(), reviewer=boss)

    lines = checklist(client)
    assert lines["essays"][0] == "yes"  # labelled essays to train on and pool essays to rewrite
    assert "3 train" in lines["essays"][1] and "2 pool" in lines["essays"][1]
    assert batch.items.count() == 3
    assert lines["scorer"] == ("yes", "✓ promoted scorer: scorer 20261129-101010-1 · Train or promote a scorer")
    assert lines["raters"][0] == "yes" and "1 active rater account " in lines["raters"][1] + " "
    assert lines["round"][0] == "yes" and "1 round finished" in lines["round"][1]
    assert lines["pairs"][0] == "yes" and "3 pairs waiting for ratings, 2 rated today" in lines["pairs"][1]
    assert lines["payouts"][0] == "no" and "4.00 USD due to raters" in lines["payouts"][1]

    # Rounds on the home page are links; no name reads "scorer scorer".
    page = client.get("/").content.decode()
    assert 'href="/rounds/1/"' in page and 'href="/rounds/2/"' in page
    assert "scorer scorer" not in page
