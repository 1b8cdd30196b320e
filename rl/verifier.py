"""The edit-level verdict of the reward and the guard: is a changed sentence a fix, a harm, or neither?

Two signals that do not depend on a holistic band moving by hundredths:
- the language model's log-likelihood ratio of the new sentence over the old one (rl/corrector.py): a fix makes the
  sentence more probable by at least `threshold` nats, a harm makes it less probable by as much;
- rules for the damage a language model can like or miss: a doubled word ("cannot cannot use"), a misspelt word read
  as a function word that does not start like it ("othere => there": learners rarely misspell a first letter), a
  pronoun of another
  person or in the wrong case ("people's => them's", "my college => your college"), a dropped negation, and added
  content ("My cousin => My favourite cousin"): a correction fixes what the writer wrote, it does not add to it.
Once raters have labelled enough changes, a verdict learnt from them (rl/verdict_model.py, rewriter.verdict_model)
decides with the gain: a change it rejects is a harm even if the language model liked it, one it accepts a fix.
"""

import difflib
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

NEGATIONS = {"not", "n't", "never", "no", "nothing", "nobody", "none", "neither", "nor", "without", "cannot", "nowhere"}
PRONOUN_PERSON = {
    "i": 1, "me": 1, "my": 1, "mine": 1, "myself": 1,
    "we": 4, "us": 4, "our": 4, "ours": 4, "ourselves": 4,
    "you": 2, "your": 2, "yours": 2, "yourself": 2, "yourselves": 2,
    "he": 3, "him": 3, "his": 3, "himself": 3,
    "she": 5, "her": 5, "hers": 5, "herself": 5,
    "it": 6, "its": 6, "itself": 6,
    "they": 7, "them": 7, "their": 7, "theirs": 7, "themselves": 7,
}  # fmt: skip
OBJECT_PRONOUNS = {"me", "him", "us", "them"}
FINITE_AFTER_SUBJECT = {"am", "is", "are", "was", "were", "have", "has", "do", "does", "did", "can", "will", "would",
                        "should", "could", "must", "'s", "'re", "'ve", "'m"}  # fmt: skip
FUNCTION_WORDS = {
    "a", "an", "the", "this", "that", "these", "those", "some", "any", "each", "every", "all", "both", "other",
    "another", "such", "of", "in", "on", "at", "for", "to", "with", "about", "from", "by", "into", "than", "as",
    "and", "or", "but", "so", "if", "because", "when", "while", "which", "who", "whom", "whose", "what", "where",
    "there", "here", "it", "its", "be", "is", "are", "was", "were", "been", "being", "am", "have", "has", "had",
    "do", "does", "did", "will", "would", "can", "could", "should", "may", "might", "must", "shall", "also", "too",
    "very", "more", "most", "much", "many", "less", "few", "fewer", "then", "up", "out", "over", "s", "'s",
} | set(PRONOUN_PERSON) | NEGATIONS  # fmt: skip
_TOKEN = re.compile(r"n't|'[a-z]+|[A-Za-z]+|\d+")
# nats: past a 1-nat gain a change counts as a fix for the reward (chosen on JFLEG dev sentences 0-99: pairwise
# accuracy 0.85 / 0.98 against 0.81 / 0.99 at 4 nats); the corrector proposes only past 4 (rl.corrector)
DEFAULT_THRESHOLD = 1.0


def _tokens(text: str) -> list[str]:
    return [t.lower() for t in _TOKEN.findall(text)]


@lru_cache(maxsize=50_000)
def lemmas_of(word: str) -> frozenset[str]:
    import lemminflect

    found = {lemma for lemmas in lemminflect.getAllLemmas(word).values() for lemma in lemmas}
    return frozenset(found or {word})


def is_variant(a: str, b: str) -> bool:
    """Two spellings or forms of one word: same lemma, or a slip of the keyboard apart."""
    from rapidfuzz.distance import DamerauLevenshtein

    if lemmas_of(a) & lemmas_of(b):
        return True
    return DamerauLevenshtein.distance(a, b) <= max(1, min(len(a), len(b)) // 3)


def degenerate_reason(old: str, new: str) -> str:
    """Why changing sentence `old` into `new` is damage whatever a language model says, or "" when no rule fires."""
    before, after = _tokens(old), _tokens(new)
    for first, second in zip(after, after[1:], strict=False):
        if first == second and first.isalpha() and first not in {"that", "had"}:
            doubled = sum(a == b == first for a, b in zip(before, before[1:], strict=False))
            if sum(a == b == first for a, b in zip(after, after[1:], strict=False)) > doubled:
                return f"doubled word {first!r}"
    from rl.candidates import is_known

    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "replace" and i2 - i1 == j2 - j1:
            for old_word, new_word in zip(before[i1:i2], after[j1:j2], strict=True):
                if new_word in FUNCTION_WORDS and old_word[0] != new_word[0] and not is_known(old_word):
                    return f"misspelling read as another word {old_word!r} {new_word!r}"
    # "it" is left out: a dummy subject is a common fix ("is important to" -> "it is important to")
    persons_before = {PRONOUN_PERSON[t] for t in before if t in PRONOUN_PERSON and t != "it"}
    persons_after = {PRONOUN_PERSON[t] for t in after if t in PRONOUN_PERSON and t != "it"}
    removed_words = set(before) - set(after)
    new_persons = {
        PRONOUN_PERSON[t]
        for t in set(after) - set(before)
        if t in PRONOUN_PERSON
        and PRONOUN_PERSON[t] in persons_after - persons_before
        and not any(is_variant(t, r) for r in removed_words)  # "ther" -> "their" is a spelling fix
    }
    if new_persons:
        return "pronoun of another person"
    pairs_before = set(zip(before, before[1:], strict=False))
    for word, following in zip(after, after[1:], strict=False):
        if word in OBJECT_PRONOUNS and following in FINITE_AFTER_SUBJECT and (word, following) not in pairs_before:
            return f"object pronoun as subject {word!r} {following!r}"
    if any(t in NEGATIONS for t in before) and not any(t in NEGATIONS for t in after):
        return "dropped negation"
    removed = Counter(t for t in before if t.isalpha() and t not in FUNCTION_WORDS) - Counter(
        t for t in after if t.isalpha() and t not in FUNCTION_WORDS
    )
    added = Counter(t for t in after if t.isalpha() and t not in FUNCTION_WORDS) - Counter(
        t for t in before if t.isalpha() and t not in FUNCTION_WORDS
    )
    # content replaced by other content is left to the language model; content added where none went is not a fix
    unmatched = [w for w in added.elements() if not any(is_variant(w, r) for r in removed)]
    if unmatched and not removed:
        return f"added content {unmatched[0]!r}"
    return ""


@dataclass
class Verdict:
    gain: float  # log-likelihood ratio new/old, nats
    reason: str  # a rule that fired, or ""
    threshold: float = DEFAULT_THRESHOLD
    accept: float | None = None  # P(a teacher accepts) from the raters' learnt verdict (rl/verdict_model.py), if any
    margin: float = 0.0  # how sure that model must be where the language model disagrees

    @property
    def fix(self) -> bool:
        if self.reason:
            return False
        if self.accept is None:
            return self.gain > self.threshold
        return self.accept >= 0.5 and (self.gain > self.threshold or self.accept >= 0.5 + self.margin)

    @property
    def harm(self) -> bool:
        if self.reason:
            return True
        if self.accept is None:
            return self.gain < -self.threshold
        return self.accept < 0.5 and (self.gain < -self.threshold or self.accept < 0.5 - self.margin)


def verdicts(lm, pairs: list[tuple[str, str]], threshold: float = DEFAULT_THRESHOLD, model=None) -> list[Verdict]:
    """A verdict on each (old sentence, new sentence) pair; one batched language-model pass over all the texts.
    `model`: the raters' learnt verdict (rl.verdict_model.VerdictModel), or None for the rule alone."""
    texts = list(dict.fromkeys(t for pair in pairs for t in pair))
    logprob = {s.text: s.logprob for s in lm.score(texts)} if texts else {}
    judged = [Verdict(logprob[new] - logprob[old], degenerate_reason(old, new), threshold) for old, new in pairs]
    if model is not None:
        for (old, new), verdict in zip(pairs, judged, strict=True):
            verdict.accept, verdict.margin = model.probability(old, new, verdict.gain, verdict.reason), model.margin
    return judged


def verified_share(verdict_lists: list[list[Verdict]]) -> float | None:
    """Share of changed sentences judged fixes, over rewrites' verdict lists (None when nothing changed)."""
    flat = [v for verdicts_of_one in verdict_lists for v in verdicts_of_one]
    return sum(v.fix for v in flat) / len(flat) if flat else None


def sentence_changes(original: str, rewrite: str) -> list[tuple[str, str]]:
    """(old, new) for each sentence (or run of sentences, when a rewrite splits or joins them) the rewrite changed."""
    from rl.edits import split_sentences

    old, new = split_sentences(original), split_sentences(rewrite)
    if len(old) == len(new):
        return [(a, b) for a, b in zip(old, new, strict=True) if a != b]
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    return [
        (" ".join(old[i1:i2]), " ".join(new[j1:j2])) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"
    ]


def rewrite_verdicts(
    lm, originals: list[str], rewrites: list[str], threshold: float = DEFAULT_THRESHOLD, model=None
) -> list[list[Verdict]]:
    """The verdicts on the changed sentences of each rewrite (an empty list for an unchanged one)."""
    changes = [sentence_changes(o, r) for o, r in zip(originals, rewrites, strict=True)]
    flat = verdicts(lm, [pair for pairs in changes for pair in pairs], threshold, model)
    out, position = [], 0
    for pairs in changes:
        out.append(flat[position : position + len(pairs)])
        position += len(pairs)
    return out
