"""A round's figures: what its evaluate step recorded, plus the human-judged M once raters have rated its pairs."""

from labeling.corpus.labels import consensus_human_labels
from labeling.models import TrainingRound
from rl.reward import product_metric


def round_metrics(training_round: TrainingRound) -> dict:
    """What the evaluate step recorded on the round, plus the human-judged M once raters have rated its pairs."""
    merged = dict(training_round.metrics)
    if "human_m" not in merged:
        human = human_metric(training_round)
        if human:
            merged["human"] = human
            merged["human_m"] = human["m"]
    return merged


def human_metric(training_round: TrainingRound) -> dict | None:
    """M judged by the raters' consensus bands on this round's rewrites, once some pairs have both bands.

    Rewrites the guard replaced by the original were not sent to raters: they count as "no change" (neither harm
    nor a good edit), as they are what the product would return.
    """
    human = consensus_human_labels(training_round.number)
    if not human:
        return None
    before, after, changed = [], [], []
    rated = 0
    for rewrite in training_round.rewrites.all():
        original, edited = human.get((rewrite.essay_id, None)), human.get((rewrite.essay_id, rewrite.pk))
        if rewrite.guard_applied:
            before.append(0.0)
            after.append(0.0)
            changed.append(0)
        elif original and edited:
            before.append(original["band"])
            after.append(edited["band"])
            changed.append(rewrite.chars_changed)
            rated += 1
    if not rated:
        return None
    return {**product_metric(before, after, changed).as_dict(), "rated_pairs": rated}


# The guard's reasons (rl/rewriter.py RewriteResult.reason) in words.
GUARD_REASONS = {
    "not_better": "no edit raised the reward (scorer band, language-model verdicts, size)",
    "no_edits": "nothing to correct was found",
    "no_change": "the rewrite was the original",
    "too_many_changes": "too many characters changed",
    "length": "the length changed too much",
    "empty": "the output was empty",
    "truncated": "the output was cut off",
}


def why_nothing_queued(training_round: TrainingRound) -> str | None:
    """Why a round whose queueing step finished queued no pairs for raters, from its rewrite step's counts; None
    when it queued some or has not got that far."""
    steps = {step.name: step for step in training_round.steps.all()}
    queueing, rewriting = steps.get("create_rating_items"), steps.get("generate_rewrites")
    if queueing is None or queueing.status != "succeeded" or queueing.metrics.get("items"):
        return None
    figures = rewriting.metrics if rewriting else {}
    rewrites, kept = figures.get("rewrites", 0), figures.get("guard_applied", 0)
    if not rewrites:
        return "no essays were rewritten: no fresh pool essays were left (import more with import_essays --split pool)"
    reasons = sorted(figures.get("guard_reasons", {}).items(), key=lambda item: -item[1])
    because = "; ".join(f"{count}: {GUARD_REASONS.get(reason, reason)}" for reason, count in reasons)
    if kept == rewrites:
        return f"all {rewrites} rewrites were kept as the original by the guard" + (f" ({because})" if because else "")
    return f"{rewrites} rewrites, {kept} kept as the original by the guard, none of the others changed the essay"
