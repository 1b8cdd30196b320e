"""Rewriter workflows on the database: which essays to rewrite, storing rewrites, training data from the raters."""

from collections.abc import Callable, Collection
from dataclasses import dataclass

from django.db.models import Q

from labeling.corpus.edit_labels import approved_edit_rows, judged_passages, rewrites_with_verdicts
from labeling.corpus.labels import consensus_human_labels, preference_pairs
from labeling.models import Essay, EssayDraw, ModelKind, ModelVersion, Rewrite, Split
from rl.config import RecipeConfig
from rl.edit_verdicts import JudgedPassage
from rl.preferences import RatedPair

DEFAULT_EVAL_ESSAYS = 20


def eval_essays(limit: int = DEFAULT_EVAL_ESSAYS) -> list[Essay]:
    """The fixed held-out set: the first pool essays by text hash. Never rewritten for raters, never trained on."""
    return list(Essay.objects.filter(split=Split.POOL).select_related("prompt").order_by("text_hash")[:limit])


def rewritable_pool(held_out: int = DEFAULT_EVAL_ESSAYS):
    """Pool essays outside the held-out set."""
    return Essay.objects.filter(split=Split.POOL).exclude(pk__in=[e.pk for e in eval_essays(held_out)])


def fresh_pool_essays(limit: int, held_out: int = DEFAULT_EVAL_ESSAYS):
    """Pool essays never rewritten before and drawn by no round, outside the held-out set."""
    return (
        rewritable_pool(held_out)
        .filter(draw__isnull=True)
        .exclude(Q(rewrites__isnull=False))
        .select_related("prompt")
        .order_by("pk")[: max(0, limit)]
    )


def draw_essays(training_round, candidates, wanted: int) -> list[Essay]:
    """The round's share of `candidates`: the essays it drew earlier (by an earlier attempt too) and has not
    rewritten yet, topped up to `wanted` drawn or rewritten essays with fresh ones nobody drew.

    A draw is a row per essay with the essay unique: two rounds drawing at once both insert, one of them wins each
    essay (ignore_conflicts), and the loser draws the next free ones.
    """
    taken = candidates.filter(Q(draw__training_round=training_round) | Q(rewrites__training_round=training_round))
    for _ in range(20):
        missing = wanted - taken.distinct().count()
        free = candidates.filter(draw__isnull=True, rewrites__isnull=True).order_by("pk")
        free_ids = list(free.values_list("pk", flat=True)[: max(0, missing)])
        if not free_ids:
            break
        EssayDraw.objects.bulk_create(
            [EssayDraw(essay_id=pk, training_round=training_round) for pk in free_ids], ignore_conflicts=True
        )
    mine = candidates.filter(draw__training_round=training_round).exclude(rewrites__training_round=training_round)
    return list(mine.select_related("prompt").order_by("pk"))


def store_rewrites(
    essays: list[Essay],
    rewriter,
    version: ModelVersion | None,
    training_round=None,
    batch_size: int = 4,
    progress: Callable[[int, int, str], None] | None = None,
    generation: dict | None = None,
) -> list[Rewrite]:
    """Rewrite essays in batches (the guard applies inside the rewriter) and store each batch as it finishes.
    `generation`: more to record with each rewrite (what produced it)."""
    stored = []
    for start in range(0, len(essays), batch_size):
        chunk = essays[start : start + batch_size]
        results = rewriter.rewrite([e.question for e in chunk], [e.text for e in chunk])
        rows = [
            Rewrite(
                essay=essay,
                text=result.text,
                model_version=version,
                training_round=training_round,
                generation={"settings": vars(rewriter.settings), "guard_reason": result.reason, **(generation or {})},
                chars_changed=result.chars_changed,
                guard_applied=result.guard_applied,
                scorer_band_before=round(result.band_before, 1),
                scorer_band_after=round(result.band_after, 1),
            )
            for essay, result in zip(chunk, results, strict=True)
        ]
        # ignore_conflicts: a retried batch of a round stores nothing twice (one rewrite per essay per round).
        stored += Rewrite.objects.bulk_create(rows, ignore_conflicts=True)
        if progress:
            progress(start + len(chunk), len(essays), f"rewrote {start + len(chunk)} of {len(essays)} essays")
    return stored


def rewriter_for(version: ModelVersion | None, scorer, recipe=None):
    """A Rewriter for a version; None means the base model with the few-shot prompt (the round-0 baseline)."""
    # Imported here, not at the top: they load torch and transformers, which the web process never needs.
    from rl.rewriter import Rewriter
    from rl.training import as_band_predictor, policy_spec_of_run

    recipe = recipe or RecipeConfig()
    settings = recipe.rewriter
    if version is None:
        spec = recipe.policy
        spec.adapter = None
        settings.few_shot = True
    else:
        spec = policy_spec_of_run(version.artifact_path)
    return Rewriter.from_spec(spec, as_band_predictor(scorer), settings)


def promoted_rewriter_version() -> ModelVersion | None:
    return ModelVersion.promoted(ModelKind.REWRITER)


def dpo_pairs(round_number: int | None = None, exclude_rewrites: Collection[int] = ()):
    """The raters' preferences as rl.preferences.RatedPair (original vs rewrite with their consensus bands).

    When the bands tie and the pair exists only through the raters' "which is better" answers, the winner is given
    half a band more, so the pair keeps its direction.
    """
    bands = consensus_human_labels(round_number)
    pairs = []
    for pair in preference_pairs(round_number):
        if pair.rewrite_id in exclude_rewrites:
            continue
        rewrite = Rewrite.objects.select_related("essay").get(pk=pair.rewrite_id)
        band_original = bands.get((pair.essay_id, None), {}).get("band", 0.0)
        band_rewrite = bands.get((pair.essay_id, pair.rewrite_id), {}).get("band", 0.0)
        rewrite_won = pair.chosen == rewrite.text
        if (band_rewrite > band_original) != rewrite_won or band_rewrite == band_original:
            band_rewrite, band_original = (
                (band_original + 0.5, band_original) if rewrite_won else (band_original, band_original + 0.5)
            )
        pairs.append(RatedPair(pair.prompt, rewrite.essay.text, rewrite.text, band_original, band_rewrite))
    return pairs


@dataclass(frozen=True)
class RaterTrainingData:
    """What the raters' approved labels give the rewriter's SFT and DPO stages."""

    pairs: list[RatedPair]  # essay-level pairs of the rewrites without per-change verdicts
    passages: list[JudgedPassage]  # the passages of the rewrites with them, each change with its consensus


def rater_training_data(round_number: int | None = None) -> RaterTrainingData:
    """Per-change verdicts where the raters gave them (a rewrite with one agreed verdict is learnt change by change),
    the essay-level preference elsewhere."""
    rows = approved_edit_rows(round_number)
    judged = rewrites_with_verdicts(rows)
    passages = [p for p in judged_passages(round_number, rows) if any(c.verdict for c in p.changes)]
    return RaterTrainingData(dpo_pairs(round_number, exclude_rewrites=judged), passages)
