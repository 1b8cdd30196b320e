"""A verdict learnt from the raters: P(a teacher accepts a change) from the language model's gain and the change's kind.

The verifier's rule (rl/verifier.py) calls a changed sentence a fix past a log-likelihood gain of `threshold` nats.
Raters can disagree with a language model systematically: it likes "For the => In the" swaps that teachers reject.
This model is a logistic regression over
- the language model's gain (nats, clipped) and whether a degenerate-edit rule fired;
- the kinds of the change (spelling, inflection, article, preposition, word choice, insertion, deletion), told apart
  with the same helpers the corrector's candidates use (rl/candidates.py);
- the characters changed and the content words added.
It is fitted on the raters' per-change labels (rl.edit_verdicts.LabelledEdit: +1 accepted, -1 rejected, 0 the same,
which counts half each way) plus, as pseudo-labels of those same edits, the rule's verdicts (a fix accepted, a harm
rejected, neither half each way) worth PRIOR_LABELS labels in all: with few labels the model stays near the rule,
with many the raters decide. Below MIN_LABELS labelled edits no model is fitted and the verifier is the rule alone.

No torch here; scikit-learn is imported only to fit. A fitted model is a few coefficients saved as JSON.
"""

import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

MIN_LABELS = 30  # labelled edits before a learnt verdict replaces the rule (rewriter.verdict_min_labels)
PRIOR_LABELS = 10.0  # the rule's pseudo-labels weigh this many raters' labels in all
GAIN_CLIP = 20.0  # nats
# The model's side of 0.5 decides a verdict's direction; where the rule disagrees, the model must be this sure
# (P >= 0.5 + margin for a fix, P < 0.5 - margin for a harm), else the change counts as neither.
CONFIDENT_MARGIN = 0.15
KINDS = ("spelling", "inflection", "article", "preposition", "word_choice", "insertion", "deletion")
FEATURES = ("gain", "rule_fired", *(f"kind_{k}" for k in KINDS), "log_chars", "content_added")
_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?|\d+")


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def _hunk_kind(removed: list[str], added: list[str]) -> str:
    """The kind of one run of changed words (`removed` in the old sentence replaced by `added`)."""
    from rl.candidates import ARTICLES, INSERTED_WORDS, PREPOSITIONS, inflections, is_known
    from rl.verifier import is_variant, lemmas_of

    if not removed and len(added) == 1 and added[0] in INSERTED_WORDS:
        return "insertion"  # a left-out "to" or "of" put back, as the corrector's insertion candidates call it
    words = set(removed) | set(added)
    if words <= set(ARTICLES):
        return "article"
    if words <= set(PREPOSITIONS) | set(ARTICLES):
        return "preposition"
    if not removed:
        return "insertion"
    if not added:
        return "deletion"
    if "".join(removed) == "".join(added):
        return "spelling"  # "alot" -> "a lot", "can not" -> "cannot"
    if len(removed) == len(added) == 1:
        old, new = removed[0], added[0]
        if new in inflections(old) or lemmas_of(old) & lemmas_of(new):
            return "inflection"
        if not is_known(old) and is_variant(old, new):
            return "spelling"
    return "word_choice"


def change_kinds(old: str, new: str) -> Counter:
    """How many runs of changed words of each kind turn `old` into `new` (punctuation alone has no kind)."""
    import difflib

    before, after = _words(old), _words(new)
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    return Counter(
        _hunk_kind(before[i1:i2], after[j1:j2]) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"
    )


def kind_margin(old: str, new: str, margins: dict[str, float]) -> float:
    """The largest of `margins` (extra nats by the corrector's kinds of edit, rewriter.kind_margins) over the kinds of
    change from `old` to `new`, so that a policy's edit needs what the corrector's edit of the same kind needs."""
    corrector_kind = {"word_choice": "confusion"}  # the corrector's confusion sets are its word-choice edits
    return max((margins.get(corrector_kind.get(k, k), 0.0) for k in change_kinds(old, new)), default=0.0)


def raise_by_kind(pairs: Sequence[tuple[str, str]], judged: list, margins: dict[str, float]) -> list:
    """The verdicts (rl.verifier.Verdict) on the (old, new) pairs with each threshold raised by its kind margin."""
    for (old, new), verdict in zip(pairs, judged, strict=True):
        verdict.threshold += kind_margin(old, new, margins)
    return judged


def features(old: str, new: str, gain: float, reason: str) -> list[float]:
    """The model's inputs for changing `old` into `new`, in FEATURES order."""
    from rapidfuzz.distance import Levenshtein

    from rl.verifier import FUNCTION_WORDS

    kinds = change_kinds(old, new)
    content_before, content_after = (
        [w for w in _words(t) if w.isalpha() and w not in FUNCTION_WORDS] for t in (old, new)
    )
    return [
        max(-GAIN_CLIP, min(GAIN_CLIP, gain)) / 4.0,
        1.0 if reason else 0.0,
        *(float(min(kinds[k], 3)) for k in KINDS),
        math.log1p(Levenshtein.distance(old, new)),
        float(min(max(0, len(content_after) - len(content_before)), 3)),  # net: a replaced word adds nothing
    ]


def rule_label(gain: float, reason: str, threshold: float) -> int:
    """The verifier's rule as a label: +1 a fix, -1 a harm, 0 neither."""
    if reason or gain < -threshold:
        return -1
    return 1 if gain > threshold else 0


@dataclass
class VerdictModel:
    coef: list[float]
    intercept: float
    threshold: float  # the rule's nats the pseudo-labels were drawn with
    n_labels: int  # raters' labelled edits it learnt from
    cv_accuracy: float | None = None  # cross-validated, on the accepted/rejected labels
    rule_accuracy: float | None = None  # the rule's accuracy on the same labels (a fix counts as accepted)
    label_counts: dict = field(default_factory=dict)  # "+1" / "-1" / "0" -> edits
    features: list[str] = field(default_factory=lambda: list(FEATURES))
    margin: float = CONFIDENT_MARGIN

    def probability(self, old: str, new: str, gain: float, reason: str) -> float:
        """P(a teacher accepts changing `old` into `new`)."""
        z = self.intercept + sum(c * x for c, x in zip(self.coef, features(old, new, gain, reason), strict=True))
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "VerdictModel":
        values = json.loads(text)
        if values.get("features") != list(FEATURES):
            raise ValueError(f"verdict model features {values.get('features')} are not this code's {list(FEATURES)}")
        return cls(**values)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json(), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> "VerdictModel":
        return cls.from_json(Path(path).read_text(encoding="utf-8"))

    def summary(self) -> dict:
        return {"n_labels": self.n_labels, "cv_accuracy": self.cv_accuracy, "rule_accuracy": self.rule_accuracy}


def _training_rows(rows: list[list[float]], labels: Sequence[int], rule: Sequence[int], prior: float):
    """(X, y, weights): each rater label (0: half each way) and each rule pseudo-label, weighted."""
    x, y, w = [], [], []
    pseudo = prior / max(1, len(rows))
    for row, label, ruled in zip(rows, labels, rule, strict=True):
        for target, weight in ((label, 1.0), (ruled, pseudo)):
            if target == 0:
                x += [row, row]
                y += [1, 0]
                w += [weight / 2, weight / 2]
            else:
                x.append(row)
                y.append(1 if target > 0 else 0)
                w.append(weight)
    return x, y, w


def _fit(rows, labels, rule, prior):
    from sklearn.linear_model import LogisticRegression

    x, y, w = _training_rows(rows, labels, rule, prior)
    return LogisticRegression(C=1.0, max_iter=1000).fit(x, y, sample_weight=w)


def _cross_validated_accuracy(rows, labels, rule, prior, folds: int = 5) -> float | None:
    """Accuracy of the model on accepted (+1) / rejected (-1) labels it was not fitted on (k folds by position)."""
    decided = [i for i, label in enumerate(labels) if label != 0]
    if len(decided) < folds:
        return None
    hits = 0
    for fold in range(folds):
        held = set(decided[fold::folds])
        kept = [i for i in range(len(rows)) if i not in held]
        kept_labels = [labels[i] for i in kept]
        if len({label for label in kept_labels if label != 0}) < 2:
            return None  # one class only: nothing to fit
        model = _fit([rows[i] for i in kept], kept_labels, [rule[i] for i in kept], prior)
        predicted = model.predict_proba([rows[i] for i in sorted(held)])[:, 1]
        hits += sum((p >= 0.5) == (labels[i] > 0) for i, p in zip(sorted(held), predicted, strict=True))
    return float(hits) / len(decided)


def fit_verdict_model(
    pairs: Sequence[tuple[str, str]],
    labels: Sequence[int],
    gains: Sequence[float],
    reasons: Sequence[str],
    threshold: float,
    min_labels: int = MIN_LABELS,
    prior_labels: float = PRIOR_LABELS,
) -> VerdictModel | None:
    """The learnt verdict from labelled (old, new) changes and the language model's gain and rules on each; None
    with fewer than `min_labels` labels or without both an accepted and a rejected one (the rule stays)."""
    if len(pairs) < max(1, min_labels) or not ({1, -1} <= set(labels)):
        return None
    rows = [features(old, new, g, r) for (old, new), g, r in zip(pairs, gains, reasons, strict=True)]
    rule = [rule_label(g, r, threshold) for g, r in zip(gains, reasons, strict=True)]
    model = _fit(rows, list(labels), rule, prior_labels)
    decided = [(label, ruled) for label, ruled in zip(labels, rule, strict=True) if label != 0]
    counts = Counter(labels)
    return VerdictModel(
        coef=[round(float(c), 6) for c in model.coef_[0]],
        intercept=round(float(model.intercept_[0]), 6),
        threshold=threshold,
        n_labels=len(pairs),
        cv_accuracy=_cross_validated_accuracy(rows, list(labels), rule, prior_labels),
        rule_accuracy=float(sum((ruled > 0) == (label > 0) for label, ruled in decided)) / len(decided),
        label_counts={f"{k:+d}" if k else "0": counts[k] for k in (1, -1, 0)},
    )


@lru_cache(maxsize=8)
def load_verdict_model(path: str) -> VerdictModel | None:
    """The model saved at `path` (rewriter.verdict_model), or None for "" (the rule alone). Saved models are named by
    their content (labeling/training/verdict_learning.py), so a cached one is never stale."""
    return VerdictModel.load(path) if path else None
