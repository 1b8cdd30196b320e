"""The rewriter's output format: a few `wrong => right` lines per sentence instead of a regenerated essay.

A 135M model regenerating a 400-token essay on one CPU thread takes ~40 s and rewrites far more than it should;
emitting two short edit lines per sentence is ~10x cheaper and keeps edits minimal by construction. An edit whose
`wrong` part is not found in its sentence is ignored, so a confused model can at worst change nothing.
"""

import difflib
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

EDIT_SEPARATORS = re.compile(r"\s*(?:=>|->|→)\s*")
NO_EDIT_WORDS = {"ok", "ok.", "none", "none.", "no errors", "no errors.", "no error", "no error."}
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\n+")
# "the U.S. states", "e.g. cars", "5 p.m. when", "etc. and": an abbreviation's full stop followed by a lower-case word
# ends no sentence (split there, the corrector capitalised the next word: "U.S. states => U.S. States"); a title's
# ends none ("Mr. Smith")
_ABBREVIATION = re.compile(r"\b(?:(?:[A-Za-z]\.){2,}|etc\.|vs\.|approx\.)$")
_TITLE = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|Prof)\.$")
_LIST_MARKER = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s*")
_TRAILING_NOTE = re.compile(r"\s*\((?:[^()]*)\)\s*$")


@dataclass(frozen=True)
class Edit:
    wrong: str
    right: str

    def line(self) -> str:
        return f"{self.wrong} => {self.right}"


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) character spans of the sentences of `text`, whitespace between them excluded."""
    spans, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        if "\n" not in match.group():
            before = max(start, match.start() - 16), match.start()
            if _TITLE.search(text, *before) or (
                text[match.end() : match.end() + 1].islower() and _ABBREVIATION.search(text, *before)
            ):
                continue
        if text[start : match.start()].strip():
            spans.append((start, match.start()))
        start = match.end()
    if text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return spans


def split_sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]


def _strip_quotes(part: str) -> str:
    part = part.strip()
    while len(part) >= 2 and part[0] == part[-1] and part[0] in "\"'`":
        part = part[1:-1].strip()
    return part


def parse_edit_lines(output: str, sentence: str, truncated: bool = False) -> list[Edit]:
    """Edits in a model output that apply to `sentence`; explanations, bullets and non-edit lines are dropped."""
    lines = output.strip().splitlines()
    if truncated and lines:
        lines = lines[:-1]  # the last line may be cut in the middle of a word
    edits: list[Edit] = []
    for raw_line in lines:
        line = _LIST_MARKER.sub("", raw_line).strip()
        if line.lower() in NO_EDIT_WORDS:
            break
        parts = EDIT_SEPARATORS.split(line, maxsplit=1)
        if len(parts) != 2:
            continue
        wrong = _strip_quotes(parts[0])
        right = _strip_quotes(_TRAILING_NOTE.sub("", parts[1]))
        if not wrong or wrong == right or find_phrase(sentence, wrong) < 0:
            continue
        edit = Edit(wrong, right)
        if edit not in edits:
            edits.append(edit)
    return edits


def find_phrase(sentence: str, phrase: str) -> int:
    """Index of the first occurrence of `phrase` that starts and ends on word boundaries, or -1."""
    match = re.search(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)", sentence)
    return match.start() if match else -1


def apply_edits(sentence: str, edits: list[Edit]) -> str:
    """Apply each edit to its first occurrence; one that no longer matches (an earlier edit changed it) is skipped."""
    for edit in edits:
        index = find_phrase(sentence, edit.wrong)
        if index >= 0:
            sentence = sentence[:index] + edit.right + sentence[index + len(edit.wrong) :]
    return sentence


def apply_sentence_edits(text: str, edits_by_sentence: dict[int, list[Edit]]) -> str:
    """Rebuild `text` with the edits of each sentence index applied, keeping the original whitespace between them."""
    pieces, cursor = [], 0
    for index, (start, end) in enumerate(sentence_spans(text)):
        pieces.append(text[cursor:start])
        sentence = text[start:end]
        pieces.append(apply_edits(sentence, edits_by_sentence.get(index, [])))
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)


def _tokens(text: str) -> list[re.Match]:
    return list(re.finditer(r"\S+", text))


def diff_edits(before: str, after: str, context_words: int = 1) -> list[Edit]:
    """The `wrong => right` lines that turn `before` into `after` (word diff, one word of context either side).

    Context words make an edit findable (an inserted article needs a neighbour to anchor it) and unambiguous.
    """
    old_tokens, new_tokens = _tokens(before), _tokens(after)
    matcher = difflib.SequenceMatcher(
        a=[t.group() for t in old_tokens], b=[t.group() for t in new_tokens], autojunk=False
    )
    hunks: list[list[int]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if hunks and i1 - hunks[-1][1] <= 2 * context_words:
            hunks[-1][1], hunks[-1][3] = i2, j2  # close enough that the contexts would overlap: one edit
        else:
            hunks.append([i1, i2, j1, j2])
    edits = []
    for i1, i2, j1, j2 in hunks:
        left = min(context_words, i1, j1)
        right = min(context_words, len(old_tokens) - i2, len(new_tokens) - j2)
        a1, a2, b1, b2 = i1 - left, i2 + right, j1 - left, j2 + right
        wrong = before[old_tokens[a1].start() : old_tokens[a2 - 1].end()] if a2 > a1 else ""
        right_text = after[new_tokens[b1].start() : new_tokens[b2 - 1].end()] if b2 > b1 else ""
        if wrong:
            edits.append(Edit(wrong, right_text))
    return edits


def format_edits(edits: list[Edit]) -> str:
    return "\n".join(edit.line() for edit in edits) if edits else "OK"


_WORD = re.compile(r"[A-Za-z]+(?:'[a-z]+)?")


@lru_cache(maxsize=1)
def english_lexicon() -> frozenset[str]:
    """Whole lower-case words of the packaged MiniLM vocabulary (~20k): a word outside it is rare or misspelt."""
    from rl.embeddings import packaged_minilm_path

    vocab = (packaged_minilm_path() / "vocab.txt").read_text(encoding="utf-8").split("\n")
    return frozenset(word for word in vocab if word.isalpha() and word.islower())


def implausible_reason(sentence: str, edited: str, context: str, lexicon: frozenset[str]) -> str:
    """Why changing `sentence` into `edited` looks like damage rather than a correction, or "" when it looks fine.

    Scorers can be gamed by small damage (a doubled letter, a stray full stop) that happens to move their features; a
    correction never introduces an unknown word, a sentence break, a stray symbol or a capital in mid-sentence.
    Words are compared before and after, so an edit inside a word ("s plateaued => ss plateaued") is caught too.
    """
    known_here = {w.lower() for w in _WORD.findall(context)}
    before = Counter(_WORD.findall(sentence))
    before_lower = {w.lower() for w in before}
    for word in Counter(_WORD.findall(edited)) - before:
        lower = word.lower()
        if lower not in known_here and lower.split("'")[0] not in lexicon:
            return f"unknown word {word!r}"
        if word[:1].isupper() and lower in before_lower and not edited.startswith(word):
            return f"new capital in {word!r}"
    for pattern, name in [
        (r"[.!?;:]", "sentence break"),
        (r"[/\\|*#@_~^<>\[\]{}]", "stray symbol"),
        (r"[A-Za-rt-z]'(?=\s|$)|\s'\s", "stray apostrophe"),
        (r"\w-\s|\s-\w", "dangling hyphen"),
    ]:
        if len(re.findall(pattern, edited)) > len(re.findall(pattern, sentence)):
            return name
    return ""
