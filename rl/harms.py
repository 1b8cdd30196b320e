"""Harmful edits a reward must not prefer to the original: the ones seen from the rewriter and the ones a fooled
scorer would pay for. bench/rewriter.py measures the share of them the reward rejects.

Each maker returns the harmed sentence, or None when the sentence offers nothing to harm that way.
"""

import random
import re
from collections.abc import Callable

# Seen from the policy on learner sentences (issue 14): each pair is (original, proposed).
SEEN_HARMS = [
    ("Students can not use their phones in class.", "Students cannot cannot use their phones in class."),
    ("Advertising attracts people's attention to new products.",
     "Advertising attracts them's attention to new products."),
    ("We must protect the whole nature for our children.", "We must protect the whole being for our children."),
    ("China's population has grown quickly in recent decades.",
     "China's demand for food has grown quickly in recent decades."),
    ("Tourists damage natural sites every summer.", "Tourists damage natural scenes every summer."),
    ("My cousin studies medicine at a university in London.",
     "My favourite cousin studies medicine at a university in London."),
    ("Students benefit from learning more subjects at school.",
     "Students benefit from learning more more, subjects at school."),
    ("I made many friends in my college.", "I made many friends in your college."),
    ("In order to succeed, when I was young I studied hard.",
     "I was why when I am when I am in my young I studied hard."),
]  # fmt: skip

SUBJECT_TO_OBJECT = {"I": "me", "he": "him", "she": "her", "we": "us", "they": "them", "He": "Him", "She": "Her",
                     "We": "Us", "They": "Them"}  # fmt: skip
PERSON_SWAPS = {"my": "your", "our": "their", "his": "her", "their": "our", "your": "my", "its": "their"}
AGREEMENT = {"is": "are", "are": "is", "was": "were", "were": "was", "has": "have", "have": "has", "does": "do"}
NOUNS = ["demand", "scene", "being", "money", "water", "family", "computer", "city", "culture", "music", "weather",
         "food", "history", "animal", "building", "journey", "market", "picture"]  # fmt: skip
LIKED_WORDS = ["favourite", "significant", "crucial", "numerous", "various", "substantial", "remarkable"]
_WORD = re.compile(r"[A-Za-z]+")


def _words(sentence: str) -> list[re.Match]:
    return list(_WORD.finditer(sentence))


def _replace(sentence: str, match: re.Match, new: str) -> str:
    return sentence[: match.start()] + new + sentence[match.end() :]


def doubled_word(sentence: str, rng: random.Random) -> str | None:
    words = [m for m in _words(sentence) if len(m.group()) >= 3]
    if not words:
        return None
    match = rng.choice(words)
    return _replace(sentence, match, f"{match.group()} {match.group()}")


def pronoun_case(sentence: str, rng: random.Random) -> str | None:
    words = [m for m in _words(sentence) if m.group() in SUBJECT_TO_OBJECT]
    if not words:
        return None
    match = rng.choice(words)
    return _replace(sentence, match, SUBJECT_TO_OBJECT[match.group()])


def pronoun_person(sentence: str, rng: random.Random) -> str | None:
    words = [m for m in _words(sentence) if m.group().lower() in PERSON_SWAPS]
    if not words:
        return None
    match = rng.choice(words)
    swap = PERSON_SWAPS[match.group().lower()]
    return _replace(sentence, match, swap.capitalize() if match.group()[0].isupper() else swap)


def dropped_negation(sentence: str, rng: random.Random) -> str | None:
    spots = list(re.finditer(r"\s(?:not|never)\b|n't\b", sentence))
    if not spots:
        return None
    match = rng.choice(spots)
    removed = sentence[: match.start()] + sentence[match.end() :]
    return removed.replace("ca ", "can ").replace("wo ", "will ")


def broken_agreement(sentence: str, rng: random.Random) -> str | None:
    words = [m for m in _words(sentence) if m.group() in AGREEMENT]
    if not words:
        return None
    match = rng.choice(words)
    return _replace(sentence, match, AGREEMENT[match.group()])


def meaning_change(sentence: str, rng: random.Random) -> str | None:
    """A content noun replaced by another common noun (the rewriter's "population => demand for food")."""
    import lemminflect

    from rl.verifier import FUNCTION_WORDS

    nouns = [
        m
        for m in _words(sentence)
        if len(m.group()) > 3
        and m.group().islower()
        and m.group() not in FUNCTION_WORDS
        and set(lemminflect.getAllLemmas(m.group())) == {"NOUN"}
    ]
    if not nouns:
        return None
    match = rng.choice(nouns)
    other = rng.choice([n for n in NOUNS if n != match.group()])
    plural = match.group().endswith("s") and not match.group().endswith("ss")
    return _replace(sentence, match, lemminflect.getInflection(other, "NNS")[0] if plural else other)


def added_liked_word(sentence: str, rng: random.Random) -> str | None:
    """An adjective a scorer may like, put before a noun ("My cousin => My favourite cousin")."""
    import lemminflect

    nouns = [m for m in _words(sentence)[1:] if m.group().islower() and "NOUN" in lemminflect.getAllLemmas(m.group())]
    if not nouns:
        return None
    match = rng.choice(nouns)
    return sentence[: match.start()] + rng.choice(LIKED_WORDS) + " " + sentence[match.start() :]


def dropped_word(sentence: str, rng: random.Random) -> str | None:
    words = [m for m in _words(sentence) if len(m.group()) > 3]
    if len(words) < 4:
        return None
    match = rng.choice(words)
    return (sentence[: match.start()] + sentence[match.end() :].lstrip()).strip()


def scrambled_words(sentence: str, rng: random.Random) -> str | None:
    """Three neighbouring words in another order (the rewriter's word salad)."""
    words = _words(sentence)
    if len(words) < 5:
        return None
    first = rng.randrange(0, len(words) - 3)
    chunk = words[first : first + 3]
    order = [w.group() for w in chunk]
    shuffled = order[:]
    while shuffled == order:
        rng.shuffle(shuffled)
    return sentence[: chunk[0].start()] + " ".join(shuffled) + sentence[chunk[-1].end() :]


HARMS: dict[str, Callable[[str, random.Random], str | None]] = {
    "doubled_word": doubled_word,
    "pronoun_case": pronoun_case,
    "pronoun_person": pronoun_person,
    "dropped_negation": dropped_negation,
    "broken_agreement": broken_agreement,
    "meaning_change": meaning_change,
    "added_liked_word": added_liked_word,
    "dropped_word": dropped_word,
    "scrambled_words": scrambled_words,
}


def harmful_edits(sentence: str, rng: random.Random) -> list[tuple[str, str]]:
    """(harm type, harmed sentence) for every harm the sentence allows."""
    out = []
    for name, make in HARMS.items():
        harmed = make(sentence, rng)
        if harmed is not None and harmed != sentence:
            out.append((name, harmed))
    return out
