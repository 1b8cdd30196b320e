"""The first batch: pairs for the raters minutes after `make run`, before any round has run.

`bootstrap_demo` picks a few short essays a corrector will find something in (rl.candidates.likely_errors: the bundled
pool essays are mostly machine-polished, the published learner essays of the train split are not; those become gold
items, as in a round), and queues one "gpu" task per essay. Each task rewrites its essay with the default rewriter (the
base model's language-model-scored corrections, judged by the guard) and queues the pair for raters at once when its
two sides differ. No scorer exists yet on a fresh install, so the guard's scorer is the promoted one if any, else a
TF-IDF ridge trained in seconds on 400 published bands (kept in memory for the batch; a round trains the real one).

Tasks take ids and are idempotent: an essay rewritten already is only queued (again: create_rating_items adds nothing
twice), so `bootstrap_demo` may send again the tasks of a batch that has not finished.
"""

import logging
import threading
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.db.models.functions import Length
from django.utils import timezone

from labeling.models import Essay, FirstBatch, RatingItem, Split
from labeling.rating.batches import create_rating_items
from rl.candidates import likely_errors
from rl.config import RecipeConfig, RewriterSettings

from .rewriting import rewritable_pool, store_rewrites
from .scoring import promoted_scorer, training_records

log = logging.getLogger(__name__)

# Published bands the stand-in scorer learns from (all 1,843 took 128 s on the contended 2-core machine).
GUARD_SCORER_ESSAYS = 400
MIN_CHARS, MAX_CHARS = 700, 1900  # about 120-320 words: short enough to rewrite in seconds, long enough to rate


def candidate_essays():
    """Fresh pool essays (outside the held-out set) and learner essays of the train split, short-ish, not rewritten."""
    pool = rewritable_pool().filter(draw__isnull=True)
    learners = Essay.objects.filter(split=Split.TRAIN, band__isnull=False, band_below_4=False)
    return (
        (Essay.objects.filter(pk__in=pool.values("pk")) | Essay.objects.filter(pk__in=learners.values("pk")))
        .annotate(chars=Length("text"))
        .filter(chars__gte=MIN_CHARS, chars__lte=MAX_CHARS, rewrites__isnull=True)
    )


def choose_essays(size: int) -> list[int]:
    """The `size` essays with the most likely errors per character (ties: shorter first)."""
    essays = candidate_essays().values_list("pk", "text")
    ranked = sorted(((likely_errors(text) / len(text), -len(text), pk) for pk, text in essays), reverse=True)
    return [pk for errors, _, pk in ranked[:size] if errors > 0]


def start(send: Callable[[FirstBatch, int], None], size: int | None = None) -> FirstBatch | None:
    """Create the first batch once (none when raters already have pairs), then send the tasks of its unfinished
    essays. Returns the batch, or None when there is none to run."""
    size = settings.FIRST_BATCH_ESSAYS if size is None else size
    batch = FirstBatch.latest()
    if batch is None:
        if size <= 0 or RatingItem.objects.exists():
            return None
        batch = FirstBatch.objects.create(essay_ids=choose_essays(size))
    if batch.finished_at is None:
        done = set(batch.rewrites().values_list("essay_id", flat=True)) | {int(pk) for pk in batch.errors}
        for essay_id in batch.essay_ids:
            if essay_id not in done:
                send(batch, essay_id)
    return batch


def rewrite_essay(batch_id: int, essay_id: int) -> str:
    """Rewrite one essay of the batch (once) and queue the pair if it differs. Returns what happened, in words."""
    batch = FirstBatch.objects.get(pk=batch_id)
    stored = batch.rewrites().filter(essay_id=essay_id).select_related("essay")
    if not stored.exists():
        essay = Essay.objects.select_related("prompt").get(pk=essay_id)
        try:
            rewriter, scorer_name = default_rewriter()
            store_rewrites([essay], rewriter, None, generation={"first_batch": batch.pk, "scorer": scorer_name})
        except Exception as exc:
            log.exception("first batch %s: essay %s failed", batch_id, essay_id)
            record_error(batch_id, essay_id, f"{type(exc).__name__}: {exc}")
            return f"failed: {exc}"
    rewrite = stored.first()
    outcome = "kept as the original by the guard"
    if rewrite.text != rewrite.essay.text:
        create_rating_items(None, [rewrite], gold_share=0.0, name=FirstBatch.RATING_BATCH_NAME)
        outcome = "queued"
    finish_if_done(batch_id)
    return outcome


def record_error(batch_id: int, essay_id: int, error: str) -> None:
    with transaction.atomic():
        batch = FirstBatch.objects.select_for_update().get(pk=batch_id)
        batch.errors[str(essay_id)] = error[:500]
        batch.save(update_fields=["errors"])
    finish_if_done(batch_id)


def finish_if_done(batch_id: int) -> None:
    batch = FirstBatch.objects.get(pk=batch_id)
    if batch.finished_at is None and not batch.progress()["running"]:
        FirstBatch.objects.filter(pk=batch_id, finished_at__isnull=True).update(finished_at=timezone.now())


_rewriter_lock = threading.Lock()
_rewriter: tuple | None = None


def default_rewriter():
    """(the rewriter, the name of the scorer its guard uses), built once per worker process: the base model's
    corrections only (no policy generation, the fastest real edits on a CPU), judged by the guard."""
    global _rewriter
    with _rewriter_lock:
        if _rewriter is None:
            from rl.rewriter import Rewriter
            from rl.training import as_band_predictor

            scorer, name = guard_scorer()
            recipe = RecipeConfig()
            rewriter_settings = RewriterSettings(**{**vars(recipe.rewriter), "num_candidates": 0, "corrector": True})
            _rewriter = (Rewriter.from_spec(recipe.policy, as_band_predictor(scorer), rewriter_settings), name)
        return _rewriter


def guard_scorer():
    """The promoted scorer, else a TF-IDF ridge on some published bands (seconds to train; no scorer exists yet)."""
    try:
        version, scorer = promoted_scorer()
        return scorer, str(version)
    except LookupError:
        from rl.scorer import ScorerConfig, train_scorer

        records, snapshot = training_records(include_human=False, max_published=GUARD_SCORER_ESSAYS)
        scorer = train_scorer(records, ScorerConfig(family="tfidf_ridge", cv_folds=0))
        return scorer, f"TF-IDF ridge on {snapshot['published']} published bands (no scorer promoted yet)"
