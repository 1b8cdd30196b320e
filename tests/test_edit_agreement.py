"""Per-edit agreement across raters: the share of rater pairs giving a change the same verdict, Krippendorff's alpha
(nominal) and the disputed changes, on the staff agreement page."""

import pytest
from rating_helpers import rate_judged_pairs

from labeling.rating.agreement import agreement_report, krippendorff_alpha_nominal, pairwise_agreement


def test_nominal_alpha_by_hand():
    units = [["rewrite", "rewrite"], ["rewrite", "same"], ["original", "original"], ["same"]]
    # Pairable values: rewrite 3, same 1, original 2 (n = 6); one unit of three disagrees.
    # D_o = 2 / 6, D_e = (36 - 9 - 1 - 4) / 30, alpha = 1 - D_o / D_e = 1 - (1/3) / (22/30) = 6/11.
    assert krippendorff_alpha_nominal(units) == pytest.approx(6 / 11)
    assert pairwise_agreement(units) == pytest.approx(2 / 3)
    assert krippendorff_alpha_nominal([["same", "same"]]) == 1.0
    assert krippendorff_alpha_nominal([["same"]]) is None and pairwise_agreement([["same"]]) is None


@pytest.mark.django_db
def test_the_staff_agreement_page_shows_per_edit_agreement(admin_client):
    rate_judged_pairs()
    edits = agreement_report().edits
    assert (edits.edits, edits.verdicts, edits.units) == (3, 6, 3)
    assert edits.pairwise == pytest.approx(2 / 3) and edits.alpha == pytest.approx(6 / 11)
    assert [(row.before, row.after, row.votes, row.consensus) for row in edits.disputed] == [
        ("believes", "believe", {"rewrite": 1, "original": 0, "same": 1}, None)
    ]
    page = admin_client.get("/staff/ratings/agreement/").content.decode()
    assert '<div class="stat" id="edit-agreement">67%</div>' in page
    assert "α 0.55 over 3 changes with ≥ 2 verdicts (6 verdicts on 3 changes)" in page
    assert "<del>believes</del>" in page and "<ins>believe</ins>" in page
    # Its charts: matplotlib SVG inlined in the page, the histogram counting every rating's bands.
    report = agreement_report()
    assert '<svg role="img" aria-label="band distribution of originals and rewrites"' in page
    assert f"originals ({len(report.bands_original)})" in page and len(report.bands_original) > 0
    assert ('aria-label="rater band against reference band on gold items"' in page) == bool(report.gold_points)
