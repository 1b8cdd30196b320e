"""The rewriter: prompts, batched generation, output cleaning and the guard.

Two output formats:
- "edits" (default): the policy sees one sentence at a time and answers with
  `wrong => right` lines or `OK` (rl/edits.py). Cheap on a CPU and minimal by construction.
- "full": the policy sees the question and the whole essay and writes the edited essay; the output is cleaned of
  preambles ("Here's the edited version:") and trailing lists of changes. For large models on a GPU.

Beside the policy's proposals, the language-model-scored corrector (rl/corrector.py) proposes corrections of its own
(spelling, inflection, articles, prepositions, confusable words), and every proposal of the policy is judged by the
same language model and the degenerate-edit rules (rl/verifier.py) before the scorer sees it: only verified fixes
go on. The guard replaces a rewrite by the original ("no change" is always safe) when it is empty, truncated, far off
the original length, changes too many characters, or its reward (rl.reward.edit_reward: the mission's formula, gated
and topped up by the verdicts) is not positive.
"""

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from rl.config import RewriterSettings
from rl.edits import (
    Edit,
    apply_edits,
    apply_sentence_edits,
    english_lexicon,
    implausible_reason,
    parse_edit_lines,
    sentence_spans,
)
from rl.reward import BandPredictor, chars_changed, edit_reward, reward
from rl.verdict_model import load_verdict_model
from rl.verifier import degenerate_reason, rewrite_verdicts

SYSTEM_PROMPT = "Correct the English errors in IELTS essay text. Change as little as possible."
# Sentence prompts carry no question: it doubled the prompt (and CPU training/prefill time) for no help with grammar.
EDIT_INSTRUCTION = "Corrections as `wrong => right` lines, or OK:"

FEW_SHOT_EXAMPLES = [
    (
        "Some people think that universities should provide graduates with the knowledge for the workplace.",
        "In my opinion, goverment should invest more money in public transport.",
        "goverment should => the government should",
    ),
    (
        "Many people believe that social media has a negative effect on young people.",
        "Young people spend many hours on their phones every day.",
        "OK",
    ),
    (
        "Some people say that the best way to improve public health is by increasing sports facilities.",
        "Regular exercise help people to stay healthy and it reduce stress.",
        "exercise help => exercise helps\nit reduce => it reduces",
    ),
]


def sentence_messages(question: str, sentence: str, few_shot: bool = False) -> list[dict]:
    """Chat messages asking for the edits of one sentence (`question` is kept for the "full" format's symmetry)."""
    messages = [{"role": "system", "content": SYSTEM_PROMPT}]
    examples = FEW_SHOT_EXAMPLES if few_shot else []
    for example_question, example_sentence, answer in examples:
        messages.append({"role": "user", "content": sentence_user_text(example_question, example_sentence)})
        messages.append({"role": "assistant", "content": answer})
    messages.append({"role": "user", "content": sentence_user_text(question, sentence)})
    return messages


def sentence_user_text(question: str, sentence: str) -> str:
    return f"{sentence}\n{EDIT_INSTRUCTION}"


def essay_messages(question: str, essay: str) -> list[dict]:
    """Chat messages asking for the whole edited essay ("full" format)."""
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {
            "role": "user",
            "content": f"Question: {question}\n\nEssay:\n{essay}\n\n"
            "Rewrite the essay with its errors corrected. Keep everything else exactly as it is. "
            "Write only the essay.",
        },
    ]


_PREAMBLE = re.compile(
    r"^\s*(?:sure|certainly|of course|okay|ok|here(?:'s| is| are)|below is|the following is|"
    r"(?:the\s+)?(?:edited|revised|corrected|improved|rewritten|updated)\s+(?:version|essay|text))\b[^\n]*:\s*(?:\n|$)",
    re.IGNORECASE,
)
_CHANGES_HEADER = re.compile(
    r"\n\s*(?:\*\*|#+\s*)?(?:changes(?: made)?|corrections(?: made)?|edits(?: made)?|explanation|notes?|"
    r"i (?:made|have made) the following|the following changes)\b[^\n]*:?[^\n]*\n[\s\S]*$",
    re.IGNORECASE,
)
_TRAILING_LIST = re.compile(r"(?:\n\s*(?:[-*•]|\d+[.)])\s+[^\n]*)+\s*$")


def clean_rewrite(output: str) -> str:
    """The essay inside a model's full-text answer: no preamble, no trailing list of changes, no wrapping quotes."""
    text = output.strip()
    text = re.sub(r"^```[a-z]*\n|\n```$", "", text).strip()
    for _ in range(2):  # "Sure! Here's the edited version:" can be two preamble lines
        text = _PREAMBLE.sub("", text, count=1).lstrip()
    text = _CHANGES_HEADER.sub("", text).rstrip()
    text = _TRAILING_LIST.sub("", text).rstrip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1].strip()
    return text


@dataclass
class RewriteResult:
    text: str
    chars_changed: int
    guard_applied: bool  # True: the rewrite was rejected and `text` is the original
    reason: str  # why the guard stepped in ("empty", "truncated", "length", "too_many_changes", "not_better"), or "ok"
    band_before: float
    band_after: float
    proposed: str = ""  # what the policy proposed before the guard (for inspection and DPO pairs)


@dataclass
class GenerationStats:
    new_tokens: int = 0
    seconds: float = 0.0
    implausible_edits: int = 0  # proposed edits dropped before the scorer (see rl.edits.implausible_reason)
    unverified_edits: int = 0  # policy edits the language model did not find a fix (rl.verifier)
    policy_edits: int = 0  # policy edits that passed every check
    corrector_sentences: int = 0  # sentences the corrector changed
    corrector_seconds: float = 0.0

    @property
    def tokens_per_s(self) -> float:
        return self.new_tokens / self.seconds if self.seconds else 0.0


@dataclass
class Candidate:
    """One proposed rewrite of one essay before the scorer sees it."""

    essay_index: int
    text: str
    edits: list[tuple[int, Edit]] = field(default_factory=list)  # (sentence index, edit); empty in "full" format
    problem: str = ""  # set by the pre-scorer checks


class Rewriter:
    def __init__(
        self,
        model,
        tokenizer,
        scorer: BandPredictor,
        settings: RewriterSettings | None = None,
        language_model=None,
        base_model: str | None = None,
    ):
        self.model = model
        self.tokenizer = tokenizer
        self.scorer = scorer
        self.settings = settings or RewriterSettings()
        self.stats = GenerationStats()
        self._language_model = language_model
        self.base_model = base_model

    @property
    def language_model(self):
        """The base model as a plain language model (no adapter): the corrector's and the verifier's judge."""
        if self._language_model is None:
            from rl.corrector import LanguageModel

            if self.base_model is None:
                raise ValueError("the corrector and the edit verifier need a language model or a base model name")
            self._language_model = LanguageModel.for_rewriter(self.base_model, self.settings)
        return self._language_model

    # --- generation ---------------------------------------------------------------------------------------------

    @torch.no_grad()
    def generate(self, conversations: list[list[dict]], max_new_tokens: int) -> list[tuple[str, bool]]:
        """(answer, truncated) for each conversation, num_candidates answers each, in order."""
        s = self.settings
        prompts = [
            self.tokenizer.apply_chat_template(c, tokenize=False, add_generation_prompt=True) for c in conversations
        ]
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))  # similar lengths: less padding
        answers: dict[int, list[tuple[str, bool]]] = {}
        device = next(self.model.parameters()).device
        sampling = s.num_candidates > 1
        for begin in range(0, len(order), s.batch_size):
            batch = order[begin : begin + s.batch_size]
            inputs = self.tokenizer(
                [prompts[i] for i in batch], return_tensors="pt", padding=True, add_special_tokens=False
            ).to(device)
            started = time.perf_counter()
            output = self.model.generate(
                **inputs,
                max_new_tokens=max_new_tokens,
                do_sample=sampling,
                temperature=s.temperature if sampling else None,
                top_p=None,
                top_k=None,
                num_return_sequences=s.num_candidates,
                pad_token_id=self.tokenizer.pad_token_id,
            )
            self.stats.seconds += time.perf_counter() - started
            new = output[:, inputs["input_ids"].shape[1] :]
            eos = self.tokenizer.eos_token_id
            for row, tokens in enumerate(new):
                finished = (tokens == eos).nonzero()
                length = int(finished[0]) if len(finished) else len(tokens)
                self.stats.new_tokens += length + (1 if len(finished) else 0)
                text = self.tokenizer.decode(tokens[:length], skip_special_tokens=True)
                answers.setdefault(batch[row // s.num_candidates], []).append((text, not len(finished)))
        return [answer for i in range(len(prompts)) for answer in answers[i]]

    def propose(self, questions: Sequence[str], essays: Sequence[str]) -> list[list[Candidate]]:
        """Candidate rewrites per essay, before the scorer: one per verified policy edit, one per sentence the
        corrector changed."""
        s = self.settings
        if s.output_format == "full":
            return self._propose_full(questions, essays)
        sentences = {e: [essay[a:b] for a, b in sentence_spans(essay)] for e, essay in enumerate(essays)}
        edits_by_essay = self._policy_edits(questions, essays, sentences) if s.num_candidates > 0 else {}
        candidates: list[list[Candidate]] = []
        for e, essay in enumerate(essays):
            candidates.append(
                [Candidate(e, apply_edits_to_essay(essay, [edit]), [edit]) for edit in edits_by_essay.get(e, [])]
            )
        if s.corrector:
            self._add_corrections(essays, sentences, candidates)
        return candidates

    def _policy_edits(self, questions, essays, sentences) -> dict[int, list[tuple[int, Edit]]]:
        s = self.settings
        jobs = [(e, k) for e in range(len(essays)) for k in range(len(sentences[e]))]
        conversations = [sentence_messages(questions[e], sentences[e][k], s.few_shot) for e, k in jobs]
        answers = self.generate(conversations, s.max_new_tokens) if conversations else []
        edits_by_essay: dict[int, list[tuple[int, Edit]]] = {e: [] for e in range(len(essays))}
        lexicon = english_lexicon() if s.plausibility_check else frozenset()
        for position, (e, k) in enumerate(jobs):
            for text, truncated in answers[position * s.num_candidates : (position + 1) * s.num_candidates]:
                for edit in parse_edit_lines(text, sentences[e][k], truncated):
                    sentence = sentences[e][k]
                    edited = apply_edits(sentence, [edit])
                    context = questions[e] + " " + essays[e]
                    if s.plausibility_check and implausible_reason(sentence, edited, context, lexicon):
                        self.stats.implausible_edits += 1
                        continue
                    if (k, edit) not in edits_by_essay[e]:
                        edits_by_essay[e].append((k, edit))
        if s.edit_verifier:  # only edits the language model finds a fix go on: the policy's guesses are often not
            from rl.verdict_model import raise_by_kind
            from rl.verifier import verdicts

            flat = [(e, k, edit) for e, edits in edits_by_essay.items() for k, edit in edits]
            pairs = [(sentences[e][k], apply_edits(sentences[e][k], [edit])) for e, k, edit in flat]
            judged = raise_by_kind(pairs, verdicts(self.language_model, pairs, s.correction_threshold), s.kind_margins)
            edits_by_essay = {e: [] for e in range(len(essays))}
            for (e, k, edit), verdict in zip(flat, judged, strict=True):
                if verdict.fix:
                    edits_by_essay[e].append((k, edit))
                else:
                    self.stats.unverified_edits += 1
        self.stats.policy_edits += sum(len(v) for v in edits_by_essay.values())
        return edits_by_essay

    def _add_corrections(self, essays, sentences, candidates: list[list[Candidate]]) -> None:
        """One candidate per sentence the corrector changed (its edits as `wrong => right` lines)."""
        from rl.corrector import Corrector, CorrectorSettings
        from rl.edits import diff_edits

        s = self.settings
        started = time.perf_counter()
        jobs = [(e, k) for e in range(len(essays)) for k in range(len(sentences[e]))]
        corrector = Corrector(self.language_model, CorrectorSettings.of(s))
        corrections = corrector.correct([sentences[e][k] for e, k in jobs])
        for (e, k), correction in zip(jobs, corrections, strict=True):
            if correction.corrected == correction.sentence:
                continue
            if degenerate_reason(correction.sentence, correction.corrected):
                continue
            edits = [(k, edit) for edit in diff_edits(correction.sentence, correction.corrected)]
            text = apply_edits_to_essay(essays[e], edits)
            if text != essays[e] and all(c.text != text for c in candidates[e]):
                candidates[e].append(Candidate(e, text, edits))
                self.stats.corrector_sentences += 1
        self.stats.corrector_seconds += time.perf_counter() - started

    def _propose_full(self, questions, essays) -> list[list[Candidate]]:
        conversations = [essay_messages(q, e) for q, e in zip(questions, essays, strict=True)]
        budget = max(len(self.tokenizer(e)["input_ids"]) for e in essays) * 5 // 4 + 32
        answers = self.generate(conversations, budget)
        candidates: list[list[Candidate]] = [[] for _ in essays]
        for position, (text, truncated) in enumerate(answers):
            e = position // self.settings.num_candidates
            candidate = Candidate(e, clean_rewrite(text))
            if truncated:
                candidate.problem = "truncated"
            candidates[e].append(candidate)
        return candidates

    # --- guard --------------------------------------------------------------------------------------------------

    def precheck(self, original: str, candidate: Candidate) -> str:
        """The guard's checks that need no scorer; "" when the candidate may go to the scorer."""
        s = self.settings
        if candidate.problem:
            return candidate.problem
        if not candidate.text.strip():
            return "empty"
        if abs(len(candidate.text) - len(original)) > s.max_length_ratio_change * len(original):
            return "length"
        if chars_changed(original, candidate.text) > s.max_chars_changed:
            return "too_many_changes"
        if candidate.text == original:
            return "no_change"
        return ""

    def rewrite(self, questions: Sequence[str], essays: Sequence[str]) -> list[RewriteResult]:
        questions, essays = list(questions), list(essays)
        proposals = self.propose(questions, essays)
        return self.guard(questions, essays, proposals)

    def guard(self, questions: list[str], essays: list[str], proposals: list[list[Candidate]]) -> list[RewriteResult]:
        """Score the originals and every candidate that passed the pre-checks; combine the edits that help.

        With the edit verifier a candidate helps when its edit reward is positive (the verdicts gate and top up the
        mission's formula); without it, when the band rises by more than min_band_gain.
        """
        s = self.settings
        reasons: list[str] = []
        first_pass: list[list[Candidate]] = []
        for e, candidates in enumerate(proposals):
            for c in candidates:
                c.essay_index = e  # the position in this call is what the score cache is keyed on
            checked = [c for c in candidates if not self.precheck(essays[e], c)]
            first_pass.append(checked)
            problems = [self.precheck(essays[e], c) for c in candidates]
            if not candidates:
                reasons.append("no_edits" if s.output_format == "edits" else "empty")
            else:
                reasons.append("" if checked else problems[0])
        band_of = self._score(questions, essays, [c for cs in first_pass for c in cs])
        before = [band_of[(e, essays[e])] for e in range(len(essays))]
        verdict_of = self._verdicts(essays, first_pass)

        def value(e: int, c: Candidate) -> float:
            changed = chars_changed(essays[e], c.text)
            if s.edit_verifier:
                return edit_reward(before[e], band_of[(e, c.text)], changed, verdict_of[(e, c.text)],
                                   s.char_penalty, s.edit_weight)  # fmt: skip
            return reward(before[e], band_of[(e, c.text)], changed, s.char_penalty)

        def helps(e: int, c: Candidate) -> bool:
            if s.edit_verifier:
                return value(e, c) > 0
            return band_of[(e, c.text)] > before[e] + s.min_band_gain

        # Edits that help on their own are tried together, best first while the checks allow (one more scorer call)
        combined: list[Candidate] = []
        for e, checked in enumerate(first_pass):
            helpful = sorted((c for c in checked if c.edits and helps(e, c)), key=lambda c: value(e, c), reverse=True)
            if len(helpful) < 2:
                continue
            edits: list[tuple[int, Edit]] = list(helpful[0].edits)
            for c in helpful[1:]:
                trial = Candidate(e, apply_edits_to_essay(essays[e], edits + c.edits), edits + c.edits)
                if not self.precheck(essays[e], trial):
                    edits = trial.edits
            if len(edits) > len(helpful[0].edits):
                merged = Candidate(e, apply_edits_to_essay(essays[e], edits), edits)
                combined.append(merged)
                checked.append(merged)
        band_of.update(self._score(questions, essays, combined, include_originals=False))
        verdict_of.update(self._verdicts(essays, [[c] for c in combined], [c.essay_index for c in combined]))

        results = []
        for e, checked in enumerate(first_pass):
            original = essays[e]
            best, best_value = None, None
            for c in checked:
                if helps(e, c) and (best_value is None or value(e, c) > best_value):
                    best, best_value = c, value(e, c)
            proposed = checked[0].text if checked else (proposals[e][0].text if proposals[e] else "")
            if best is None:
                reason = reasons[e] or "not_better"
                results.append(RewriteResult(original, 0, True, reason, before[e], before[e], proposed))
            else:
                changed = chars_changed(original, best.text)
                results.append(
                    RewriteResult(best.text, changed, False, "ok", before[e], band_of[(e, best.text)], best.text)
                )
        return results

    def _verdicts(self, essays, groups: list[list[Candidate]], indices: list[int] | None = None) -> dict:
        """(essay index, text) -> the verdicts on its changed sentences; empty when the verifier is off."""
        keys = []
        for position, candidates in enumerate(groups):
            e = indices[position] if indices is not None else position
            keys += [(e, c.text) for c in candidates]
        if not self.settings.edit_verifier or not keys:
            return {key: [] for key in keys}
        s = self.settings
        judged = rewrite_verdicts(
            self.language_model,
            [essays[e] for e, _ in keys],
            [t for _, t in keys],
            s.verdict_threshold,
            load_verdict_model(s.verdict_model),
        )
        return dict(zip(keys, judged, strict=True))

    @classmethod
    def from_spec(cls, spec, scorer: BandPredictor, settings: RewriterSettings | None = None) -> "Rewriter":
        """A rewriter for a PolicySpec (base model plus optional adapter), ready to generate."""
        from rl.models import load_policy

        settings = settings or RewriterSettings()
        if settings.num_candidates == 0 and settings.output_format == "edits":
            return cls(None, None, scorer, settings, base_model=spec.model)  # corrector only: no policy to load
        model, tokenizer = load_policy(spec)
        return cls(model, tokenizer, scorer, settings, base_model=spec.model)

    def _score(self, questions, essays, candidates: list[Candidate], include_originals: bool = True) -> dict:
        keys, qs, texts = [], [], []
        if include_originals:
            for e, essay in enumerate(essays):
                keys.append((e, essay))
                qs.append(questions[e])
                texts.append(essay)
        for c in candidates:
            if (c.essay_index, c.text) not in keys:
                keys.append((c.essay_index, c.text))
                qs.append(questions[c.essay_index])
                texts.append(c.text)
        bands = self.scorer.predict_bands(qs, texts) if texts else []
        return dict(zip(keys, (float(b) for b in bands), strict=True))


def apply_edits_to_essay(essay: str, edits: list[tuple[int, Edit]]) -> str:
    by_sentence: dict[int, list[Edit]] = {}
    for sentence_index, edit in edits:
        by_sentence.setdefault(sentence_index, []).append(edit)
    return apply_sentence_edits(essay, by_sentence)
