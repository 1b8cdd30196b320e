"""The changes between an essay and its rewrite: what raters see marked on the pair page and judge one by one.

A change is a run of differing tokens (words and single punctuation marks; spacing is not compared) of a word diff;
an insertion or a deletion takes the word before it, so both texts show some text (an inserted comma is marked as
"conclusion" against "conclusion,"), and changes that then touch are one. Changes are grouped into passages:
the sentence or sentences of the original that hold them, and the same stretch of the rewrite. The page, the stored
verdicts and training all call `pair_changes`, so a change's index means the same change everywhere.

Nothing here knows which text a rater saw on which side: the pair page marks both texts alike.
"""

import difflib
import re
from dataclasses import dataclass

from rl.edits import sentence_spans

# Words (with inner apostrophes) and single punctuation marks: what a reader sees change. Spaces are not tokens.
TOKEN = re.compile(r"\w+(?:['’]\w+)*|[^\w\s]")

Range = tuple[int, int]  # [start, end) in characters


@dataclass(frozen=True)
class Change:
    index: int
    original: Range
    rewrite: Range
    passage: int  # index of the passage that holds it


@dataclass(frozen=True)
class Passage:
    index: int
    original: Range
    rewrite: Range
    changes: tuple[int, ...]


@dataclass(frozen=True)
class PairChanges:
    original: str
    rewrite: str
    changes: tuple[Change, ...]
    passages: tuple[Passage, ...]

    def before(self, change: Change) -> str:
        return self.original[slice(*change.original)]

    def after(self, change: Change) -> str:
        return self.rewrite[slice(*change.rewrite)]

    def passage_before(self, passage: Passage) -> str:
        return self.original[slice(*passage.original)]

    def passage_after(self, passage: Passage) -> str:
        return self.rewrite[slice(*passage.rewrite)]


def _tokens(text: str) -> list[Range]:
    return [match.span() for match in TOKEN.finditer(text)]


def _char_range(tokens: list[Range], first: int, last: int, length: int) -> Range:
    """From the start of tokens[first] to the end of tokens[last - 1]; an empty run sits where it would start."""
    if first == last:
        at = tokens[first][0] if first < len(tokens) else length
        return at, at
    return tokens[first][0], tokens[last - 1][1]


def _token_hunks(a_words: list[str], b_words: list[str]) -> tuple[list[list[int]], dict[int, int]]:
    """Token ranges [i1, i2, j1, j2] of the changes, widened and merged; and where each shared token of the original
    is in the rewrite."""
    matcher = difflib.SequenceMatcher(a=a_words, b=b_words, autojunk=False)
    hunks: list[list[int]] = []
    shared: dict[int, int] = {}
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            shared.update(zip(range(i1, i2), range(j1, j2), strict=True))
            continue
        hunk = [i1, i2, j1, j2]
        # An insertion or a deletion takes the word before it (after it at the very start), so both texts show
        # some text: "conclusion" against "conclusion,".
        if i1 == i2 or j1 == j2:
            if i1 > 0 and j1 > 0:
                hunk[0], hunk[2] = i1 - 1, j1 - 1
            elif i2 < len(a_words) and j2 < len(b_words):
                hunk[1], hunk[3] = i2 + 1, j2 + 1
        if hunks and (hunk[0] <= hunks[-1][1] or hunk[2] <= hunks[-1][3]):
            last = hunks[-1]  # touching once widened: one change
            last[1], last[3] = max(last[1], hunk[1]), max(last[3], hunk[3])
        else:
            hunks.append(hunk)
    for hunk in hunks:  # a token a change took over is no longer shared
        for i in range(hunk[0], hunk[1]):
            shared.pop(i, None)
    return hunks, shared


def pair_changes(original: str, rewrite: str) -> PairChanges:
    """The changes that turn `original` into `rewrite`, in reading order, grouped into passages."""
    a, b = _tokens(original), _tokens(rewrite)
    hunks, shared = _token_hunks([original[s:e] for s, e in a], [rewrite[s:e] for s, e in b])
    ranges = [(_char_range(a, i1, i2, len(original)), _char_range(b, j1, j2, len(rewrite))) for i1, i2, j1, j2 in hunks]

    # Passages: the sentences of the original each change touches, merged where they overlap. A passage holds its
    # changes whole, so its ends lie on tokens both versions share (or on a change's ends).
    sentences = sentence_spans(original)
    passages: list[list[int]] = []  # [start, end, first change, last change + 1]
    for index, ((start, end), _) in enumerate(ranges):
        touched = [s for s in sentences if s[0] < max(end, start + 1) and s[1] > start]
        if not touched:  # a change in the spaces between sentences: the sentence before it, else the one after
            before = [s for s in sentences if s[1] <= start]
            touched = [before[-1]] if before else [s for s in sentences if s[0] >= end][:1]
        lo = min([start] + [s[0] for s in touched])
        hi = max([end] + [s[1] for s in touched])
        if passages and lo < passages[-1][1]:
            passages[-1][1] = max(passages[-1][1], hi)
            passages[-1][3] = index + 1
        else:
            passages.append([lo, hi, index, index + 1])

    starts = {span[0]: i for i, span in enumerate(a)}
    ends = {span[1]: i for i, span in enumerate(a)}

    def in_rewrite(position: int, end: bool) -> int:
        """Where a passage boundary of the original lies in the rewrite."""
        for before, after in ranges:  # at a change's edge: the same edge of the change in the rewrite
            if position == before[1 if end else 0]:
                return after[1 if end else 0]
        token = (ends if end else starts).get(position)
        if token in shared:
            return b[shared[token]][1 if end else 0]
        return len(rewrite) if end else 0  # no text of the original there: the empty original

    changes, result_passages = [], []
    for p_index, (lo, hi, first, last) in enumerate(passages):
        for index in range(first, last):
            changes.append(Change(index, ranges[index][0], ranges[index][1], p_index))
        result_passages.append(
            Passage(p_index, (lo, hi), (in_rewrite(lo, end=False), in_rewrite(hi, end=True)), tuple(range(first, last)))
        )
    return PairChanges(original, rewrite, tuple(changes), tuple(result_passages))
