"""Edits against human corrections: a GEC set (learner sentences with several human corrections) and its figures.

The set's files are one tokenised sentence a line (`dev.src`, `dev.ref0` ...), as JFLEG publishes them. The product
reads ordinary text, so sources are detokenised before a system sees them and outputs are tokenised again for GLEU;
an output equal to the detokenised source is scored as the source line itself, so "no change" is exact.
"""

import difflib
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rl.gleu import corpus_gleu, sentence_gleu
from rl.verdict_model import change_kinds

_CLITICS = r"n't|'s|'re|'ve|'ll|'d|'m|'S|N'T"


@dataclass
class GecSet:
    sources: list[str]  # tokenised, as published
    references: list[list[str]]  # references[k][i]: correction k of sentence i

    @property
    def texts(self) -> list[str]:
        """The sources as a writer typed them (detokenised): what the systems see."""
        return [detokenise(s) for s in self.sources]

    def subset(self, count: int | None) -> "GecSet":
        if not count:
            return self
        return GecSet(self.sources[:count], [r[:count] for r in self.references])


def load_gec_set(folder: str | Path, split: str = "dev") -> GecSet:
    """`split.src` and every `split.ref*` of a folder; a clear error when a file is missing or the lines disagree."""
    folder = Path(folder)
    source_path = folder / f"{split}.src"
    if not source_path.exists():
        raise FileNotFoundError(f"no {source_path}: --gec-dir needs {split}.src and {split}.ref0, {split}.ref1, ...")
    sources = source_path.read_text(encoding="utf-8").splitlines()
    reference_paths = sorted(folder.glob(f"{split}.ref[0-9]*"))
    if not reference_paths:
        raise FileNotFoundError(f"no {split}.ref* files in {folder}")
    references = [p.read_text(encoding="utf-8").splitlines() for p in reference_paths]
    for path, lines in zip(reference_paths, references, strict=True):
        if len(lines) != len(sources):
            raise ValueError(f"{path} has {len(lines)} lines, {source_path} has {len(sources)}")
    return GecSet(sources, references)


def detokenise(tokens: str) -> str:
    """'I do n't like it , he said .' -> "I don't like it, he said." (PTB-style tokenisation undone)."""
    text = " ".join(tokens.split())
    text = re.sub(rf" ({_CLITICS})\b", r"\1", text)
    text = re.sub(r" ([.,!?;:%)\]}])", r"\1", text)
    text = re.sub(r"([(\[{$]) ", r"\1", text)
    return text


def tokenise(text: str) -> str:
    """Ordinary text -> the set's tokenisation: punctuation and clitics split off words."""
    text = re.sub(r"([.,!?;:%()\[\]{}\"$])", r" \1 ", text)
    text = re.sub(rf"(\w)({_CLITICS})\b", r"\1 \2", text)
    return " ".join(text.split())


def _source_words(source_tokens: str) -> list[tuple[str, list[str]]]:
    """(word of the detokenised source, the source tokens it joins): detokenising only removes spaces."""
    tokens, words = source_tokens.split(), []
    position = 0
    for word in detokenise(source_tokens).split():
        joined, group = "", []
        while joined != word and position < len(tokens):
            joined += tokens[position]
            group.append(tokens[position])
            position += 1
        words.append((word, group))
    return words


def as_tokenised(output: str, source_tokens: str) -> str:
    """The output in the set's tokenisation: words kept from the source keep their source tokens exactly (so "no
    change" is the source line), new words are tokenised."""
    source_words = _source_words(source_tokens)
    output_words = output.split()
    matcher = difflib.SequenceMatcher(a=[w for w, _ in source_words], b=output_words, autojunk=False)
    pieces = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pieces += [" ".join(group) for _, group in source_words[i1:i2]]
        else:
            pieces += [tokenise(word) for word in output_words[j1:j2]]
    return " ".join(piece for piece in pieces if piece)


@dataclass
class GecFigures:
    gleu: float
    changed: float  # share of sentences changed
    precision: float  # share of changed sentences whose sentence-level GLEU rose
    harm: float  # share of changed sentences whose sentence-level GLEU fell
    sentences: int
    changed_sentences: int
    # kind of change (rl.verdict_model.change_kinds: one kind, "mixed", or "punctuation" when no word changed) ->
    # {"changed", "rose", "fell"}: which kinds of edit make up the harm
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def change_label(source: str, output: str) -> str:
    kinds = change_kinds(source, output)
    if not kinds:
        return "punctuation"
    return next(iter(kinds)) if len(kinds) == 1 else "mixed"


def evaluate_outputs(gec: GecSet, outputs: list[str]) -> GecFigures:
    """GLEU of detokenised `outputs` (one per source) plus the share of changes that helped and that harmed."""
    if len(outputs) != len(gec.sources):
        raise ValueError(f"{len(outputs)} outputs for {len(gec.sources)} sentences")
    hypotheses = [as_tokenised(o, s) for o, s in zip(outputs, gec.sources, strict=True)]
    by_kind: dict[str, dict[str, int]] = {}
    for i, (hypothesis, source) in enumerate(zip(hypotheses, gec.sources, strict=True)):
        if hypothesis.split() == source.split():
            continue
        references = [r[i] for r in gec.references]
        delta = sentence_gleu(hypothesis, source, references) - sentence_gleu(source, source, references)
        counts = by_kind.setdefault(change_label(source, hypothesis), {"changed": 0, "rose": 0, "fell": 0})
        counts["changed"] += 1
        counts["rose"] += delta > 0
        counts["fell"] += delta < 0
    changed, rose, fell = (sum(counts[k] for counts in by_kind.values()) for k in ("changed", "rose", "fell"))
    n = len(hypotheses)
    return GecFigures(
        gleu=corpus_gleu(hypotheses, gec.sources, gec.references),
        changed=changed / n if n else 0.0,
        precision=rose / changed if changed else 0.0,
        harm=fell / changed if changed else 0.0,
        sentences=n,
        changed_sentences=changed,
        by_kind=dict(sorted(by_kind.items(), key=lambda item: -item[1]["changed"])),
    )


GEC_QUESTION = "Write about a topic you know and give reasons for your opinion."  # a GEC set has no questions


def rewrite_as_essays(rewriter, sentences: list[str], per_essay: int = 12, batch: int = 8) -> list[str]:
    """The product's output for each sentence: the sentences grouped `per_essay` to an essay, one a line (so each
    maps back to its line), rewritten as the product rewrites essays (rl.rewriter.Rewriter.rewrite)."""
    groups = [sentences[i : i + per_essay] for i in range(0, len(sentences), per_essay)]
    outputs = []
    for start in range(0, len(groups), batch):
        chunk = groups[start : start + batch]
        results = rewriter.rewrite([GEC_QUESTION] * len(chunk), ["\n".join(g) for g in chunk])
        for group, result in zip(chunk, results, strict=True):
            lines = result.text.split("\n")
            outputs += lines if len(lines) == len(group) else group  # edits never add line breaks; safe anyway
    return outputs
