"""The raters' per-edit verdicts as sentence-level training data: SFT targets, DPO pairs, labelled edits.

Raters judge each change of a pair (rl/changes.py) as better in the rewrite ("rewrite"), better in the original
("original") or about the same ("same"); the consensus of a change is the verdict with the most votes (a tie has
none). A passage (the sentence or sentences of the original that hold changes) then gives:

- its accepted version: the original passage with the changes the raters preferred applied, and nothing else;
- an SFT target when some change was accepted: passage -> accepted version;
- a DPO pair when the raters preferred something: chosen = accepted version, rejected = the accepted version plus
  the changes they rejected, or, when they rejected none, the passage left as it was;
- one labelled edit per judged change (the passage before and after that one change, +1 / -1 / 0), the signal an
  edit-level reward or verifier learns from.

No Django here: labeling/corpus/edit_labels.py reads the verdicts from the database and builds these objects.
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

REWRITE, ORIGINAL, SAME = "rewrite", "original", "same"
VERDICTS = (REWRITE, ORIGINAL, SAME)
LABELS = {REWRITE: 1, ORIGINAL: -1, SAME: 0}


def consensus(votes: Iterable[str]) -> str | None:
    """The verdict with strictly the most votes; None for no votes or a tie."""
    ranked = Counter(votes).most_common()
    if not ranked or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
        return None
    return ranked[0][0]


@dataclass(frozen=True)
class JudgedChange:
    start: int  # the change in the passage of the original, [start, end)
    end: int
    after: str  # what the rewrite has there
    verdict: str | None  # the consensus: "rewrite", "original", "same", or None


@dataclass(frozen=True)
class JudgedPassage:
    question: str
    passage: str  # the sentence(s) of the original
    changes: tuple[JudgedChange, ...]

    def with_changes(self, verdicts: Sequence[str]) -> str:
        """The passage with the changes whose consensus is in `verdicts` applied."""
        text = self.passage
        for change in sorted(self.changes, key=lambda c: c.start, reverse=True):
            if change.verdict in verdicts:
                text = text[: change.start] + change.after + text[change.end :]
        return text

    @property
    def accepted(self) -> str:
        return self.with_changes([REWRITE])


@dataclass(frozen=True)
class SentencePair:
    """A sentence-level preference: `chosen` and `rejected` are versions of `before`."""

    question: str
    before: str
    chosen: str
    rejected: str


@dataclass(frozen=True)
class LabelledEdit:
    """One judged change: the passage before and after that change alone, label +1 (better), -1 (worse), 0 (same)."""

    question: str
    before: str
    after: str
    label: int
    verdict: str


def accepted_sentence_pairs(passages: Iterable[JudgedPassage]) -> list[tuple[str, str, str]]:
    """(question, passage, accepted version) for each passage where the raters accepted at least one change."""
    return [(p.question, p.passage, p.accepted) for p in passages if p.accepted != p.passage]


def preference_sentence_pairs(passages: Iterable[JudgedPassage]) -> list[SentencePair]:
    """One pair per passage the raters preferred something in: the accepted version against the rejected edits, or
    against leaving the passage as it was."""
    pairs = []
    for p in passages:
        chosen = p.accepted
        with_rejected = p.with_changes([REWRITE, ORIGINAL])
        rejected = with_rejected if with_rejected != chosen else p.passage
        if chosen != rejected:
            pairs.append(SentencePair(p.question, p.passage, chosen, rejected))
    return pairs


def labelled_edits(passages: Iterable[JudgedPassage]) -> list[LabelledEdit]:
    """One example per change with a consensus: the passage with that change alone applied, labelled."""
    examples = []
    for p in passages:
        for change in p.changes:
            if change.verdict is None:
                continue
            after = p.passage[: change.start] + change.after + p.passage[change.end :]
            examples.append(LabelledEdit(p.question, p.passage, after, LABELS[change.verdict], change.verdict))
    return examples
