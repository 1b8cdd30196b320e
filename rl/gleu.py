"""GLEU for grammatical error correction (Napoles et al. 2015, with the 2016 update for several references).

Follows the public gec-ranking `gleu.py` (the script JFLEG's published figures come from): sentences are compared as
whitespace-split tokens; an n-gram of the hypothesis counts when it is in the reference and is penalised when it is
in the source but not in the reference; with several references, each iteration draws one reference per sentence
(`random.seed(j * 101)` for iteration j, as the script does) and the corpus score is the mean over iterations.
"""

import math
import random
from collections import Counter
from collections.abc import Sequence

ORDER = 4
ITERATIONS = 500


def ngram_counts(tokens: Sequence[str], n: int) -> Counter:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) + 1 - n))


def sentence_stats(hypothesis: Sequence[str], source: Sequence[str], reference: Sequence[str]) -> list[int]:
    """[hyp length, ref length, matches_1, possible_1, ..., matches_4, possible_4] for one sentence and reference.

    matches_n = |h & r| - |h & (s - r)| (clipped at 0), where s - r keeps the source n-grams absent from r with their
    source counts; possible_n = the number of n-grams of the hypothesis.
    """
    stats = [len(hypothesis), len(reference)]
    for n in range(1, ORDER + 1):
        h, s, r = ngram_counts(hypothesis, n), ngram_counts(source, n), ngram_counts(reference, n)
        source_not_in_ref = Counter({gram: count for gram, count in s.items() if gram not in r})
        matches = sum((h & r).values()) - sum((h & source_not_in_ref).values())
        stats += [max(matches, 0), max(len(hypothesis) + 1 - n, 0)]
    return stats


def gleu_from_stats(stats: Sequence[float], smooth: bool = False) -> float:
    """GLEU in [0, 1] from summed stats; `smooth` replaces zero counts by one (sentence-level scores)."""
    if smooth:
        stats = [s if s != 0 else 1 for s in stats]
    if any(s == 0 for s in stats):
        return 0.0
    hyp_len, ref_len = stats[:2]
    log_precision = sum(math.log(m / p) for m, p in zip(stats[2::2], stats[3::2], strict=True)) / ORDER
    return math.exp(min(0.0, 1.0 - ref_len / hyp_len) + log_precision)


def reference_draws(sentences: int, references: int, iterations: int = ITERATIONS) -> list[list[int]]:
    """The reference index per sentence for each iteration, drawn exactly as gec-ranking's script draws them."""
    draws = []
    for j in range(iterations):
        rng = random.Random(j * 101)
        draws.append([rng.randint(0, references - 1) for _ in range(sentences)])
    return draws


def corpus_gleu(
    hypotheses: Sequence[str],
    sources: Sequence[str],
    references: Sequence[Sequence[str]],
    iterations: int = ITERATIONS,
) -> float:
    """Corpus GLEU x 100 of tokenised sentences; references[k][i] is reference k of sentence i."""
    if not (len(hypotheses) == len(sources) and all(len(r) == len(sources) for r in references)):
        raise ValueError("hypotheses, sources and every reference set must have one line per sentence")
    hyp = [h.split() for h in hypotheses]
    src = [s.split() for s in sources]
    refs = [[r.split() for r in reference_set] for reference_set in references]
    per_reference = [[sentence_stats(hyp[i], src[i], refs[k][i]) for k in range(len(refs))] for i in range(len(hyp))]
    scores = []
    for draw in reference_draws(len(hyp), len(refs), iterations):
        totals = [0] * (2 * ORDER + 2)
        for i, k in enumerate(draw):
            totals = [a + b for a, b in zip(totals, per_reference[i][k], strict=True)]
        scores.append(gleu_from_stats(totals))
    return 100.0 * sum(scores) / len(scores)


def sentence_gleu(hypothesis: str, source: str, references: Sequence[str]) -> float:
    """Smoothed sentence-level GLEU x 100, averaged over the references (to tell whether an edit helped)."""
    hyp, src = hypothesis.split(), source.split()
    values = [gleu_from_stats(sentence_stats(hyp, src, ref.split()), smooth=True) for ref in references]
    return 100.0 * sum(values) / len(values)
