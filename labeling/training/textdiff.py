"""Word-level diff of a rewrite against its original, as escaped HTML with <ins>/<del>."""

import difflib
import html
import re
from dataclasses import dataclass

from django.utils.safestring import SafeString, mark_safe

# Words, runs of whitespace and single punctuation marks: a changed comma shows as a changed comma, not a changed word.
TOKEN = re.compile(r"\w+(?:['’]\w+)*|\s+|[^\w\s]")


@dataclass(frozen=True)
class WordDiff:
    html: SafeString
    words_inserted: int
    words_deleted: int


def tokenize(text: str) -> list[str]:
    return TOKEN.findall(text)


def _count_words(tokens: list[str]) -> int:
    return sum(1 for token in tokens if not token.isspace())


def word_diff(original: str, rewrite: str) -> WordDiff:
    """Mark what the rewrite removed (<del>) and added (<ins>); unchanged text is kept as is, everything escaped."""
    old, new = tokenize(original), tokenize(rewrite)
    # autojunk off: essays repeat "the" and spaces far more than 1% of the time, and that must not hide matches.
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    parts: list[str] = []
    inserted = deleted = 0
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        removed, added = "".join(old[i1:i2]), "".join(new[j1:j2])
        if op == "equal":
            parts.append(html.escape(removed))
            continue
        if removed:
            parts.append(f"<del>{html.escape(removed)}</del>")
            deleted += _count_words(old[i1:i2])
        if added:
            parts.append(f"<ins>{html.escape(added)}</ins>")
            inserted += _count_words(new[j1:j2])
    return WordDiff(html=mark_safe("".join(parts)), words_inserted=inserted, words_deleted=deleted)
