"""The marked texts of the pair page (labeling/rating/pair_view.py): everything escaped, both sides built alike, a
line of context around each passage."""

import re

from labeling.rating.pair_view import marked_html, pair_view
from rl.changes import pair_changes

ORIGINAL = 'First <b>sentence</b> is here. He go to "school" every day. Last one & done.'
REWRITE = 'First <b>sentence</b> is here. He goes to "school" every day. Last one & done.'


def test_texts_are_escaped_inside_and_outside_the_marks():
    html = marked_html("a <i>b</i> & c", [(0, (2, 10))])
    assert html == 'a <mark class="change" data-change="0">&lt;i&gt;b&lt;/i&gt;</mark> &amp; c'


def test_both_sides_are_built_alike_whichever_side_holds_the_rewrite():
    changes = pair_changes(ORIGINAL, REWRITE)
    for rewrite_side in "AB":
        view = pair_view(changes, rewrite_side)
        tags = [re.findall(r"<[^>]+>", str(html)) for html in view.essays]
        assert tags[0] == tags[1] == ['<mark class="change" data-change="0">', "</mark>"]
        (row,) = view.rows
        a, b = row.cells
        assert (a.before, a.after) == (b.before, b.after) == ("First <b>sentence</b> is here.", "Last one & done.")
        shown = [re.sub(r"<[^>]+>", "", str(cell.html)) for cell in row.cells]
        expected = ["He goes to &quot;school&quot; every day.", "He go to &quot;school&quot; every day."]
        assert shown == (expected if rewrite_side == "A" else expected[::-1])
