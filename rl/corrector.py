"""Language-model-scored corrections and the edit-level verdicts of the reward (Bryant and Briscoe 2018).

A candidate correction (rl/candidates.py) is accepted when the language model finds the corrected sentence more
probable, by at least `threshold` nats of log-likelihood, than the sentence as written; the same log-likelihood ratio
judges any edit, whoever proposed it (the policy, the spell checker, a rater's rewrite): see rl/verifier.py. The
ratio of whole-sentence probabilities, not of per-token averages: averaging rewards inserting frequent words ("the")
because they lower the mean surprisal, and inserted articles were then the commonest harm.

Each sentence is read after a neutral essay sentence (rl.config.RUNNING_TEXT_CONTEXT), which is not scored. Read
after the start token alone, its first word is scored as the first word of a document, where an essay's
sentence-initial linkers are rare ("Additionally" ranks about 6,000th): the ratio then paid for swapping a linker
for a synonym ("Consequently, => As a result," gained up to 12 nats) and called 58% of such swaps fixes.

Cost on a CPU: one forward pass over each sentence gives the next-token distribution at every position and the
attention cache, so each candidate gets a cheap first score (the log-probability of its first changed token against
the original's, with the same left context); only the best few per sentence are scored, from their first changed token
to a few tokens past the change, on top of the cached prefix, the shortlists of a chunk of sentences together in
shared forward passes (a pass costs nearly as much for one row as for thirty); the sentence a round produced is scored
in full.
"""

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import torch

from rl.candidates import Span, candidate_spans
from rl.config import DEFAULT_KIND_MARGINS, RUNNING_TEXT_CONTEXT

Range = tuple[int, int]  # (start, end) characters of a sentence
DEFAULT_THRESHOLD = 4.0  # nats; chosen on the project's own corrupted sentences (bench/rewriter.py --tune-threshold)


@dataclass
class ScoredText:
    text: str
    token_ids: list[int]
    logprob: float  # total log-probability of the sentence's tokens (after the start token and the context)


@dataclass
class Analysis:
    """One forward pass over a sentence: its score, the next-token log-probabilities at every position and the
    attention keys/values, so candidates that share its first tokens are scored from where they differ."""

    scored: ScoredText
    token_logprobs: torch.Tensor  # [tokens]
    rows: torch.Tensor  # [tokens, vocabulary]: log-probabilities of each next token
    cache: list[tuple[torch.Tensor, torch.Tensor]]  # per layer (keys, values) [1, heads, 1 + tokens, dim]


class LanguageModel:
    """Sentence log-probabilities under a causal LM, batched; the start token is <|endoftext|> (id 0) or BOS."""

    @classmethod
    def load(cls, model: str, dtype: str = "auto", context: str = RUNNING_TEXT_CONTEXT) -> "LanguageModel":
        """The base model (no adapter) of a policy, for scoring. "auto": bf16 on a GPU, and on a CPU where a timed
        trial finds it clearly faster (its log-probabilities are close enough for decisions several nats apart);
        fp32 elsewhere. On CPUs without bf16 units bf16 is emulated and several times slower."""
        return _load_language_model(model, dtype, context)

    @classmethod
    def for_rewriter(cls, model: str, settings) -> "LanguageModel":
        """The scoring model a recipe's rewriter settings (rl.config.RewriterSettings) ask for."""
        return cls.load(model, settings.language_model_dtype, settings.language_model_context)

    def __init__(self, model, tokenizer, batch_size: int = 32, window: int = 4, context: str = ""):
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.window = window  # tokens after a change that still count towards its score
        self.start_id = 0 if "endoftext" in tokenizer.convert_ids_to_tokens(0) else tokenizer.bos_token_id
        if self.start_id is None:
            self.start_id = tokenizer.eos_token_id
        # read before every sentence and not scored: a sentence is then scored as running text (rl.config
        # RUNNING_TEXT_CONTEXT), its first word after a space as mid-text words are, not as a document's first word
        self.context = context
        self.prefix = [self.start_id, *(tokenizer(context, add_special_tokens=False)["input_ids"] if context else [])]
        self._memo: dict[str, ScoredText] = {}  # the guard and the reward often score what the corrector scored

    def forget(self) -> None:
        """Drop remembered scores (a timing that must not profit from an earlier run)."""
        self._memo.clear()

    def _remember(self, scored: ScoredText) -> None:
        if len(self._memo) > 50_000:
            self._memo.clear()
        self._memo[scored.text] = scored

    @property
    def device(self):
        return next(self.model.parameters()).device

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each sentence as the model reads it (after a space when there is a context)."""
        if not texts:
            return []
        lead = " " if self.context else ""
        return self.tokenizer([lead + t for t in texts], add_special_tokens=False)["input_ids"]

    @torch.no_grad()
    def _batches(self, sequences: list[list[int]], keep: bool):
        """Yield (index, per-token log-probs, rows, cache) for each id sequence, in batches of similar lengths."""
        order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
        p = len(self.prefix)  # the tokens of sequence i are predicted at positions p - 1 .. p - 2 + n
        for begin in range(0, len(order), self.batch_size):
            batch = order[begin : begin + self.batch_size]
            width = max(len(sequences[i]) for i in batch) + p
            ids = torch.zeros((len(batch), width), dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, i in enumerate(batch):  # right padding: positions line up with the tokens
                seq = [*self.prefix, *sequences[i]]
                ids[row, : len(seq)] = torch.tensor(seq)
                mask[row, : len(seq)] = 1
            output = self.model(input_ids=ids.to(self.device), attention_mask=mask.to(self.device), use_cache=keep)
            rows = torch.log_softmax(output.logits[:, p - 1 : -1].float(), dim=-1)
            picked = rows.gather(-1, ids[:, p:].to(self.device).unsqueeze(-1)).squeeze(-1).cpu()
            for row, i in enumerate(batch):
                n = len(sequences[i])
                if not keep:
                    yield i, picked[row, :n], None, None
                    continue
                layers = output.cache.layers
                cache = [
                    (layer.keys[row : row + 1, :, : p + n], layer.values[row : row + 1, :, : p + n]) for layer in layers
                ]
                yield i, picked[row, :n], rows[row, :n].cpu(), cache

    def score(self, texts: Sequence[str]) -> list[ScoredText]:
        found = {t: self._memo[t] for t in texts if t in self._memo}
        unseen = list(dict.fromkeys(t for t in texts if t not in found))
        encoded = self.encode(unseen)
        for i, logprobs, _, _ in self._batches(encoded, keep=False):
            found[unseen[i]] = ScoredText(unseen[i], encoded[i], float(logprobs.sum()))
            self._remember(found[unseen[i]])
        return [found[t] for t in texts]

    def analyse(self, texts: Sequence[str]) -> list[Analysis]:
        encoded = self.encode(texts)
        found = {i: (lp, rows, cache) for i, lp, rows, cache in self._batches(encoded, keep=True)}
        analyses = [
            Analysis(ScoredText(t, ids, float(found[i][0].sum())), *found[i])
            for i, (t, ids) in enumerate(zip(texts, encoded, strict=True))
        ]
        for analysis in analyses:
            self._remember(analysis.scored)
        return analyses

    @torch.no_grad()
    def window_gains(self, jobs: Sequence[tuple[Analysis, list[list[int]]]]) -> list[list[float]]:
        """For each (analysed sentence, variants): the log-probability gain of each variant (token ids of an edited
        sentence) over the sentence, counted from the first changed token to `window` tokens past the last one.

        The shared prefix is not run again: each variant is fed from its first changed token on top of its sentence's
        cached keys and values. Variants of many sentences and change points share one forward pass, their cached
        prefixes right-padded to the longest and the gap masked: a pass over one or two rows costs nearly what one
        over thirty does (on 2 CPU cores 160 ms for one row of SmolLM2, 26 ms a row in a batch of 32).
        """
        from transformers import DynamicCache

        rows = []  # (job, variant, first changed token d, tokens to feed, targets)
        gains = [[0.0] * len(variants) for _, variants in jobs]
        for j, (analysis, variants) in enumerate(jobs):
            original = analysis.scored.token_ids
            for v, ids in enumerate(variants):
                d = _first_difference(original, ids)
                same_tail = _common_suffix(original[d:], ids[d:])
                end_o = min(len(original), len(original) - same_tail + self.window)
                end_v = min(len(ids), len(ids) - same_tail + self.window)
                # the first changed token is predicted by the prefix the original already ran
                first = float(analysis.rows[d, ids[d]]) if d < len(ids) else 0.0
                gains[j][v] = first - float(analysis.token_logprobs[d:end_o].sum())
                if end_v - 1 > d:
                    rows.append((j, v, d, ids[d : end_v - 1], ids[d + 1 : end_v]))
        p = len(self.prefix)
        rows.sort(key=lambda r: (r[2], len(r[3])))  # similar prefix and feed lengths: less padding
        for begin in range(0, len(rows), self.batch_size):
            batch = rows[begin : begin + self.batch_size]
            prefix = p + max(r[2] for r in batch)
            width = max(len(r[3]) for r in batch)
            ids = torch.zeros((len(batch), width), dtype=torch.long)
            mask = torch.zeros((len(batch), prefix + width), dtype=torch.long)
            positions = torch.zeros((len(batch), width), dtype=torch.long)
            layers = []
            for keys, values in jobs[batch[0][0]][0].cache:
                shape = (len(batch), keys.shape[1], prefix, keys.shape[3])
                layers.append((keys.new_zeros(shape), values.new_zeros(shape)))
            for row, (j, _, d, feed, _) in enumerate(batch):
                ids[row, : len(feed)] = torch.tensor(feed, dtype=torch.long)
                mask[row, : p + d] = 1
                mask[row, prefix : prefix + len(feed)] = 1
                positions[row] = torch.arange(p + d, p + d + width)
                for (keys, values), (k, v) in zip(layers, jobs[j][0].cache, strict=True):
                    keys[row, :, : p + d] = k[0, :, : p + d]
                    values[row, :, : p + d] = v[0, :, : p + d]
            logits = self.model(
                input_ids=ids.to(self.device),
                attention_mask=mask.to(self.device),
                cache=DynamicCache(layers),
                position_ids=positions.to(self.device),
            ).logits.float()
            logprobs = torch.log_softmax(logits, dim=-1).cpu()
            for row, (j, v, _, _, targets) in enumerate(batch):
                gains[j][v] += float(logprobs[row, torch.arange(len(targets)), torch.tensor(targets)].sum())
        return gains


@lru_cache(maxsize=2)
def _load_language_model(model: str, dtype: str, context: str) -> LanguageModel:
    from rl.models import PolicySpec, load_policy

    # "auto" loads bf16 on a GPU and fp32 on a CPU (rl.models.torch_dtype); a CPU may then trade up to bf16.
    lm_model, tokenizer = load_policy(PolicySpec(model=model, dtype=dtype))
    if dtype == "auto" and lm_model.device.type == "cpu":
        lm_model = _fastest_precision(lm_model, model)
    return LanguageModel(lm_model, tokenizer, context=context)


# sentences x tokens: sentences as long as the corrector's, in a quarter of its batch. Each process that loads the
# model pays for the trial (a 32-sentence batch took 21 s, 3 x fp32 + 3 x bf16, on a 2-core AMD EPYC with
# AVX512-BF16; 8 sentences gave the same 2.0x ratio in 5.5 s)
PRECISION_TRIAL_BATCH = (8, 48)


def _fastest_precision(fp32_model, name: str):
    """The fp32 model, or a bf16 copy where bf16 scores faster on this CPU."""
    from rl.models import bf16_is_faster, cpu_has_bf16_units

    if not cpu_has_bf16_units():
        return fp32_model
    bf16_model = copy.deepcopy(fp32_model).to(torch.bfloat16)
    input_ids = torch.full(PRECISION_TRIAL_BATCH, 1000, dtype=torch.long)

    def forward(bf16: bool) -> None:
        with torch.inference_mode():
            (bf16_model if bf16 else fp32_model)(input_ids=input_ids, attention_mask=torch.ones_like(input_ids))

    return bf16_model if bf16_is_faster(forward, (name, "causal-lm", torch.get_num_threads())) else fp32_model


def _common_suffix(a: list[int], b: list[int]) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[-1 - n] == b[-1 - n]:
        n += 1
    return n


@dataclass
class Correction:
    sentence: str
    corrected: str
    applied: list[Span] = field(default_factory=list)
    gain: float = 0.0  # log-likelihood gain (nats) of the corrected sentence over the original


@dataclass
class CorrectorSettings:
    threshold: float = DEFAULT_THRESHOLD  # minimum log-probability gain (nats) for an edit to count as a correction
    # extra nats by kind of candidate (rl.config.DEFAULT_KIND_MARGINS): on the project's own corrupted sentences
    # spelling fixes hold at the threshold, while inflections and swapped prepositions and articles still harm a nat
    # or more above it (bench/rewriter.py --tune-threshold)
    kind_margins: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_KIND_MARGINS))
    prefilter: float = -1.0  # candidates whose first changed token loses more than this (nats) are not scored
    # candidates scored (over a window past the change) per sentence and round: 16 against 10 scored 10 more fixes
    # and no more harms on the project's own sentences (--tune-threshold), for 8% more time once scored in shared passes
    max_scored: int = 16
    # inserted function words scored besides them: five words at every gap would otherwise crowd out the rest
    max_inserted: int = 3
    rounds: int = 2  # a second round corrects what the first made visible ("he go to school" -> ... )
    # sentences analysed at once: each analysis keeps a tokens x vocabulary table of log-probabilities (about 6 MB a
    # sentence for SmolLM2) until its candidates are scored; 100 essays at once took 11 GB
    chunk_size: int = 64

    @classmethod
    def of(cls, rewriter) -> "CorrectorSettings":
        """The corrector a recipe's rewriter settings (rl.config.RewriterSettings) ask for."""
        return cls(threshold=rewriter.correction_threshold, kind_margins=rewriter.kind_margins)


def _first_difference(a: list[int], b: list[int]) -> int:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i
    return min(len(a), len(b))


def _overlaps(a: Span, b: Span) -> bool:
    return a.start <= b.end and b.start <= a.end  # touching spans overlap too: they change the same word boundary


class Corrector:
    """Propose and verify corrections of sentences with a language model."""

    def __init__(self, lm: LanguageModel, settings: CorrectorSettings | None = None):
        self.lm = lm
        self.settings = settings or CorrectorSettings()

    def scored_candidates(
        self, analyses: Sequence[Analysis], settled: Sequence[Sequence[Range]] | None = None
    ) -> list[list[tuple[float, Span]]]:
        """For each analysed sentence, (log-probability gain, span) of its shortlisted candidates, best first; none
        changes a `settled` (start, end) range of its sentence, text an earlier round already corrected. The
        shortlists of all the sentences are scored in shared batches."""
        shortlists = [self._shortlist(analysis, settled[i] if settled else ()) for i, analysis in enumerate(analyses)]
        jobs = [
            (analysis, [ids for _, ids in shortlist]) for analysis, shortlist in zip(analyses, shortlists, strict=True)
        ]
        gains = self.lm.window_gains(jobs)
        return [
            sorted(((g, span) for g, (span, _) in zip(sentence_gains, shortlist, strict=True)), key=lambda g: -g[0])
            for sentence_gains, shortlist in zip(gains, shortlists, strict=True)
        ]

    def _shortlist(self, analysis: Analysis, settled: Sequence[Range]) -> list[tuple[Span, list[int]]]:
        """(span, token ids of the edited sentence) of the candidates whose first changed token looks best."""
        s = self.settings
        original = analysis.scored
        spans = [span for span in candidate_spans(original.text) if not any(_inside(span, r) for r in settled)]
        ranked = []
        for span, ids in zip(spans, self.lm.encode([span.apply(original.text) for span in spans]), strict=True):
            d = _first_difference(original.token_ids, ids)
            if d >= len(ids) or d >= len(original.token_ids):
                continue  # a change at the very end (a dropped full stop): not a correction we look for
            first = float(analysis.rows[d, ids[d]] - analysis.rows[d, original.token_ids[d]])
            if span.kind == "spelling":
                first = max(first, s.prefilter + 1e-3)  # a misspelling's first piece can be likely ("develop|ped")
            if first > s.prefilter:
                ranked.append((first, span, ids))
        ranked.sort(key=lambda r: r[0], reverse=True)
        shortlist = [r for r in ranked if r[1].kind != "insertion"][: s.max_scored]
        shortlist += [r for r in ranked if r[1].kind == "insertion"][: s.max_inserted]
        return [(span, ids) for _, span, ids in shortlist]

    def required_gain(self, kind: str) -> float:
        """Nats a candidate of this kind must gain to be applied."""
        return self.settings.threshold + self.settings.kind_margins.get(kind, 0.0)

    def _propose(self, scored: list[tuple[float, Span]]) -> tuple[list[Span], float]:
        """The non-overlapping candidates of one sentence (scored_candidates) that gain more than the threshold,
        best first, and the best gain."""
        chosen: list[Span] = []
        for gain, span in scored:
            if gain > self.required_gain(span.kind) and not any(_overlaps(span, c) for c in chosen):
                chosen.append(span)
        return chosen, scored[0][0] if scored else 0.0

    def correct(self, sentences: Sequence[str]) -> list[Correction]:
        """The corrected sentences, with every accepted span and the total log-probability gain; a chunk of
        sentences at a time, so memory stays flat however many sentences come in."""
        size = self.settings.chunk_size
        return [c for begin in range(0, len(sentences), size) for c in self._correct(sentences[begin : begin + size])]

    def _correct(self, sentences: Sequence[str]) -> list[Correction]:
        """The corrected sentences, with every accepted span and the total log-probability gain.

        Each round analyses the current sentences once and applies every non-overlapping candidate that gains more
        than the threshold; the next pass checks that the combination gained at least as much as its best single
        edit (edits chosen one by one can clash) and falls back to that edit when it did not. A word corrected in one
        round is not changed again in the next: two stacked guesses lose what the writer marked ("tecnologies" ->
        "technologies" -> "technology").
        """
        current = list(sentences)
        applied: list[list[Span]] = [[] for _ in sentences]
        settled: list[list[Range]] = [[] for _ in sentences]
        start: dict[int, float] = {}
        now: dict[int, float] = {}
        pending: dict[int, tuple[float, str, list[Span], float, list[Range]]] = {}  # before, text, spans, best, settled
        active = list(range(len(sentences)))
        for round_number in range(self.settings.rounds + 1):
            last = round_number == self.settings.rounds
            texts = [current[i] for i in active]
            analyses = [] if last else self.lm.analyse(texts)
            scored = self.lm.score(texts) if last else [a.scored for a in analyses]
            proposing = []  # (position, sentence) of the sentences that look for corrections this round
            for position, i in enumerate(active):
                logprob = scored[position].logprob
                start.setdefault(i, logprob)
                now[i] = logprob
                if i in pending:
                    before, text, spans, best, settled_before = pending.pop(i)
                    if len(spans) > 1 and logprob - before < best - 1e-6:  # the combination lost to its best edit
                        current[i], settled[i] = _apply_spans(text, spans[:1], settled_before)
                        applied[i] += spans[:1]
                        now[i] = before + best
                        continue
                    applied[i] += spans
                if not last:
                    proposing.append((position, i))
            candidates = self.scored_candidates(
                [analyses[position] for position, _ in proposing], [settled[i] for _, i in proposing]
            )
            next_active = []
            for (position, i), scored_spans in zip(proposing, candidates, strict=True):
                chosen, best = self._propose(scored_spans)
                if chosen:
                    pending[i] = (scored[position].logprob, current[i], chosen, best, settled[i])
                    current[i], settled[i] = _apply_spans(current[i], chosen, settled[i])
                    next_active.append(i)
            active = next_active
            if not active:
                break
        results = []
        for i, sentence in enumerate(sentences):
            gain = now[i] - start[i]
            if gain <= self.settings.threshold:  # the exact score disagrees with the windowed ones: no change
                results.append(Correction(sentence, sentence, [], 0.0))
            else:
                results.append(Correction(sentence, current[i], applied[i], gain))
        return results


def _inside(span: Span, settled: Range) -> bool:
    """Whether the span rewrites text of the settled range (an insertion at either edge does not, nor a deletion: a
    word corrected into a duplicate of its neighbour may still go)."""
    start, end = settled
    if not span.text:
        return False
    return span.start < end and start < span.end if span.start != span.end else start < span.start < end


def _apply_spans(sentence: str, spans: list[Span], settled: Sequence[Range] = ()) -> tuple[str, list[Range]]:
    """The sentence with the (non-overlapping) spans applied, and the settled ranges moved to the new text plus the
    ranges the spans wrote (a capital letter settles nothing: "becuse" -> "Becuse" still needs its spelling)."""
    moved = []
    for start, end in settled:
        shift = sum(len(s.text) - (s.end - s.start) for s in spans if s.end <= start)
        moved.append((start + shift, end + shift))
    for span in (s for s in spans if s.kind != "capital"):
        at = span.start + sum(len(s.text) - (s.end - s.start) for s in spans if s.end <= span.start and s is not span)
        moved.append((at, at + len(span.text)))
    for span in sorted(spans, key=lambda s: s.start, reverse=True):  # right to left: offsets stay valid
        sentence = span.apply(sentence)
    return sentence, moved
