"""Essay features for the scorer: hand-made text statistics and sentence-embedding statistics.

The published essays we train and test on are lowercased with paragraph breaks removed, so every feature is computed
on lowercased, whitespace-collapsed text: case and paragraphing cannot be learnt from these labels, and a model that
saw them would treat the rewrite pool (which keeps case and newlines) differently from its training data.
Sentences are the unit of embedding, and every feature is a function of the multiset of sentences (n-grams are counted
inside sentences): reordering sentences can then never raise the band. The only order-aware features mark a conclusion
phrase placed early; repetition and topicality enter through dedicated features with sign constraints.
"""

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from rl.embeddings import EMBEDDING_DIM, SentenceEmbedder

WORD_RE = re.compile(r"[a-z]+(?:['’][a-z]+)?")
SENTENCE_END_RE = re.compile(r"(?<=[.!?;])\s+|\n+")
MAX_SENTENCE_WORDS = 60  # longer runs (missing full stops) are cut so one sentence never dominates

FUNCTION_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "there",
        "their",
        "they",
        "them",
        "he",
        "she",
        "his",
        "her",
        "we",
        "our",
        "you",
        "your",
        "i",
        "me",
        "my",
        "not",
        "no",
        "so",
        "than",
        "then",
        "which",
        "who",
        "whom",
        "whose",
        "what",
        "when",
        "where",
        "why",
        "how",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "can",
        "could",
        "will",
        "would",
        "should",
        "may",
        "might",
        "must",
        "also",
        "more",
        "most",
        "such",
        "very",
        "all",
        "any",
        "some",
        "many",
        "much",
        "each",
        "other",
        "into",
        "about",
        "over",
        "after",
        "before",
        "because",
        "while",
        "although",
        "though",
    ]
)
LINKING_PHRASES = (
    "however", "moreover", "furthermore", "in addition", "additionally", "therefore", "thus", "consequently",
    "as a result", "for example", "for instance", "on the other hand", "in contrast", "nevertheless", "nonetheless",
    "in conclusion", "to conclude", "to sum up", "in summary", "firstly", "secondly", "thirdly", "finally", "lastly",
    "first of all", "whereas", "although", "despite", "in spite of", "similarly", "likewise", "hence", "accordingly",
    "meanwhile", "subsequently", "in other words", "that is to say", "indeed", "admittedly", "overall", "namely",
)  # fmt: skip
CONCLUSION_MARKERS = ("in conclusion", "to conclude", "to sum up", "in summary", "all in all", "to summarise")
# Longest phrases first, so "first of all" is not counted as "first".
LINKING_RE = re.compile(r"\b(" + "|".join(sorted(LINKING_PHRASES, key=len, reverse=True)) + r")\b")
CONCLUSION_RE = re.compile(r"\b(" + "|".join(CONCLUSION_MARKERS) + r")\b")
MISSPELT_CONTRACTIONS = frozenset(
    [
        "dont",
        "doesnt",
        "didnt",
        "cant",
        "wont",
        "isnt",
        "arent",
        "wasnt",
        "werent",
        "shouldnt",
        "wouldnt",
        "couldnt",
        "alot",
    ]
)
DOUBLED_WORD_RE = re.compile(r"\b(\w+) \1\b")
VOWEL_START_RE = re.compile(r"\ba [aeio]\w+|\ban [bcdfgjklmnpqrstvwxyz]\w+")


def normalise_for_features(text: str) -> str:
    return re.sub(r"[ \t\r\f\v]+", " ", text.replace("\u00a0", " ")).strip().lower()


def written_paragraphs(essay: str) -> list[str]:
    """Paragraphs as the writer made them, by blank lines or newlines (one for an essay without breaks)."""
    return [block.strip() for block in re.split(r"\n\s*\n|\n", essay.strip()) if block.strip()]


def join_paragraphs(blocks: list[str]) -> str:
    return "\n\n".join(blocks)


def split_sentences(text: str) -> list[str]:
    """Sentences of the normalised text; very long unpunctuated runs are cut into MAX_SENTENCE_WORDS pieces."""
    sentences = []
    for part in SENTENCE_END_RE.split(normalise_for_features(text)):
        words = part.split()
        for start in range(0, len(words), MAX_SENTENCE_WORDS):
            piece = " ".join(words[start : start + MAX_SENTENCE_WORDS])
            if WORD_RE.search(piece):
                sentences.append(piece)
    return sentences


@lru_cache(maxsize=1)
def _known_words() -> frozenset[str]:
    """Whole words of the MiniLM vocabulary: a word outside it is rare or misspelt (a spelling-error proxy)."""
    from rl.embeddings import packaged_minilm_path

    vocab = (packaged_minilm_path() / "vocab.txt").read_text(encoding="utf-8").split("\n")
    return frozenset(token for token in vocab if token.isalpha())


@lru_cache(maxsize=1)
def _spell_checker():
    from spellchecker import SpellChecker

    return SpellChecker()


def _spelling_features(words: list[str]) -> dict[str, float]:
    """Spelling and word-frequency figures: misspellings are among the strongest signals of a band, and a spelling
    dictionary plus corpus frequencies (wordfreq, shipped inside its PyPI package) see them far better than a model
    vocabulary does."""
    from wordfreq import zipf_frequency  # caches its own lookups

    n_words = max(len(words), 1)
    misspelt = _spell_checker().unknown(words)
    zipf = np.array([zipf_frequency(w, "en") for w in words] or [0.0])
    content = np.array([w not in FUNCTION_WORDS for w in words] or [True])
    content_zipf = zipf[content] if content.any() else zipf
    return {
        "misspelt_share": sum(1 for w in words if w in misspelt) / n_words,
        "distinct_misspelt_share": len(misspelt) / n_words,
        "unknown_word_share": float((zipf == 0).mean()),
        "rare_word_share": float((content_zipf < 3).mean()),
        "content_zipf_mean": float(content_zipf.mean()),
        "content_zipf_std": float(content_zipf.std()),
    }


def _ngram_repeat_share(sentence_words: list[list[str]], n: int) -> float:
    # n-grams inside sentences only, so the share does not change when sentences are reordered
    grams = [tuple(words[i : i + n]) for words in sentence_words for i in range(len(words) - n + 1)]
    if not grams:
        return 0.0
    return 1.0 - len(set(grams)) / len(grams)


def _hdd(words: list[str], sample: int = 42) -> float:
    """HD-D lexical diversity: expected share of distinct words in a random sample of `sample` words. Unlike a moving
    type/token ratio it does not depend on word order (so shuffling sentences cannot change it) nor much on length."""
    n = len(words)
    if n <= sample:
        return len(set(words)) / max(n, 1)
    log_all = math.lgamma(n + 1) - math.lgamma(sample + 1) - math.lgamma(n - sample + 1)
    expected = 0.0
    for count in Counter(words).values():
        if n - count < sample:
            expected += 1.0
            continue
        log_without = math.lgamma(n - count + 1) - math.lgamma(sample + 1) - math.lgamma(n - count - sample + 1)
        expected += 1.0 - math.exp(log_without - log_all)
    return expected / sample


HAND_FEATURES = (
    "words_capped", "mean_sentence_words", "std_sentence_words", "mean_word_length", "long_word_share",
    "very_long_word_share", "lexical_diversity", "oov_share", "comma_per_sentence", "linking_per_sentence",
    "distinct_linking_share", "function_word_share", "repeat_3gram",
    "repeat_5gram", "duplicate_sentence_share", "question_word_overlap", "error_patterns",
    "conclusion_at_end", "conclusion_misplaced", "word_list_share", "misspelt_share", "distinct_misspelt_share",
    "unknown_word_share", "rare_word_share", "content_zipf_mean", "content_zipf_std",
)  # fmt: skip
EMBEDDING_FEATURES = (
    "question_similarity", "sentence_question_similarity_mean", "sentence_question_similarity_min",
    "offtopic_sentence_share", "centroid_similarity_mean", "centroid_similarity_min",
    "near_duplicate_sentence_share", "generic_sentence_share",
)  # fmt: skip
FEATURE_NAMES = HAND_FEATURES + EMBEDDING_FEATURES
# Directions the learnt models must respect (LightGBM monotone constraints, ridge sign checks): more repetition,
# off-topic text or disorder never raises the band; more on-topic text never lowers it.
MONOTONE = {
    "words_capped": 1,
    "repeat_3gram": -1,
    "repeat_5gram": -1,
    "duplicate_sentence_share": -1,
    "near_duplicate_sentence_share": -1,
    "offtopic_sentence_share": -1,
    "conclusion_misplaced": -1,
    "word_list_share": -1,
    "generic_sentence_share": -1,
    "misspelt_share": -1,
    "distinct_misspelt_share": -1,
    "unknown_word_share": -1,
}
# IELTS asks for at least 250 words; beyond that, length is not rewarded, so padding an essay never pays. (Counts that
# grow with length, such as distinct words or sentences, are left out for the same reason; cross-validation showed no
# loss from the cap.)
WORDS_CAP = 250
STYLE_LAYERS = (3,)  # middle layers whose sentence states, concatenated, form the style vector
# Topic and similarity features use the highest layer run (layer 3: the embedder stops there, see rl.embeddings).
# Its states are anisotropic (every cosine is high), so the cut-offs below were set at the same quantiles of the
# training sentences as the cut-offs first tuned on the final layer 6 (0.15, 0.3, 0.5 and 0.95 there): 7% of
# sentences fall under the off-topic cut-off, 26% and 19% under the generic ones, 0.04% are near-duplicates.
OFFTOPIC_SIMILARITY = 0.61  # sentence-question cosine under this: the sentence is not about the task
# A sentence loosely tied to both the task and the rest of the essay reads like a memorised, topic-free filler.
GENERIC_QUESTION_SIMILARITY = 0.69
GENERIC_CENTROID_SIMILARITY = 0.82
NEAR_DUPLICATE_SIMILARITY = 0.96
# A paragraph further from its essay's centroid than all but 2% of the training paragraphs (essays of 3+ paragraphs,
# those without breaks cut into 4 sentence groups) is loosely tied to it, as memorised, topic-free filler is (median
# cosine 0.87). The 3% cut-off (0.893) caught more filler but cost 0.02 MAE on training essays written in paragraphs,
# this one 0.006.
LOOSE_PARAGRAPH_SIMILARITY = 0.88
LOOSE_PARAGRAPH_MIN_SENTENCES = 2  # the mean vector of a single sentence is too noisy to judge
WORD_LIST_FUNCTION_SHARE = 0.15  # a "sentence" with fewer function words than this is a list of words, not prose


def hand_features(question: str, essay: str) -> dict[str, float]:
    text = normalise_for_features(essay)
    words = WORD_RE.findall(text)
    n_words = max(len(words), 1)
    sentences = split_sentences(essay)
    n_sentences = max(len(sentences), 1)
    sentence_words = [WORD_RE.findall(s) for s in sentences]
    sentence_lengths = np.array([len(words) for words in sentence_words] or [0])
    word_lengths = np.array([len(w) for w in words] or [0])
    known = _known_words()
    linking_found = LINKING_RE.findall(text)
    question_words = {w for w in WORD_RE.findall(question.lower()) if w not in FUNCTION_WORDS and len(w) > 2}
    essay_words = set(words)
    conclusion_positions = [m.start() / max(len(text), 1) for m in CONCLUSION_RE.finditer(text)]
    return {
        "words_capped": float(min(len(words), WORDS_CAP)),
        "mean_sentence_words": float(sentence_lengths.mean()),
        "std_sentence_words": float(sentence_lengths.std()),
        "mean_word_length": float(word_lengths.mean()),
        "long_word_share": float((word_lengths >= 7).mean()),
        "very_long_word_share": float((word_lengths >= 10).mean()),
        "lexical_diversity": _hdd(words),
        "oov_share": sum(1 for w in words if w.replace("’", "'") not in known and "'" not in w) / n_words,
        "comma_per_sentence": text.count(",") / n_sentences,
        "linking_per_sentence": len(linking_found) / n_sentences,
        "distinct_linking_share": len(set(linking_found)) / n_sentences,
        "function_word_share": sum(1 for w in words if w in FUNCTION_WORDS) / n_words,
        "repeat_3gram": _ngram_repeat_share(sentence_words, 3),
        "repeat_5gram": _ngram_repeat_share(sentence_words, 5),
        "duplicate_sentence_share": 1.0 - len(set(sentences)) / n_sentences,
        "question_word_overlap": len(question_words & essay_words) / max(len(question_words), 1),
        "error_patterns": (
            sum(1 for w in words if w in MISSPELT_CONTRACTIONS)
            + len(VOWEL_START_RE.findall(text))
            + sum(len(DOUBLED_WORD_RE.findall(sentence)) for sentence in sentences)
        )
        / n_sentences,
        "conclusion_at_end": float(any(p >= 0.6 for p in conclusion_positions)),
        "conclusion_misplaced": float(any(p < 0.6 for p in conclusion_positions)),
        "word_list_share": _word_list_share(sentences, n_words),
    } | _spelling_features(words)


def _word_list_share(sentences: list[str], n_words: int) -> float:
    listed = 0
    for sentence in sentences:
        words = WORD_RE.findall(sentence)
        if len(words) >= 5 and sum(w in FUNCTION_WORDS for w in words) / len(words) < WORD_LIST_FUNCTION_SHARE:
            listed += len(words)
    return listed / n_words


@dataclass
class EssayEmbedding:
    """Sentence vectors of one essay and what is derived from them."""

    essay_vector: np.ndarray  # token-weighted mean of layer-3 sentence vectors, L2-normalised
    style_vector: np.ndarray  # token-weighted mean of middle-layer sentence states (syntax, word choice)
    question_vector: np.ndarray
    features: dict[str, float]


def embedding_features(embedder: SentenceEmbedder, questions: list[str], essays: list[str]) -> list[EssayEmbedding]:
    """Embed every sentence of every essay and every question in one batched pass."""
    sentence_lists = [split_sentences(essay) or [normalise_for_features(essay) or "."] for essay in essays]
    unique_questions = sorted(set(questions))
    texts = [s for sentences in sentence_lists for s in sentences] + unique_questions
    layer_states = embedder.embed_layers(texts)
    last = layer_states[:, embedder.config.layers.index(max(embedder.config.layers))]
    vectors = last / np.maximum(np.linalg.norm(last, axis=1, keepdims=True), 1e-12)
    style_slots = [embedder.config.layers.index(layer) for layer in STYLE_LAYERS]
    question_vectors = dict(zip(unique_questions, vectors[len(texts) - len(unique_questions) :], strict=True))
    results = []
    offset = 0
    for question, sentences in zip(questions, sentence_lists, strict=True):
        sentence_vectors = vectors[offset : offset + len(sentences)]
        weights = np.array([len(s.split()) for s in sentences], dtype=np.float32)
        states = layer_states[offset : offset + len(sentences)][:, style_slots].reshape(len(sentences), -1)
        style_vector = (states * weights[:, None]).sum(0) / weights.sum()
        offset += len(sentences)
        essay_vector = (sentence_vectors * weights[:, None]).sum(0)
        essay_vector /= max(np.linalg.norm(essay_vector), 1e-12)
        question_vector = question_vectors[question]
        to_question = sentence_vectors @ question_vector
        to_centroid = sentence_vectors @ essay_vector
        similarity = sentence_vectors @ sentence_vectors.T
        np.fill_diagonal(similarity, 0.0)
        near_duplicates = (similarity.max(1) > NEAR_DUPLICATE_SIMILARITY).mean() if len(sentences) > 1 else 0.0
        features = {
            "question_similarity": float(essay_vector @ question_vector),
            "sentence_question_similarity_mean": float(np.average(to_question, weights=weights)),
            "sentence_question_similarity_min": float(to_question.min()),
            "offtopic_sentence_share": float(weights[to_question < OFFTOPIC_SIMILARITY].sum() / weights.sum()),
            "centroid_similarity_mean": float(np.average(to_centroid, weights=weights)),
            "centroid_similarity_min": float(to_centroid.min()),
            "near_duplicate_sentence_share": float(near_duplicates),
            "generic_sentence_share": float(
                weights[(to_question < GENERIC_QUESTION_SIMILARITY) & (to_centroid < GENERIC_CENTROID_SIMILARITY)].sum()
                / weights.sum()
            ),
        }
        results.append(EssayEmbedding(essay_vector, style_vector, question_vector, features))
    return results


def loose_paragraphs(embedder: SentenceEmbedder, essays: list[str]) -> list[list[int]]:
    """Indices of the written paragraphs loosely tied to their essay, for essays of three or more: the paragraph's
    word-weighted mean sentence vector has a cosine to the essay's under LOOSE_PARAGRAPH_SIMILARITY.

    Only paragraphs the writer made count: cutting an essay without breaks into sentence groups (as paragraphs()
    does) would make the verdict depend on sentence order, so shuffling sentences could change the band.
    """
    layer = embedder.config.layers.index(max(embedder.config.layers))
    split = [[split_sentences(block) for block in written_paragraphs(essay)] for essay in essays]
    texts = [s for blocks in split if len(blocks) >= 3 for block in blocks for s in block]
    states = embedder.embed_layers(texts)[:, layer] if texts else np.zeros((0, EMBEDDING_DIM))
    vectors = states / np.maximum(np.linalg.norm(states, axis=1, keepdims=True), 1e-12)
    flagged, offset = [], 0
    for blocks in split:
        if len(blocks) < 3:
            flagged.append([])
            continue
        sums = []
        for block in blocks:
            weights = np.array([len(s.split()) for s in block], dtype=np.float32)
            sums.append((vectors[offset : offset + len(block)] * weights[:, None]).sum(0))
            offset += len(block)
        centroid = np.sum(sums, axis=0)
        centroid /= max(np.linalg.norm(centroid), 1e-12)
        flagged.append(
            [
                i
                for i, (block, total) in enumerate(zip(blocks, sums, strict=True))
                if len(block) >= LOOSE_PARAGRAPH_MIN_SENTENCES
                and total @ centroid < LOOSE_PARAGRAPH_SIMILARITY * np.linalg.norm(total)
            ]
        )
    return flagged


@dataclass
class FeatureMatrix:
    features: np.ndarray  # (n, len(FEATURE_NAMES))
    essay_vectors: np.ndarray  # (n, 384)
    style_vectors: np.ndarray  # (n, 384 * len(STYLE_LAYERS))
    question_vectors: np.ndarray  # (n, 384)


def build_features(embedder: SentenceEmbedder, questions: list[str], essays: list[str]) -> FeatureMatrix:
    embedded = embedding_features(embedder, questions, essays)
    rows = []
    for question, essay, emb in zip(questions, essays, embedded, strict=True):
        values = hand_features(question, essay) | emb.features
        rows.append([values[name] for name in FEATURE_NAMES])
    return FeatureMatrix(
        features=np.array(rows, dtype=np.float64),
        essay_vectors=np.stack([e.essay_vector for e in embedded]),
        style_vectors=np.stack([e.style_vector for e in embedded]),
        question_vectors=np.stack([e.question_vector for e in embedded]),
    )
