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
