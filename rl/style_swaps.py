"""Meaning-neutral style swaps: edits that change no error and no meaning, for probing what a scorer pays for.

A judge that raises an essay's band for one of these is counting words, not reading: bench/judge_swaps.py measures
how often the reward scorer and the independent judge do, and what the edit reward pays. The corrector never
proposes them.

- contractions written out: "it's" -> "it is", "don't" -> "do not";
- a repeated sentence-initial linker replaced, from its second use on, by an exact synonym the essay does not use
  yet: "For example, ... For example," -> "For example, ... For instance,".
"""

import re

CONTRACTIONS = {
    "it's": "it is", "don't": "do not", "doesn't": "does not", "didn't": "did not", "can't": "cannot",
    "won't": "will not", "isn't": "is not", "aren't": "are not", "wasn't": "was not", "weren't": "were not",
    "haven't": "have not", "hasn't": "has not", "wouldn't": "would not", "shouldn't": "should not",
    "couldn't": "could not", "that's": "that is", "there's": "there is", "they're": "they are", "we're": "we are",
    "you're": "you are", "let's": "let us", "i'm": "I am", "i've": "I have", "we've": "we have",
    "they've": "they have",
}  # fmt: skip
# "it's been" is "it has been"
_HAS_BEFORE = ("been", "got")
_CONTRACTION = re.compile(r"\b(" + "|".join(re.escape(c) for c in CONTRACTIONS) + r")\b(\s+\w+)?", re.IGNORECASE)

# Only linkers that mean the same in any sentence: "however" / "nevertheless" or "therefore" / "consequently" differ.
LINKER_SYNONYMS = (
    ("For example", "For instance"),
    ("Moreover", "Furthermore", "In addition", "Additionally"),
    ("Consequently", "As a result", "As a consequence"),
    ("Therefore", "Thus"),
)
_GROUP_OF = {linker: group for group in LINKER_SYNONYMS for linker in group}
_SENTENCE_LINKER = re.compile(
    r"(?:^|(?<=[.!?]\s))(" + "|".join(re.escape(linker) for linker in _GROUP_OF) + r"),", re.MULTILINE
)


def expand_contractions(text: str) -> str:
    def written_out(match: re.Match) -> str:
        word, after = match.group(1), match.group(2) or ""
        full = CONTRACTIONS[word.lower()]
        if word.lower() == "it's" and after.strip().lower() in _HAS_BEFORE:
            full = "it has"
        if word[0].isupper() and full[0].islower():
            full = full[0].upper() + full[1:]
        return full + after

    return _CONTRACTION.sub(written_out, text)


def vary_repeated_linkers(text: str) -> str:
    used = {match.group(1) for match in _SENTENCE_LINKER.finditer(text)}
    seen: set[str] = set()
    pieces, cursor = [], 0
    for match in _SENTENCE_LINKER.finditer(text):
        linker = match.group(1)
        if linker not in seen:
            seen.add(linker)
            continue
        other = next((o for o in _GROUP_OF[linker] if o not in used), None)
        if other is None:
            continue
        used.add(other)
        seen.add(other)
        pieces += [text[cursor : match.start(1)], other]
        cursor = match.end(1)
    return "".join(pieces) + text[cursor:]


STYLE_SWAPS = {"contractions": expand_contractions, "linkers": vary_repeated_linkers}
