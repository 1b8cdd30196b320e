"""The changes between an essay and its rewrite: what raters see marked on the pair page and judge one by one.

A change is a run of differing tokens (words, spaces, single punctuation marks) of a word diff, widened to whole
neighbouring words until both texts show some text (an inserted comma is marked as "conclusion" against
"conclusion,"), and merged with the next change when only spaces separate them. Changes are grouped into passages:
the sentence or sentences of the original that hold them, and the same stretch of the rewrite. The page, the stored
verdicts and training all call `pair_changes`, so a change's index means the same change everywhere.

Nothing here knows which text a rater saw on which side: the pair page marks both texts alike.
"""

import difflib
import re
from dataclasses import dataclass

from rl.edits import sentence_spans

# Words (with inner apostrophes), runs of whitespace and single punctuation marks; together they cover any text.
TOKEN = re.compile(r"\w+(?:['’]\w+)*|\s+|[^\w\s]")

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


def _has_text(text: str, tokens: list[Range], first: int, last: int) -> bool:
    return any(not text[slice(*tokens[i])].isspace() for i in range(first, last))


def _only_space(text: str, tokens: list[Range], first: int, last: int) -> bool:
    return all(text[slice(*tokens[i])].isspace() for i in range(first, last))


def _char_range(tokens: list[Range], first: int, last: int, text: str) -> Range:
    """Characters of tokens[first:last] without spaces at either end; an empty run sits where it would start."""
    while first < last and text[slice(*tokens[first])].isspace():
        first += 1
    while last > first and text[slice(*tokens[last - 1])].isspace():
        last -= 1
    if first == last:
        at = tokens[first][0] if first < len(tokens) else len(text)
        return at, at
    return tokens[first][0], tokens[last - 1][1]


def _token_hunks(original: str, rewrite: str, a: list[Range], b: list[Range]) -> tuple[list[list[int]], list]:
    """Token ranges [i1, i2, j1, j2] of the changes, widened and merged; and the diff's opcodes in characters."""
    matcher = difflib.SequenceMatcher(a=[original[s:e] for s, e in a], b=[rewrite[s:e] for s, e in b], autojunk=False)
    opcodes = matcher.get_opcodes()
    hunks = []
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal" or not (_has_text(original, a, i1, i2) or _has_text(rewrite, b, j1, j2)):
            continue  # a change of spacing alone: nothing a rater could see or judge
        hunk = [i1, i2, j1, j2]
        # Widen over the equal words around it until both texts show some text (left first, as a reader reads).
        while not (_has_text(original, a, hunk[0], hunk[1]) and _has_text(rewrite, b, hunk[2], hunk[3])):
            if hunk[0] > 0 and hunk[2] > 0:
                hunk[0] -= 1
                hunk[2] -= 1
            elif hunk[1] < len(a) and hunk[3] < len(b):
                hunk[1] += 1
                hunk[3] += 1
            else:
                break
        if hunks:
            last = hunks[-1]
            touching = hunk[0] <= last[1] or hunk[2] <= last[3]
            if touching or _only_space(original, a, last[1], hunk[0]):
                last[0], last[1] = min(last[0], hunk[0]), max(last[1], hunk[1])
                last[2], last[3] = min(last[2], hunk[2]), max(last[3], hunk[3])
                continue
        hunks.append(hunk)
    char_opcodes = [
        (tag, _span(a, i1, i2, len(original)), _span(b, j1, j2, len(rewrite))) for tag, i1, i2, j1, j2 in opcodes
    ]
    return hunks, char_opcodes


def _span(tokens: list[Range], first: int, last: int, length: int) -> Range:
    if first == last:
        at = tokens[first][0] if first < len(tokens) else length
        return at, at
    return tokens[first][0], tokens[last - 1][1]


def _map_offset(position: int, changes: list[tuple[Range, Range]], char_opcodes: list, end: bool) -> int:
    """Where a passage boundary of the original lies in the rewrite (boundaries never fall inside a change)."""
    for before, after in changes:
        if position == before[1 if end else 0]:
            return after[1 if end else 0]
        if position == before[0 if end else 1]:
            return after[0 if end else 1]
    for tag, (a1, a2), (b1, b2) in char_opcodes:
        if a1 <= position <= a2:
            if tag == "equal":
                return b1 + (position - a1)
            return b1 if position - a1 < (a2 - a1) / 2 else b2  # inside a change of spacing alone
    return position


def pair_changes(original: str, rewrite: str) -> PairChanges:
    """The changes that turn `original` into `rewrite`, in reading order, grouped into passages."""
    a, b = _tokens(original), _tokens(rewrite)
    hunks, char_opcodes = _token_hunks(original, rewrite, a, b)
    ranges = [(_char_range(a, i1, i2, original), _char_range(b, j1, j2, rewrite)) for i1, i2, j1, j2 in hunks]

    # Passages: the sentences of the original each change touches, merged where they overlap. A passage holds its
    # changes whole, so its ends lie in text both versions share.
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

    changes, result_passages = [], []
    for p_index, (lo, hi, first, last) in enumerate(passages):
        for index in range(first, last):
            changes.append(Change(index, ranges[index][0], ranges[index][1], p_index))
        result_passages.append(
            Passage(
                p_index,
                (lo, hi),
                (_map_offset(lo, ranges, char_opcodes, end=False), _map_offset(hi, ranges, char_opcodes, end=True)),
                tuple(range(first, last)),
            )
        )
    return PairChanges(original, rewrite, tuple(changes), tuple(result_passages))
