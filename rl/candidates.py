"""Candidate corrections of one sentence, before any model judges them (Bryant and Briscoe 2018's candidate sets).

Each candidate replaces one word (or inserts one before it) with an alternative a learner plausibly meant:
- spelling: an unknown word -> known words within two keystrokes (rapidfuzz over wordfreq's frequent English words,
  checked against pyspellchecker's dictionary), or split in two ("alot" -> "a lot", "12years" -> "12 years");
- inflection: the other forms of the word's noun or verb lemma (lemminflect): "he go" -> "he goes";
- word form: the same stem in another part of speech ("it is easy done" -> "easily", "environment problems" ->
  "environmental");
- confusion sets: articles, prepositions, and words learners swap (their/there, then/than, much/many ...);
- article insertion before a noun or adjective, deletion of an article or preposition;
- insertion of a function word learners leave out (INSERTED_WORDS: "want go" -> "want to go", "it important" -> "it
  is important") between two words;
- capitals: "i" -> "I", the first word's capital;
- a comma after a sentence-opening linker ("However I think" -> "However, I think").
Every list is short and fixed, so a language model can score all of a sentence's candidates in one batch.
"""

import re
from dataclasses import dataclass
from functools import lru_cache

ARTICLES = ("a", "an", "the")
PREPOSITIONS = ("in", "on", "at", "for", "to", "of", "with", "about", "from", "by", "into", "than")
CONFUSIONS = [
    ("their", "there", "they're"),
    ("then", "than"),
    ("to", "too"),
    ("your", "you're"),
    ("its", "it's"),
    ("were", "where", "we're"),
    ("lose", "loose"),
    ("affect", "effect"),
    ("advice", "advise"),
    ("accept", "except"),
    ("whether", "weather"),
    ("though", "through", "thought"),
    ("much", "many"),
    ("less", "fewer"),
    ("this", "these"),
    ("that", "those"),
    ("other", "others", "another"),
    ("every", "each", "all"),
    ("who", "which"),
    ("make", "do"),
    ("say", "tell"),
    ("also", "too"),
    ("dont", "don't"),
    ("cant", "can't"),
    ("doesnt", "doesn't"),
    ("didnt", "didn't"),
    ("isnt", "isn't"),
    ("im", "I'm"),
    ("ive", "I've"),
    ("can not", "cannot"),
]
CONFUSABLE = {word: group for group in CONFUSIONS for word in group}
# The function words learners leave out (rl.corruptions.DROPPABLE_WORDS) that the corrector puts back: an inserted
# "will", "has" or "have" changes the tense ("works become => works have become") or adds a verb ("to some => to have
# some"), which is the writer's choice, as the inflections keep it.
INSERTED_WORDS = ("to", "of", "is", "are", "be")
_INSERTED_VERBS = {"is", "are", "be"}
# Words before which an inserted article is never right.
_NO_ARTICLE_AFTER = set(ARTICLES) | {
    "my", "your", "his", "her", "its", "our", "their", "this", "that", "these", "those", "some", "any", "no", "every",
    "each", "many", "much", "more", "most", "few", "several", "all", "both", "such", "what", "which", "whose", "very",
}  # fmt: skip
# Words after which a noun is singular: the only evidence that lets a corrector undo a plural the writer wrote.
_SINGULAR_DETERMINERS = {"a", "an", "one", "this", "that", "each", "every", "another", "either", "neither"}
# Sentence-opening linkers and adverbials after which teachers put a comma (a learner's most frequent missing comma).
OPENING_LINKERS = (
    "However", "Moreover", "Furthermore", "Therefore", "Thus", "Hence", "Consequently", "Additionally", "Also",
    "Besides", "Nevertheless", "Nonetheless", "Meanwhile", "Otherwise", "Indeed", "Nowadays", "Firstly", "Secondly",
    "Thirdly", "Finally", "Lastly", "First of all", "In addition", "For example", "For instance", "In conclusion",
    "To conclude", "To sum up", "In summary", "In short", "In general", "In fact", "Of course", "On the other hand",
    "On the one hand", "As a result", "In my opinion", "Personally", "Overall", "Unfortunately", "Fortunately",
    "In contrast", "By contrast", "In other words", "Similarly", "Likewise",
)  # fmt: skip
_OPENING_LINKER = re.compile(
    r"\s*(" + "|".join(OPENING_LINKERS) + r")(?= (?!(?:to|of|with|than|that)\b)[A-Za-z])", re.IGNORECASE
)  # not "In addition to this"
_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?|\d+[A-Za-z]+")
MAX_SPELLING_CANDIDATES = 5


@dataclass(frozen=True)
class Span:
    """Replace sentence[start:end] by `text` (start == end: an insertion)."""

    start: int
    end: int
    text: str
    kind: str

    def apply(self, sentence: str) -> str:
        return sentence[: self.start] + self.text + sentence[self.end :]


@lru_cache(maxsize=1)
def dictionary() -> frozenset[str]:
    """pyspellchecker's English word list (lower case): a word outside it is unknown."""
    from spellchecker import SpellChecker

    return frozenset(SpellChecker().word_frequency.dictionary)


@lru_cache(maxsize=1)
def spelling_vocabulary() -> tuple[str, ...]:
    """Frequent English words that suggestions may be: wordfreq's top 60,000 that pyspellchecker also knows."""
    from wordfreq import top_n_list

    known = dictionary()
    return tuple(w for w in top_n_list("en", 60000) if w.isalpha() and w in known)


@lru_cache(maxsize=200_000)
def zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en")


def is_known(word: str) -> bool:
    lower = word.lower()
    return lower in dictionary() or zipf(lower) >= 4.0 or lower in CONFUSABLE


def _keep_case(template: str, word: str) -> str:
    if template.isupper() and len(template) > 1:
        return word.upper()
    return word[:1].upper() + word[1:] if template[:1].isupper() else word


# A suggestion must be a word learners use (zipf 3 = once in a million words): rarer words within two keystrokes of a
# misspelling are many ("ocations" -> "cations") and an essay almost never meant one.
MIN_SUGGESTION_ZIPF = 3.0
# ... nor much rarer (a hundredfold, 2 zipf) than another suggestion as close to what was typed.
MAX_RARER_THAN_PEER = 2.0
# Two edits leave too little of a shorter word to know which word was meant ("nocive" is two edits from "notice",
# "native" and "noise"): below this length a two-edit guess is made only when it is the one common word that close.
MIN_LENGTH_FOR_TWO_EDITS = 7
MARKED_ENDINGS = ("ing", "ed", "s")  # what the writer marked (plural, 3rd person, past, -ing) survives a correction


# A negating prefix the writer put on a word ("uncareful", "unpossible") is meant, whatever the word's spelling: the
# word without it is never a correction, as it flips the meaning ("by uncareful drivers" -> "by careful drivers" was
# seen on a learner essay; "unpossible" -> "impossible" stays).
NEGATING_PREFIXES = ("un", "in", "im", "il", "ir", "dis", "non", "mis")


def marked_ending(word: str) -> str:
    return next((e for e in MARKED_ENDINGS if word.endswith(e) and len(word) > len(e) + 1), "")


def _regular_ending_on_irregular_word(lower: str) -> list[str]:
    """A regular ending put on a word that takes another form ("childs" -> "children", "studys" -> "studies",
    "buyed" -> "bought"): the form of the stem that the ending marks."""
    import lemminflect

    ending = marked_ending(lower)
    stems = [s for s in (lower[: -len(ending)], lower[: -len(ending)] + "e") if ending and zipf(s) >= 4.0]
    if not stems:
        return []
    tags = {"s": ("NNS", "VBZ"), "ed": ("VBD", "VBN"), "ing": ("VBG",)}[ending]
    forms = {tag: lemminflect.getInflection(stems[0], tag=tag) for tag in tags}
    # a noun whose plural may be itself, when the writer used the regular one ("informations" -> "information"),
    # keeps its stem; other words change it ("studys" -> "studies", not "study")
    found = [
        f for forms_of_tag in forms.values() for f in forms_of_tag
        if f != stems[0] or len(forms_of_tag) == 1 or lower in forms_of_tag
    ]  # fmt: skip
    found = [f for f in found if f != lower]
    return [f for f in dict.fromkeys(found) if zipf(f) >= MIN_SUGGESTION_ZIPF]


def _same_start(candidate: str, typed: str) -> bool:
    """Same first letter, or the first two swapped ("hte" -> "the"): a slip that keeps the letters."""
    return candidate[0] == typed[0] or (len(typed) > 1 and candidate[:2] == typed[1::-1])


def _headword(word: str) -> str:
    """One name for the forms of a word ("happen", "happened" -> "happen"): forms of one word are one guess."""
    import lemminflect

    return min((lemma for lemmas in lemminflect.getAllLemmas(word).values() for lemma in lemmas), default=word)


@lru_cache(maxsize=20_000)
def spelling_suggestions(word: str) -> tuple[str, ...]:
    """The form a regular ending on a known word marks when the word takes another ("childs" -> "children"); else
    known words within edit distance 1 (2 for words of 5+ letters, see MIN_LENGTH_FOR_TWO_EDITS), closest and most
    frequent first, kept to what a learner plausibly meant: a common word (MIN_SUGGESTION_ZIPF, MAX_RARER_THAN_PEER),
    with the word's first letter when any suggestion has it (learners rarely misspell a first letter; "othere" is
    "other", not "there"), and with the ending the writer marked when a suggestion as close, or one keystroke further,
    has it ("siences" -> "sciences", not "science")."""
    from rapidfuzz import process
    from rapidfuzz.distance import DamerauLevenshtein

    lower = word.lower()
    matches = process.extract(
        lower,
        spelling_vocabulary(),
        scorer=DamerauLevenshtein.distance,
        score_cutoff=2 if len(lower) >= 5 else 1,
        limit=200,
    )
    irregular = _regular_ending_on_irregular_word(lower)
    if irregular:  # a known word and an ending: surer than any keyboard slip
        return tuple(irregular)
    # a rare word is kept only when it is the one word a single slip away that keeps the first letter ("talkative")
    lone = [m[0] for m in matches if m[1] == 1 and _same_start(m[0], lower)]
    found = [(m[0], m[1]) for m in matches if zipf(m[0]) >= MIN_SUGGESTION_ZIPF or lone == [m[0]]]
    found = [(c, d) for c, d in found if not any(lower == p + c for p in NEGATING_PREFIXES)]
    peak: dict[int, float] = {}
    for candidate, distance in found:
        peak[distance] = max(peak.get(distance, 0.0), zipf(candidate))
    found = [(c, d) for c, d in found if zipf(c) >= peak[d] - MAX_RARER_THAN_PEER]
    if any(_same_start(c, lower) for c, _ in found):
        found = [(c, d) for c, d in found if _same_start(c, lower)]
    if len(lower) < MIN_LENGTH_FOR_TWO_EDITS and len({_headword(c) for c, d in found if d == 2}) > 1:
        found = [(c, d) for c, d in found if d < 2]
    ending = marked_ending(lower)
    if ending:
        closest = min((d for c, d in found if marked_ending(c) == ending), default=None)
        if closest is not None:
            found = [(c, d) for c, d in found if marked_ending(c) == ending or d < closest - 1]
    ranked = [c for c, _ in sorted(dict(found).items(), key=lambda m: (m[1], -zipf(m[0])))]
    # two frequent words run together ("alot" -> "a lot", "12years" -> "12 years") come first; a lone letter is only
    # ever "a" or "I" ("othere" is not "o there")
    splits = []
    for cut in range(1, len(lower)):
        left, right = lower[:cut], lower[cut:]
        known_left = left.isdigit() or left in {"a", "i"} or (len(left) > 1 and zipf(left) >= 4.5)
        known_left = known_left and (left == "in" or left not in NEGATING_PREFIXES)  # not "un careful"
        if known_left and zipf(right) >= 4.0 and len(right) > 2:  # a two-letter tail is a fragment ("tech er")
            splits.append(f"{left} {right}")
    return tuple(splits + ranked[:MAX_SPELLING_CANDIDATES])


_PRESENT, _PAST, _FINITE = {"VB", "VBP", "VBZ"}, {"VBD"}, {"VBD", "VBP", "VBZ"}
_MODAL_TENSE = {"can": "could", "could": "can", "will": "would", "would": "will", "shall": "should", "may": "might"}


@lru_cache(maxsize=50_000)
def inflections(word: str) -> tuple[str, ...]:
    """The other forms of the word's noun and verb lemmas ("go" -> goes, going, gone), except a change of tense
    (present <-> past, "can" -> "could", a participle -> a finite verb: "has been" -> "has is"): a learner's tense is
    usually what they meant, and a language model without the essay's context prefers the present."""
    import lemminflect

    lower = word.lower()
    forms: set[str] = set()
    for pos, lemmas in lemminflect.getAllLemmas(lower).items():
        if pos not in {"NOUN", "VERB", "AUX"}:
            continue
        for lemma in lemmas:
            by_tag = lemminflect.getAllInflections(lemma, upos=pos)
            own_tags = {tag for tag, inflected in by_tag.items() if lower in inflected}
            for tag, inflected in by_tag.items():
                if pos != "NOUN" and tag == "NNS":
                    continue  # lemminflect lists odd verb "plurals" under NNS
                if (own_tags & _PRESENT and tag in _PAST) or (own_tags & _PAST and tag in _PRESENT):
                    continue
                if own_tags == {"VBN"} and tag in _FINITE:
                    continue
                forms.update(inflected)
    forms.discard(lower)
    forms.discard(_MODAL_TENSE.get(lower, ""))
    return tuple(sorted(f for f in forms if f in dictionary()))


# Derivational word forms learners confuse ("it is easy to" / "easily", "environment problems" / "environmental"):
# (ending, ending) pairs. Adjective <-> adverb pairs need lemminflect to call the -ly word an adverb and the other an
# adjective ("early" is no adverb of "ear"). A verb may become its noun ("apart" is no verb: no "apartment"), a noun
# never loses its ending (that fixed none of the project's own sentences and made "job contentment" "job content").
# Nouns and adjectives go both ways. Forms other than adverbs keep a stem of MIN_WORD_FORM_STEM letters ("final" is
# no form of "fin"), one more for a bare "-y" ("earl" / "early").
ADVERB_ENDINGS = (("", "ly"), ("y", "ily"), ("le", "ly"), ("ic", "ically"))
VERB_NOUN_ENDINGS = (("", "ment"), ("te", "tion"))
NOUN_ADJECTIVE_ENDINGS = (
    ("ance", "ant"), ("ence", "ent"), ("ble", "bility"), ("y", "ic"), ("ce", "cial"), ("", "ful"), ("", "al"),
    ("e", "al"), ("", "ness"), ("y", "iness"), ("", "y"),
)  # fmt: skip
MIN_WORD_FORM_STEM = 4


def _has_pos(word: str, pos: str) -> bool:
    import lemminflect

    return pos in lemminflect.getAllLemmas(word)


def _common(word: str) -> bool:
    return word in dictionary() and zipf(word) >= MIN_SUGGESTION_ZIPF


@lru_cache(maxsize=50_000)
def word_forms(word: str) -> tuple[str, ...]:
    """Common words of the same stem in another part of speech: "easy" -> easily, "importance" -> important,
    "develop" -> development (the endings above)."""
    lower = word.lower()
    forms = set()

    def swap(ending: str, other: str, min_stem: int = MIN_WORD_FORM_STEM) -> str | None:
        stem = lower[: len(lower) - len(ending)]
        if lower.endswith(ending) and len(stem) >= min_stem and _common(stem + other):
            return stem + other
        return None

    for adjective_ending, adverb_ending in ADVERB_ENDINGS:
        if not lower.endswith("ly") and _has_pos(lower, "ADJ"):
            adverb = swap(adjective_ending, adverb_ending, min_stem=3)
            if adverb and _has_pos(adverb, "ADV"):
                forms.add(adverb)
        if _has_pos(lower, "ADV"):
            adjective = swap(adverb_ending, adjective_ending, min_stem=3)
            if adjective and _has_pos(adjective, "ADJ"):
                forms.add(adjective)
    for verb_ending, noun_ending in VERB_NOUN_ENDINGS:
        if _has_pos(lower, "VERB"):
            forms.add(swap(verb_ending, noun_ending))
    for one, other in NOUN_ADJECTIVE_ENDINGS:
        min_stem = MIN_WORD_FORM_STEM + ((one, other) == ("", "y"))
        forms.update((swap(one, other, min_stem), swap(other, one, min_stem)))
    forms.discard(None)
    forms.discard(lower)
    return tuple(sorted(forms))


def _plural_only_noun_lemmas(word: str) -> tuple[str, ...]:
    """The singulars of a word that is only ever a plural noun ("sciences" -> "science"; not "needs", also a verb)."""
    import lemminflect

    lemmas = lemminflect.getAllLemmas(word.lower())
    nouns = lemmas.get("NOUN", ())
    return () if set(lemmas) != {"NOUN"} or word.lower() in nouns else nouns


def _is_nounish(word: str) -> bool:
    import lemminflect

    lemmas = lemminflect.getAllLemmas(word.lower())
    return "NOUN" in lemmas or "ADJ" in lemmas


def _plain_verb(word: str) -> bool:
    """Only ever a verb's base or plain present form ("involve", "do"): "be" before it is never right."""
    import lemminflect

    lemmas = lemminflect.getAllLemmas(word.lower())
    if not lemmas or set(lemmas) - {"VERB", "AUX"}:
        return False
    tags = {
        tag
        for lemma in lemmas.get("VERB", ())
        for tag, forms in lemminflect.getAllInflections(lemma, upos="VERB").items()
        if word.lower() in forms
    }
    return bool(tags) and tags <= {"VB", "VBP"}


def _insertions(previous: str, word: str) -> list[str]:
    """The INSERTED_WORDS that may go between `previous` (lower case) and `word`: never a word beside itself, no verb
    after an article or a preposition ("in will sometimes", "of is"; "to be" is the one exception), no "be" before a
    plain verb ("can be involve")."""
    after_article_or_preposition = previous in ARTICLES or previous in PREPOSITIONS
    allowed = []
    for inserted in INSERTED_WORDS:
        if inserted in {previous, word.lower()}:
            continue
        if inserted in _INSERTED_VERBS and after_article_or_preposition and (previous, inserted) != ("to", "be"):
            continue
        if inserted == "be" and _plain_verb(word):
            continue
        allowed.append(inserted)
    return allowed


def _an_or_a(next_word: str) -> str:
    return "an" if next_word[:1].lower() in "aeiou" and not next_word.lower().startswith(("uni", "use", "eu")) else "a"


def _after_space(sentence: str, end: int) -> int:
    """Where the text after a word's following spaces starts: a deleted word takes its spaces and nothing else (the
    next match of _WORD may lie past a number: "specialists in 2020 are" lost "in 2020")."""
    return len(sentence) - len(sentence[end:].lstrip(" "))


def candidate_spans(sentence: str) -> list[Span]:
    """Every candidate correction of the sentence (see the module docstring); none changes two words at once."""
    words = list(_WORD.finditer(sentence))
    spans: list[Span] = []
    opening = _OPENING_LINKER.match(sentence)
    if opening:
        spans.append(Span(opening.end(), opening.end(), ",", "comma"))
    for index, match in enumerate(words):
        word, start, end = match.group(), match.start(), match.end()
        lower = word.lower()
        first = index == 0
        following = words[index + 1].group() if index + 1 < len(words) else ""
        previous = words[index - 1].group().lower() if index else ""

        def add(text: str, kind: str, a: int = start, b: int = end) -> None:
            if text != sentence[a:b]:
                spans.append(Span(a, b, text, kind))

        if lower == "i" and word == "i":
            add("I", "capital")
        if index and sentence[words[index - 1].end() : start] == " ":  # two words with nothing but a space between
            for inserted in _insertions(previous, word):
                add(f"{inserted} ", "insertion", start, start)
        if first and word[:1].islower():
            add(word[:1].upper() + word[1:], "capital")
        if word[:1].isupper() and not first and word != "I":
            continue  # a capitalised word mid-sentence is a name or part of one ("Hoi An", "Hung Kings")
        if not is_known(word):
            for suggestion in spelling_suggestions(word):
                add(_keep_case(word, suggestion), "spelling")
            continue
        if lower in CONFUSABLE:
            for other in CONFUSABLE[lower]:
                if " " not in other:
                    add(_keep_case(word, other), "confusion")
        if lower == "can" and following.lower() == "not":
            add("cannot", "confusion", start, words[index + 1].end())
        if lower in ARTICLES:
            for other in ARTICLES:
                if other != lower:
                    add(_keep_case(word, _an_or_a(following) if other in {"a", "an"} else other), "article")
            if index + 1 < len(words) and sentence[end : end + 1] == " ":
                add("", "article", start, _after_space(sentence, end))
            continue
        if lower in PREPOSITIONS:
            for other in PREPOSITIONS:
                add(_keep_case(word, other), "preposition")
            if index + 1 < len(words) and sentence[end : end + 1] == " ":  # not "far-from-positive"
                add("", "preposition", start, _after_space(sentence, end))
            continue
        # a plural the writer wrote becomes singular only after a word that asks for one ("a books")
        nearby = {w.group().lower() for w in words[max(0, index - 2) : index]}
        keep_plural = _plural_only_noun_lemmas(word) if not nearby & _SINGULAR_DETERMINERS else ()
        for form in inflections(word):
            if form not in keep_plural:
                add(_keep_case(word, form), "inflection")
        for form in word_forms(word):
            add(_keep_case(word, form), "word_form")
        if previous not in _NO_ARTICLE_AFTER and not word[:1].isupper() and _is_nounish(word):
            for article in ("the", _an_or_a(word)):
                add(f"{article} ", "article", start, start)
    return list(dict.fromkeys(spans))


def spell_check(sentence: str) -> str:
    """The spell-check-only baseline: every unknown word (not a mid-sentence name) -> its first suggestion."""
    pieces, cursor = [], 0
    for index, match in enumerate(_WORD.finditer(sentence)):
        word = match.group()
        if is_known(word) or (word[:1].isupper() and index > 0):
            continue
        suggestions = spelling_suggestions(word)
        if suggestions:
            pieces += [sentence[cursor : match.start()], _keep_case(word, suggestions[0])]
            cursor = match.end()
    return "".join(pieces) + sentence[cursor:]


def likely_errors(text: str) -> int:
    """A cheap count (no model) of errors a corrector would find: unknown words with a spelling suggestion, a lower-case
    "i", sentences that start in lower case. Picks the essays worth correcting first."""
    count = 0
    for sentence in re.split(r"(?<=[.!?])\s+|\n+", text):
        words = list(_WORD.finditer(sentence))
        if words and words[0].group()[:1].islower():
            count += 1
        for index, match in enumerate(words):
            word = match.group()
            misspelt = (index == 0 or not word[:1].isupper()) and not is_known(word) and spelling_suggestions(word)
            count += word == "i" or bool(misspelt)
    return count
