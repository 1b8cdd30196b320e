"""The raters' per-change verdicts (EditVerdict) as labels: grouped per change, as sentence-level training data.

Training and the exports read approved ratings only, test-split essays left out (labels.approved_ratings); the staff
agreement page groups the verdicts of every non-rejected rating with the same `edit_rows`.

- `edit_rows(verdicts)`: one row per change of a rewrite with the raters' vote counts and consensus.
- `judged_passages(round_number)`: per rewrite and passage, its changes with their consensus, as
  rl.edit_verdicts.JudgedPassage; the SFT warm start and DPO learn from these (rl.edit_verdicts.accepted_sentence_pairs,
  preference_sentence_pairs) in place of the essay-level pair of a rewrite that has them.
- `labelled_edit_pairs(round_number)`: the plain function an edit-level reward or verifier learns from: one
  rl.edit_verdicts.LabelledEdit per change with a consensus (question, the passage before, the passage with that one
  change applied, label +1 rewrite better / -1 original better / 0 the same).

Gold edits (an injected learner error, rating/gold_edits.py) are counted and exported but never trained on: their
verdict is known in advance and they are not the rewriter's work.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass

from labeling.models import EditVerdict
from rl.edit_verdicts import VERDICTS, JudgedChange, JudgedPassage, LabelledEdit, consensus, labelled_edits

from .labels import approved_ratings


@dataclass(frozen=True)
class EditRow:
    """One change of a rewrite and the raters' verdicts on it."""

    essay_id: int
    rewrite_id: int
    round_number: int | None
    position: int
    question: str
    before: str
    after: str
    original_start: int
    original_end: int
    passage_start: int
    sentence_before: str
    sentence_after: str
    votes: dict[str, int]  # "rewrite" / "original" / "same" -> raters
    consensus: str | None
    gold_expected: str

    @property
    def n(self) -> int:
        return sum(self.votes.values())


def edit_rows(verdicts) -> list[EditRow]:
    """The verdicts of an EditVerdict queryset grouped per change (rewrite, position), in reading order."""
    grouped: dict[tuple[int, int], list[EditVerdict]] = defaultdict(list)
    ordered = verdicts.select_related("rating__item__essay__prompt", "rating__item__batch__training_round").order_by(
        "rating__item__rewrite_id", "position", "pk"
    )
    for verdict in ordered:
        grouped[(verdict.rating.item.rewrite_id, verdict.position)].append(verdict)
    rows = []
    for (rewrite_id, position), given in grouped.items():
        first, item = given[0], given[0].rating.item
        votes = Counter(v.verdict for v in given)
        training_round = item.batch.training_round
        rows.append(
            EditRow(
                essay_id=item.essay_id,
                rewrite_id=rewrite_id,
                round_number=training_round.number if training_round else None,
                position=position,
                question=item.essay.question,
                before=first.before,
                after=first.after,
                original_start=first.original_start,
                original_end=first.original_end,
                passage_start=first.passage_start,
                sentence_before=first.sentence_before,
                sentence_after=first.sentence_after,
                votes={name: votes.get(name, 0) for name in VERDICTS},
                consensus=consensus(v.verdict for v in given),
                gold_expected=first.gold_expected,
            )
        )
    return rows


def approved_edit_rows(round_number: int | None = None, include_test: bool = False) -> list[EditRow]:
    return edit_rows(EditVerdict.objects.filter(rating__in=approved_ratings(round_number, include_test)))


def _trainable(rows: list[EditRow]) -> list[EditRow]:
    return [row for row in rows if not row.gold_expected]


def judged_passages(round_number: int | None = None, rows: list[EditRow] | None = None) -> list[JudgedPassage]:
    """Each passage of a rated rewrite with its judged changes (consensus None where the raters tied)."""
    rows = _trainable(approved_edit_rows(round_number) if rows is None else rows)
    grouped: dict[tuple[int, int], list[EditRow]] = defaultdict(list)
    for row in rows:
        grouped[(row.rewrite_id, row.passage_start)].append(row)
    return [
        JudgedPassage(members[0].question, members[0].sentence_before, tuple(map(_judged_change, members)))
        for members in grouped.values()
    ]


def _judged_change(row: EditRow) -> JudgedChange:
    start = row.original_start - row.passage_start
    return JudgedChange(start, start + (row.original_end - row.original_start), row.after, row.consensus)


def rewrites_with_verdicts(rows: list[EditRow]) -> set[int]:
    """Rewrites with at least one change the raters agreed on: training uses their changes, not the whole essay."""
    return {row.rewrite_id for row in _trainable(rows) if row.consensus is not None}


def labelled_edit_pairs(round_number: int | None = None) -> list[LabelledEdit]:
    """Verdict-labelled sentence pairs for an edit-level reward or verifier (see the module docstring)."""
    return labelled_edits(judged_passages(round_number))
