"""What the pair page shows of the changes: both texts with the changes marked, and the compact view of passages.

Both sides are built by the same code from (text, ranges of its changes): the marks, their order, classes and
attributes are the same whichever side holds the rewrite. Only the words differ.
"""

from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from rl.changes import PairChanges, Range
from rl.edits import sentence_spans

CONTEXT_CHARS = 160  # a line of context before and after a passage in the compact view


@dataclass(frozen=True)
class PassageCell:
    before: str  # the end of the sentence before the passage (a line of context)
    html: SafeString  # the passage with its changes marked
    after: str


@dataclass(frozen=True)
class PassageRow:
    index: int
    cells: tuple[PassageCell, PassageCell]  # side A, side B
    changes: tuple[int, ...]


def marked_html(text: str, changes: list[tuple[int, Range]], offset: int = 0) -> SafeString:
    """`text` escaped, each change (index, range in the full text) wrapped in the same <mark> on either side."""
    parts, cursor = [], offset
    for index, (start, end) in changes:
        parts.append(escape(text[cursor - offset : start - offset]))
        parts.append(f'<mark class="change" data-change="{index}">{escape(text[start - offset : end - offset])}</mark>')
        cursor = end
    parts.append(escape(text[cursor - offset :]))
    return mark_safe("".join(parts))


def _context(text: str, spans: list[Range], start: int, end: int) -> tuple[str, str]:
    """The end of the sentence before [start, end) and the start of the one after, a line each at most."""
    before = [s for s in spans if s[1] <= start]
    after = [s for s in spans if s[0] >= end]
    previous = text[before[-1][0] : before[-1][1]] if before else ""
    following = text[after[0][0] : after[0][1]] if after else ""
    if len(previous) > CONTEXT_CHARS:
        previous = "…" + previous[-CONTEXT_CHARS:].split(" ", 1)[-1]
    if len(following) > CONTEXT_CHARS:
        following = following[:CONTEXT_CHARS].rsplit(" ", 1)[0] + "…"
    return previous, following


@dataclass(frozen=True)
class PairView:
    essays: tuple[SafeString, SafeString]  # full texts A and B, changes marked
    rows: tuple[PassageRow, ...]
    changes: int


def pair_view(changes: PairChanges, rewrite_side: str) -> PairView:
    """The marked essays and compact rows as side A and side B show them (`rewrite_side`: where the rewrite is)."""
    sides = [("original", changes.original), ("rewrite", changes.rewrite)]
    if rewrite_side == "A":
        sides.reverse()
    essays, rows = [], []
    for version, text in sides:
        essays.append(marked_html(text, [(c.index, getattr(c, version)) for c in changes.changes]))
    spans = {version: sentence_spans(text) for version, text in sides}
    for passage in changes.passages:
        cells = []
        for version, text in sides:
            start, end = getattr(passage, version)
            marks = [(i, getattr(changes.changes[i], version)) for i in passage.changes]
            previous, following = _context(text, spans[version], start, end)
            cells.append(PassageCell(previous, marked_html(text[start:end], marks, offset=start), following))
        rows.append(PassageRow(passage.index, tuple(cells), passage.changes))
    return PairView(tuple(essays), tuple(rows), len(changes.changes))
