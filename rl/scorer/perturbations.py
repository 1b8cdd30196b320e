"""Essay perturbations that must never raise the predicted band (the ways a rewriter could game the scorer).

Each function takes an essay and a random generator and returns the perturbed essay; PERTURBATIONS names them all.
They are plain text functions so the rewriter's tests and benchmarks can reuse them.
"""

import random
import re

from rl.scorer.features import SENTENCE_END_RE, join_paragraphs, written_paragraphs

FANCY_WORDS = (
    "quintessential", "ubiquitous", "paradigm", "juxtaposition", "ephemeral", "serendipity", "multifaceted",
    "unequivocally", "indispensable", "perspicacious", "sesquipedalian", "obfuscation", "magnanimous", "idiosyncratic",
    "epistemological", "quixotic", "pernicious", "laconic", "vicissitudes", "inexorable", "recalcitrant", "ameliorate",
    "esoteric", "ostentatious", "verisimilitude", "propitious", "cacophony", "labyrinthine", "effervescent",
    "consummate", "nefarious", "panacea", "zeitgeist", "hegemony", "dichotomy", "salient", "ineffable", "sycophantic",
)  # fmt: skip
GENERIC_PARAGRAPHS = (
    "In today's rapidly changing world, this is a highly controversial issue that has sparked considerable debate "
    "among people from all walks of life. There are compelling arguments on both sides, and it is essential to weigh "
    "them carefully before reaching a well-informed conclusion.",
    "It is an undeniable fact that this topic has become one of the most widely discussed matters of our time. "
    "Scholars, policymakers and ordinary citizens alike have expressed divergent opinions, each supported by "
    "persuasive evidence and convincing examples from everyday life.",
    "Furthermore, it is worth noting that every coin has two sides. While some individuals strongly support this "
    "view, others vehemently oppose it, and both groups put forward reasonable justifications that deserve careful "
    "consideration in a balanced and objective manner.",
)
PARAGRAPHS_WITHOUT_BREAKS = 4  # essays stored without newlines are cut into this many sentence groups


def sentence_pieces(text: str) -> list[str]:
    """The text cut after . ! or ? (case and spacing kept)."""
    return [part.strip() for part in re.split(r"(?<=[.!?])\s+", text.strip()) if part.strip()]


def paragraphs(essay: str) -> list[str]:
    """written_paragraphs(); an essay without breaks is cut into equal groups of sentences."""
    blocks = written_paragraphs(essay)
    if len(blocks) > 1:
        return blocks
    sentences = sentence_pieces(essay)
    groups = min(PARAGRAPHS_WITHOUT_BREAKS, len(sentences))
    if groups <= 1:
        return [essay.strip()]
    size = len(sentences) / groups
    return [" ".join(sentences[round(i * size) : round((i + 1) * size)]) for i in range(groups)]


def repeat_paragraph(essay: str, rng: random.Random) -> str:
    """Repeat one body paragraph (or the only one) right after itself."""
    blocks = paragraphs(essay)
    index = rng.randrange(1, len(blocks) - 1) if len(blocks) > 2 else 0
    return join_paragraphs(blocks[: index + 1] + [blocks[index]] + blocks[index + 1 :])


def append_fancy_vocabulary(essay: str, rng: random.Random, words: int = 24) -> str:
    """Append a paragraph of sophisticated words that have nothing to do with the task."""
    chosen = rng.sample(FANCY_WORDS, min(words, len(FANCY_WORDS)))
    sentences = [" ".join(chosen[i : i + 8]).capitalize() + "." for i in range(0, len(chosen), 8)]
    return join_paragraphs(paragraphs(essay) + [" ".join(sentences)])


def shuffle_sentences(essay: str, rng: random.Random) -> str:
    sentences = sentence_pieces(" ".join(SENTENCE_END_RE.split(essay)))
    if len(sentences) < 2:
        return essay
    shuffled = sentences[:]
    while shuffled == sentences:
        rng.shuffle(shuffled)
    return " ".join(shuffled)


def delete_half(essay: str, rng: random.Random) -> str:
    """Keep only the first half of the sentences (the rng is unused: the cut is deterministic)."""
    sentences = sentence_pieces(" ".join(SENTENCE_END_RE.split(essay)))
    return " ".join(sentences[: max(1, len(sentences) // 2)])


def add_generic_paragraph(essay: str, rng: random.Random) -> str:
    """Insert a memorised, topic-free paragraph after the introduction."""
    blocks = paragraphs(essay)
    return join_paragraphs(blocks[:1] + [rng.choice(GENERIC_PARAGRAPHS)] + blocks[1:])


def inject_learner_errors(essay: str, rng: random.Random) -> str:
    """Typical learner errors (articles, agreement, prepositions, spelling, ...) in every other sentence: the damage a
    careless rewriter does. A scorer that rewards it would let the guard accept harmful edits."""
    from rl.corruptions import corrupt_sentence

    sentences = sentence_pieces(essay)
    return " ".join(corrupt_sentence(s, rng)[0] if i % 2 == 0 else s for i, s in enumerate(sentences))


PERTURBATIONS = {
    "repeat_paragraph": repeat_paragraph,
    "append_fancy_vocabulary": append_fancy_vocabulary,
    "shuffle_sentences": shuffle_sentences,
    "delete_half": delete_half,
    "add_generic_paragraph": add_generic_paragraph,
    "inject_learner_errors": inject_learner_errors,
}
