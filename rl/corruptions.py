"""Inject typical learner errors into good sentences: the SFT pairs (corrupted -> original) for the warm start.

Error types follow what IELTS examiners see most: articles, subject-verb agreement, prepositions, spelling,
punctuation and word forms. Each injector returns None when the sentence offers nothing to corrupt.
"""

import difflib
import random
import re
from collections.abc import Callable

ARTICLES = ["a", "an", "the"]
PREPOSITIONS = ["in", "on", "at", "for", "to", "of", "with", "about", "from", "by"]
AGREEMENT_SWAPS = {
    "is": "are",
    "are": "is",
    "was": "were",
    "were": "was",
    "has": "have",
    "have": "has",
    "does": "do",
    "do": "does",
    "this": "these",
    "these": "this",
    "many": "much",
    "much": "many",
}
COMMON_MISSPELLINGS = {
    "government": "goverment",
    "environment": "enviroment",
    "necessary": "neccessary",
    "believe": "belive",
    "which": "wich",
    "because": "becuase",
    "their": "there",
    "receive": "recieve",
    "definitely": "definately",
    "different": "diffrent",
    "successful": "succesful",
    "beginning": "begining",
    "until": "untill",
    "opinion": "oppinion",
    "advantages": "advantags",
    "people": "peoples",
    "society": "sociaty",
    "knowledge": "knowlege",
    "especially": "especialy",
    "responsibility": "responsability",
}
WORD_FORM_SWAPS = {
    "important": "importance",
    "importance": "important",
    "beneficial": "benefit",
    "successful": "success",
    "easily": "easy",
    "significantly": "significant",
    "effectively": "effective",
    "economic": "economy",
    "financial": "finance",
    "healthy": "health",
    "developed": "develop",
    "increasingly": "increasing",
    "difficult": "difficulty",
    "independent": "independence",
    "responsible": "responsibility",
}


def _words(sentence: str) -> list[re.Match]:
    return list(re.finditer(r"[A-Za-z']+", sentence))


def _replace(sentence: str, match: re.Match, new: str) -> str:
    return sentence[: match.start()] + new + sentence[match.end() :]


def _keep_case(template: str, word: str) -> str:
    return word[:1].upper() + word[1:] if template[:1].isupper() else word


def _pick(rng: random.Random, matches: list[re.Match], vocabulary) -> re.Match | None:
    candidates = [m for m in matches if m.group().lower() in vocabulary]
    return rng.choice(candidates) if candidates else None


def corrupt_article(sentence: str, rng: random.Random) -> str | None:
    match = _pick(rng, _words(sentence), ARTICLES)
    if match is None:
        return None
    if rng.random() < 0.6:  # drop it (the most common article error)
        return sentence[: match.start()] + sentence[match.end() :].lstrip(" ")
    other = rng.choice([a for a in ARTICLES if a != match.group().lower()])
    return _replace(sentence, match, _keep_case(match.group(), other))


def corrupt_agreement(sentence: str, rng: random.Random) -> str | None:
    words = _words(sentence)
    match = _pick(rng, words, AGREEMENT_SWAPS)
    if match is not None:
        return _replace(sentence, match, _keep_case(match.group(), AGREEMENT_SWAPS[match.group().lower()]))
    # third-person -s on a verb after he/she/it
    for index, word in enumerate(words[:-1]):
        following = words[index + 1].group()
        if word.group().lower() in {"he", "she", "it"} and following.endswith("s") and len(following) > 3:
            return _replace(sentence, words[index + 1], following[:-1])
    return None


def corrupt_preposition(sentence: str, rng: random.Random) -> str | None:
    match = _pick(rng, _words(sentence), PREPOSITIONS)
    if match is None:
        return None
    other = rng.choice([p for p in PREPOSITIONS if p != match.group().lower()])
    return _replace(sentence, match, _keep_case(match.group(), other))


def corrupt_spelling(sentence: str, rng: random.Random) -> str | None:
    words = _words(sentence)
    known = _pick(rng, words, COMMON_MISSPELLINGS)
    if known is not None and rng.random() < 0.5:
        return _replace(sentence, known, _keep_case(known.group(), COMMON_MISSPELLINGS[known.group().lower()]))
    long_words = [m for m in words if len(m.group()) >= 6 and "'" not in m.group()]
    if not long_words:
        return None
    match = rng.choice(long_words)
    word = match.group()
    position = rng.randrange(1, len(word) - 2)
    operation = rng.choice(["swap", "drop", "double"])
    if operation == "swap":
        typo = word[:position] + word[position + 1] + word[position] + word[position + 2 :]
    elif operation == "drop":
        typo = word[:position] + word[position + 1 :]
    else:
        typo = word[: position + 1] + word[position] + word[position + 1 :]
    return None if typo == word else _replace(sentence, match, typo)


def corrupt_punctuation(sentence: str, rng: random.Random) -> str | None:
    options = []
    if ", " in sentence:
        options.append("drop_comma")
    if re.search(r"\b\w+'s\b", sentence):
        options.append("drop_apostrophe")
    if re.search(r"\b(However|Moreover|Furthermore|Therefore|In addition|For example),", sentence):
        options.append("drop_linker_comma")
    if not options:
        return None
    choice = rng.choice(options)
    if choice == "drop_comma":
        commas = [m.start() for m in re.finditer(", ", sentence)]
        at = rng.choice(commas)
        return sentence[:at] + sentence[at + 1 :]
    if choice == "drop_apostrophe":
        match = rng.choice(list(re.finditer(r"\b(\w+)'s\b", sentence)))
        return sentence[: match.start()] + match.group(1) + "s" + sentence[match.end() :]
    match = re.search(r"\b(However|Moreover|Furthermore|Therefore|In addition|For example),", sentence)
    return sentence[: match.end() - 1] + sentence[match.end() :]


def corrupt_word_form(sentence: str, rng: random.Random) -> str | None:
    words = _words(sentence)
    match = _pick(rng, words, WORD_FORM_SWAPS)
    if match is not None:
        return _replace(sentence, match, _keep_case(match.group(), WORD_FORM_SWAPS[match.group().lower()]))
    adverbs = [m for m in words if m.group().endswith("ly") and len(m.group()) > 5]
    if adverbs:
        match = rng.choice(adverbs)
        return _replace(sentence, match, match.group()[:-2])
    plurals = [m for m in words if m.group().endswith("s") and not m.group().endswith("ss") and len(m.group()) > 4]
    if plurals:
        match = rng.choice(plurals)
        return _replace(sentence, match, match.group()[:-1])
    return None


def corrupt_inflection(sentence: str, rng: random.Random) -> str | None:
    """A noun or verb in another form of its lemma, never another tense ("students" -> "student", "to improve" ->
    "to improving", "he has" -> "he have"): rl.candidates.inflections, the forms the corrector itself proposes."""
    from rl.candidates import inflections

    options = [(m, form) for m in _words(sentence) if len(m.group()) > 2 for form in inflections(m.group())]
    if not options:
        return None
    match, form = rng.choice(options)
    return _replace(sentence, match, _keep_case(match.group(), form))


def corrupt_confusion(sentence: str, rng: random.Random) -> str | None:
    """A word learners confuse with another of its set ("than" -> "then", "their" -> "there", "many" -> "much")."""
    from rl.candidates import CONFUSABLE

    match = _pick(rng, _words(sentence), CONFUSABLE)
    if match is None:
        return None
    other = rng.choice([w for w in CONFUSABLE[match.group().lower()] if w != match.group().lower()])
    return _replace(sentence, match, _keep_case(match.group(), other))


# Function words a learner leaves out where the sentence needs them ("want to go" -> "want go", "it is" -> "it"); the
# corrector puts back those of rl.candidates.INSERTED_WORDS.
DROPPABLE_WORDS = ("to", "is", "are", "be", "of", "will", "has", "have")


def corrupt_missing_word(sentence: str, rng: random.Random) -> str | None:
    match = _pick(rng, _words(sentence)[1:], DROPPABLE_WORDS)
    if match is None:
        return None
    return sentence[: match.start()].rstrip(" ") + " " + sentence[match.end() :].lstrip(" ")


def corrupt_capitals(sentence: str, rng: random.Random) -> str | None:
    """A lower-case "i" for "I", or the first word's capital left out."""
    places = [m.start() for m in _words(sentence) if m.group() == "I"]
    if sentence[:1].isupper() and sentence[1:2].islower():
        places.append(0)
    if not places:
        return None
    at = rng.choice(places)
    return sentence[:at] + sentence[at].lower() + sentence[at + 1 :]


CORRUPTIONS: dict[str, Callable[[str, random.Random], str | None]] = {
    "article": corrupt_article,
    "agreement": corrupt_agreement,
    "preposition": corrupt_preposition,
    "spelling": corrupt_spelling,
    "punctuation": corrupt_punctuation,
    "word_form": corrupt_word_form,
}
# The SFT warm start's errors: the kinds above (which the corrector's tuning and the raters' gold checks use, whose
# figures were measured on them) and the other everyday slips of learners.
LEARNER_ERRORS: dict[str, Callable[[str, random.Random], str | None]] = {
    **CORRUPTIONS,
    "inflection": corrupt_inflection,
    "confusion": corrupt_confusion,
    "missing_word": corrupt_missing_word,
    "capitals": corrupt_capitals,
}


def corrupt_sentence(
    sentence: str, rng: random.Random, max_errors: int = 2, kinds: dict = CORRUPTIONS
) -> tuple[str, list[str]]:
    """(corrupted sentence, error types injected); 1..max_errors errors of the `kinds` given, where the sentence
    allows."""
    wanted = rng.randint(1, max_errors)
    names = list(kinds)
    rng.shuffle(names)
    applied = []
    for kind in names:
        if len(applied) == wanted:
            break
        corrupted = kinds[kind](sentence, rng)
        if corrupted is not None and corrupted != sentence:
            sentence = corrupted
            applied.append(kind)
    return sentence, applied


def edit_outcome(shown: str, original: str, span) -> int:
    """How an edit (an rl.candidates.Span) of a sentence shown with injected errors fares against its original: +1
    when it brings the sentence closer (in words) to the original, -1 when it takes it further, 0 otherwise. An edit
    that takes it further within one word of an injected error is 0 too: another repair of the same place ("this
    challenges" -> "this challenge" where "these" was corrupted into "this"), which a distance to one original cannot
    judge. Errors the original itself holds count as harms (the cautious side)."""
    from rapidfuzz.distance import Levenshtein

    shown_words, original_words = shown.split(), original.split()
    d0 = Levenshtein.distance(shown_words, original_words)
    d1 = Levenshtein.distance(span.apply(shown).split(), original_words)
    if d1 <= d0:
        return int(d1 < d0)
    injected = set()
    for tag, i1, i2, _, _ in difflib.SequenceMatcher(a=shown_words, b=original_words).get_opcodes():
        if tag != "equal":
            injected |= set(range(i1, max(i2, i1 + 1)))
    first = len(shown[: span.start].split())  # the index of the first word the span touches
    last = max(first, len(shown[: span.end].split()) - 1)
    return 0 if any(first - 1 <= i <= last + 1 for i in injected) else -1


def settled_bar(scores: dict[float, float], current: float, harm_weight: float) -> float:
    """The bar (nats) to use given each candidate bar's fixes - harm_weight x harms: the current one unless another
    scores more than one harm better, then the lowest within one harm of the best. A single harm more or less is
    noise at the sample sizes tuning has, and a bar moved for it costs real fixes."""
    top = max(scores.values())
    if scores.get(current, float("-inf")) >= top - harm_weight:
        return current
    return min(bar for bar, score in scores.items() if score >= top - harm_weight)
