"""The raters' learnt edit verdict (rl/verdict_model.py) fitted from the database and stored for a round.

A round's "fit_verdicts" step fits it on every approved labelled edit (labeling.corpus.edit_labels.
labelled_edit_pairs: the test split and gold edits left out) with the recipe's base model as the language model, and
stores it as a JSON file named by its content under $AES_ARTIFACTS_DIR/verdict_models/, so two rounds that learn
the same model share one file (and the held-out figures cached under it stay valid). The round's RL and rewrite
steps then judge edits with it (rewriter.verdict_model). Below the recipe's rewriter.verdict_min_labels labelled
edits nothing is fitted and the verifier is the language-model rule alone.
"""

import hashlib
from pathlib import Path

from django.conf import settings

from labeling.corpus.edit_labels import labelled_edit_pairs
from rl.edit_verdicts import LabelledEdit
from rl.verdict_model import VerdictModel, fit_verdict_model


def models_dir() -> Path:
    return Path(settings.ARTIFACTS_DIR) / "verdict_models"


def store(model: VerdictModel, folder: Path | None = None) -> Path:
    """Save `model` under a name drawn from its content; an identical model saved before is reused."""
    text = model.to_json()
    path = (folder or models_dir()) / f"verdicts-{hashlib.sha256(text.encode()).hexdigest()[:16]}.json"
    if not path.exists():
        model.save(path)
    return path


def fit_from_labels(
    language_model, edits: list[LabelledEdit], threshold: float, min_labels: int, folder: Path | None = None
) -> dict:
    """Fit the learnt verdict on `edits` and store it; what the step and the round page show. No "verdict_model"
    path when too few labels (or only one kind of label) leave the rule alone."""
    summary = {"labelled_edits": len(edits), "min_labels": min_labels, "verdict_model": ""}
    if len(edits) < min_labels:
        return summary
    from rl.verifier import verdicts

    pairs = [(edit.before, edit.after) for edit in edits]
    judged = verdicts(language_model, pairs, threshold)
    model = fit_verdict_model(
        pairs,
        [edit.label for edit in edits],
        [v.gain for v in judged],
        [v.reason for v in judged],
        threshold,
        min_labels=min_labels,
    )
    if model is None:
        return summary
    return {
        **summary,
        **model.summary(),
        "label_counts": model.label_counts,
        "verdict_model": str(store(model, folder)),
    }


def learn(rewriter_settings, base_model: str, log=lambda message: None, folder: Path | None = None) -> dict:
    """Fit and store the learnt verdict from every approved labelled edit, judged by `base_model`; the language
    model is loaded only when there are enough labels."""
    edits = labelled_edit_pairs()
    s = rewriter_settings
    language_model = None
    if len(edits) >= s.verdict_min_labels:
        from rl.corrector import LanguageModel  # loads torch: only in the worker that runs the step

        log(f"learning the raters' edit verdict from {len(edits)} labelled edits")
        language_model = LanguageModel.for_rewriter(base_model, s)
    return fit_from_labels(language_model, edits, s.verdict_threshold, s.verdict_min_labels, folder)


def summary_text(summary: dict | None) -> str:
    """The round page's sentence about its edit verdicts, or "" before the step ran."""
    if not summary:
        return ""
    n, needed = summary.get("labelled_edits", 0), summary.get("min_labels")
    if not summary.get("verdict_model"):
        if needed is not None and n < needed:
            return f"the language-model rule alone ({n} labelled edits, fewer than the {needed} needed to learn one)"
        return f"the language-model rule alone ({n} labelled edits, not both accepted and rejected ones)"
    cv, rule = summary.get("cv_accuracy"), summary.get("rule_accuracy")
    cv_text = f"{cv:.2f}" if cv is not None else "not measured"
    rule_text = f"{rule:.2f}" if rule is not None else "not measured"
    return (
        f"learnt from {n} labelled edits: cross-validated accuracy {cv_text} on the accepted/rejected ones, "
        f"the language-model rule {rule_text} on the same labels"
    )
