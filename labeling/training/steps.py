"""The bodies of a round's steps and the table STEPS the engine runs them by (engine.py claims and runs them).

Each body is idempotent: a retried step finds what an earlier attempt stored and does not store it twice.
No database transaction is held while a model trains or generates. The rl modules that load torch, transformers,
trl or peft are imported inside the bodies that need them: this module is imported by the web process (through the
engine), which must start without them.
"""

import time
from collections import Counter
from pathlib import Path

from django.conf import settings

from labeling.corpus.labels import consensus_human_labels
from labeling.models import Essay, ModelKind, ModelVersion, Rewrite, RoundStatus, RoundStep
from labeling.rating import batches
from rl.config import WARM_START, optimiser_of, recipe_from_dict, stages_of
from rl.reward import half_band_metric, product_metric

from . import held_out_cache, rater_calibration, verdict_learning
from .jsonsafe import json_safe
from .rewriting import (
    DEFAULT_EVAL_ESSAYS,
    draw_essays,
    eval_essays,
    rater_training_data,
    rewritable_pool,
    rewriter_for,
    store_rewrites,
)
from .scoring import load_scorer_version, train_scorer_version
from .step_context import StepContext, StepSkipped, StepSpec


def recipe(context: StepContext):
    """The round's recipe, judging edits with the verdict its fit_verdicts step learnt from the raters, if any."""
    config = recipe_from_dict({k: v for k, v in context.config.items() if k not in {"round", "overrides", "model_key"}})
    learnt = learnt_verdicts(context).get("verdict_model")
    if learnt and config.rewriter.edit_verifier:
        config.rewriter.verdict_model = learnt
    return config


def learnt_verdicts(context: StepContext) -> dict:
    """What the round's fit_verdicts step stored ({} for a round launched before the step existed)."""
    step = RoundStep.objects.filter(training_round=context.training_round, name="fit_verdicts").first()
    return step.metrics if step else {}


def round_setting(context: StepContext, key: str, default):
    return context.config.get("round", {}).get(key, default)


def step_metrics(context: StepContext, name: str) -> dict:
    return RoundStep.objects.get(training_round=context.training_round, name=name).metrics


def forward_training_logs(context: StepContext):
    """rl trainers report dicts (step, max_steps, loss, reward, kl, ...): show them as progress and curves."""

    def report(logs: dict) -> None:
        numbers = {k: v for k, v in logs.items() if isinstance(v, int | float) and not isinstance(v, bool)}
        context.record(**numbers)
        context.progress(int(logs.get("step", 0)), int(logs.get("max_steps", 0) or 0))

    return report


def round_scorer(context: StepContext):
    """The scorer this round rewards and judges with: the one its first step trained, else the promoted one."""
    version_id = step_metrics(context, "train_scorer").get("scorer_version")
    version = ModelVersion.objects.get(pk=version_id) if version_id else ModelVersion.promoted(ModelKind.SCORER)
    if version is None:
        raise LookupError("no scorer: the round's first step did not train one and none is promoted")
    return version, load_scorer_version(version)


def train_scorer(context: StepContext) -> dict:
    scorer_settings = context.config.get("scorer", {})
    promoted = ModelVersion.promoted(ModelKind.SCORER)
    human_ratings = sum(entry["n"] for entry in consensus_human_labels().values())
    always = scorer_settings.get("always")
    if promoted and promoted.data_snapshot.get("human_ratings", 0) == human_ratings and not always:
        raise StepSkipped(f"no new human labels since {promoted}; the round uses it")
    context.log(f"training a scorer on published bands plus {human_ratings} approved human ratings")
    version = train_scorer_version(
        scorer_settings.get("config", {}),
        training_round=context.training_round,
        progress=lambda done, total, message="": context.progress(done, total, message),
        max_published=scorer_settings.get("max_published"),
        max_test=scorer_settings.get("max_test"),
    )
    if promoted is None:
        # A round running at the same time may have promoted its own first scorer meanwhile: that one stays.
        version.promote(note=f"first scorer (round {context.training_round.number})", only_if_none=True)
    test = version.metrics.get("test", {})
    result = {"scorer_version": version.pk, "qwk": test.get("qwk"), "mae": test.get("mae")}
    labels = rater_calibration.calibration_labels()
    if rater_calibration.is_due(version, len(labels)):
        # The round rewards and shows bands on the raters' scale from its first step on.
        stored = rater_calibration.fit_for_scorer(version, labels=labels)
        context.log(f"rater calibration: {version.rater_calibration_text()}")
        result["rater_calibration"] = {k: stored[k] for k in ("shift", "slope", "n_labels")}
    return result


def fit_verdicts(context: StepContext) -> dict:
    """Learn the raters' edit verdict from their labelled edits (verdict_learning), once there are enough."""
    config = recipe(context)
    if not config.rewriter.edit_verifier:
        raise StepSkipped("the recipe's edit verifier is off (rewriter.edit_verifier: false)")
    summary = verdict_learning.learn(config.rewriter, config.policy.model, log=context.log)
    tr = context.training_round
    tr.refresh_from_db()
    tr.metrics = json_safe({**tr.metrics, "edit_verdicts": summary})
    tr.save(update_fields=["metrics"])
    if not summary["verdict_model"]:
        raise StepSkipped(f"edits are judged by {verdict_learning.summary_text(summary)}", metrics=summary)
    context.log(f"edit verdicts {verdict_learning.summary_text(summary)}")
    return summary


def sft(context: StepContext) -> dict:
    from rl import train_sft  # loads torch: only in the worker that runs the step

    config = recipe(context)
    if WARM_START not in stages_of(config.stage):
        raise StepSkipped(f"recipe stage is {config.stage!r}: no SFT warm start")
    data = rater_training_data()
    examples = train_sft.build_sft_examples(config, data.pairs, data.passages)
    key = train_sft.inputs_key(config, examples)
    earlier = reusable_warm_start(context, key)
    if earlier is not None:
        metrics = {k: v for k, v in earlier.metrics.items() if k != "history"}
        raise StepSkipped(
            f"the warm start of round {earlier.training_round.number} was trained on the same {len(examples)} "
            f"examples, base model and settings: reused ({metrics['run_dir']})",
            metrics={**metrics, "reused_from_round": earlier.training_round.number},
        )
    result = train_sft.run(config, progress=forward_training_logs(context), examples=examples)
    metrics = {k: v for k, v in result.metrics.items() if k != "history"}
    return {"run_dir": str(result.output_dir), "inputs_key": key, **metrics}


def reusable_warm_start(context: StepContext, key: str) -> RoundStep | None:
    """An earlier round's SFT step with the same inputs whose adapter is still on disk (a new rater label, another
    setting or a new library version changes the key and trains anew)."""
    earlier = (
        RoundStep.objects.filter(name="sft", metrics__inputs_key=key)
        .filter(status__in=[RoundStatus.SUCCEEDED, RoundStatus.SKIPPED])
        .exclude(training_round=context.training_round)
        .select_related("training_round")
        .order_by("-pk")
    )
    return next((step for step in earlier if (Path(step.metrics["run_dir"]) / "adapter").is_dir()), None)


def optimise_policy(context: StepContext) -> dict:
    from rl.training import policy_spec_of_run  # loads torch: only in the worker that runs the step

    config = recipe(context)
    sft_dir = step_metrics(context, "sft").get("run_dir")
    if sft_dir:
        config.policy = policy_spec_of_run(sft_dir)  # continue from the warm start
    optimiser = optimiser_of(config.stage)
    if optimiser == "dpo":
        from rl import train_dpo  # loads torch: only in the worker that runs the step

        data = rater_training_data()
        if not data.pairs and not data.passages:
            raise ValueError(
                "DPO needs the raters' preference pairs and there are none yet: run a GRPO/RLOO round first"
            )
        result = train_dpo.run(
            config, progress=forward_training_logs(context), pairs=data.pairs, passages=data.passages
        )
    elif optimiser == "rl":
        from rl import train_rl  # loads torch: only in the worker that runs the step

        _, scorer = round_scorer(context)
        result = train_rl.run(config, scorer, progress=forward_training_logs(context))
    elif sft_dir:
        result = None  # an SFT-only recipe: the warm start is the new policy
    else:
        raise StepSkipped(f"recipe stage is {config.stage!r}: nothing to optimise")
    run_dir = str(result.output_dir) if result else sft_dir
    metrics = result.metrics if result else step_metrics(context, "sft")
    version = rewriter_version_of_run(context, config, run_dir, metrics)
    if result is None:
        raise StepSkipped(
            f"recipe stage is {config.stage!r}: nothing to optimise after SFT; the warm start is the new rewriter",
            metrics={"rewriter_version": version.pk, "run_dir": run_dir},
        )
    return {"rewriter_version": version.pk, "run_dir": run_dir}


def rewriter_version_of_run(context: StepContext, config, run_dir: str, metrics: dict) -> ModelVersion:
    """The rewriter version of a training run folder, registered once (a retried step finds it)."""
    version, _ = ModelVersion.objects.get_or_create(
        kind=ModelKind.REWRITER,
        artifact_path=run_dir,
        defaults={
            "name": f"rewriter round {context.training_round.number} ({config.stage})",
            "config": context.config,
            "metrics": {k: v for k, v in metrics.items() if k != "history"} | edit_verdicts_of(context),
            "parent": ModelVersion.promoted(ModelKind.REWRITER),
            "training_round": context.training_round,
        },
    )
    return version


def edit_verdicts_of(context: StepContext) -> dict:
    """The learnt edit verdict the round's rewriter is judged with, for its version's metrics ({} for the rule)."""
    learnt = learnt_verdicts(context)
    return {"edit_verdicts": learnt} if learnt.get("verdict_model") else {}


def round_rewriter(context: StepContext, version: ModelVersion | None):
    _, scorer = round_scorer(context)
    return rewriter_for(version, scorer, recipe(context))


def eval_count(context: StepContext) -> int:
    return int(round_setting(context, "eval_essays", DEFAULT_EVAL_ESSAYS))


def essays_to_rewrite(context: StepContext) -> list[Essay]:
    """Fresh pool essays, plus a gold share of essays with a trusted band (they become the gold items), drawn for
    this round alone (rewriting.draw_essays): a round running at the same time draws others.

    Essays this round rewrote already (an earlier attempt) are not returned again, so a retry resumes.
    """
    wanted = int(round_setting(context, "rewrite_essays", 20))
    gold = batches.gold_target(wanted, float(round_setting(context, "gold_share", 0.1)))
    pool = draw_essays(context.training_round, rewritable_pool(held_out=eval_count(context)), wanted)
    trusted = draw_essays(context.training_round, Essay.objects.filter(pk__in=batches.trusted_gold_essays()), gold)
    return pool + trusted


def rewrite_counts(training_round) -> dict:
    """The round's rewrites, how many the guard kept as the original and why (the round page says why a round
    queued no pairs)."""
    total = Rewrite.objects.filter(training_round=training_round)
    kept = list(total.filter(guard_applied=True).values_list("generation", flat=True))
    return {
        "rewrites": total.count(),
        "guard_applied": len(kept),
        "guard_reasons": dict(Counter(generation.get("guard_reason", "unknown") for generation in kept)),
    }


def generate_rewrites(context: StepContext) -> dict:
    version = ModelVersion.objects.get(pk=step_metrics(context, "optimise_policy")["rewriter_version"])
    fresh = essays_to_rewrite(context)
    if not fresh and not Rewrite.objects.filter(training_round=context.training_round).exists():
        raise StepSkipped("no fresh pool essays left to rewrite (every one was drawn before): import more, split pool")
    rewriter = round_rewriter(context, version) if fresh else None
    if fresh:
        store_rewrites(
            fresh,
            rewriter,
            version,
            training_round=context.training_round,
            batch_size=int(round_setting(context, "generation_batch", 4)),
            progress=context.progress,
        )
    return {
        **rewrite_counts(context.training_round),
        "tokens_per_s": round(rewriter.stats.tokens_per_s, 2) if rewriter else None,
    }


def evaluate(context: StepContext) -> dict:
    """Scorer-judged M on the fixed held-out set: the new policy, the few-shot baseline, the promoted rewriter.

    The baseline's and the promoted rewriter's figures are reused from an earlier round with the same inputs
    (held_out_cache), so this step usually rewrites the held-out essays with the new policy only.
    """
    essays = eval_essays(eval_count(context))
    if not essays:
        raise ValueError("no pool essays to evaluate on: import some (split pool) first")
    new_version = ModelVersion.objects.get(pk=step_metrics(context, "optimise_policy")["rewriter_version"])
    promoted = ModelVersion.promoted(ModelKind.REWRITER)
    scorer_version, _ = round_scorer(context)
    candidates = [("new", new_version), ("baseline", None)]
    if promoted and promoted.pk != new_version.pk:
        candidates.append(("promoted", promoted))
    batch = int(round_setting(context, "generation_batch", 4))
    gec = {"dir": settings.GEC_DIR, "sentences": int(round_setting(context, "gec_sentences", 100))}
    evaluate_settings = {"generation_batch": batch, "gec": gec if settings.GEC_DIR else None}
    plans = []
    for label, version in candidates:
        inputs = None
        if label != "new":
            inputs = held_out_cache.evaluation_inputs(
                label, version, recipe(context), scorer_version, essays, evaluate_settings
            )
        plans.append((label, version, inputs, held_out_cache.find(inputs) if inputs else None))
    work = HeldOutWork(context, total=len(essays) * sum(1 for *_, cached in plans if cached is None))
    results, sources = {}, {}
    for label, version, inputs, cached in plans:
        if cached is not None:
            results[label], sources[label] = dict(cached.figures), held_out_cache.reused_note(cached)
            context.log(f"{label}: M = {results[label]['m']:+.3f}, {sources[label]}")
            continue
        started = time.monotonic()
        rewriter = round_rewriter(context, version)
        out = work.rewrite(label, rewriter, essays, batch)
        results[label] = policy_figures(context, rewriter, [e.text for e in essays], out)
        sources[label] = "computed"
        if inputs is not None:
            held_out_cache.store(inputs, json_safe(results[label]), context.training_round, time.monotonic() - started)
        context.log(f"{label}: M = {results[label]['m']:+.3f}, computed in {time.monotonic() - started:.0f} s")
    summary = evaluation_summary(results, len(essays), sources)
    tr = context.training_round
    tr.refresh_from_db()
    tr.metrics = json_safe({**tr.metrics, **summary})
    tr.save(update_fields=["metrics"])
    ModelVersion.objects.filter(pk=new_version.pk).update(metrics=json_safe({**new_version.metrics, "eval": summary}))
    return {k: v for k, v in summary.items() if k not in {"by_policy", "sources"}}


class HeldOutWork:
    """Rewrites held-out essays in small batches, counting essays across every policy the step computes, so the
    progress (and the ETA drawn from it) is in essays, not in policies of very different cost."""

    def __init__(self, context: StepContext, total: int):
        self.context, self.total, self.done = context, total, 0

    def rewrite(self, label: str, rewriter, essays: list[Essay], batch: int) -> list:
        out = []
        for start in range(0, len(essays), max(1, batch)):
            chunk = essays[start : start + max(1, batch)]
            out += rewriter.rewrite([e.question for e in chunk], [e.text for e in chunk])
            self.done += len(chunk)
            self.context.progress(self.done, self.total, f"{label}: rewrote {len(out)} of {len(essays)} essays")
        return out


def evaluation_summary(results: dict[str, dict], eval_essays: int, sources: dict[str, str] | None = None) -> dict:
    """What the evaluate step records on the round from each policy's figures ("new", "baseline", maybe "promoted")
    and where each came from ("computed", or reused from an earlier round's identical evaluation)."""
    new = results["new"]
    sources = sources or dict.fromkeys(results, "computed")
    return {
        "m": new["m"],
        "harm_share": new["harm_share"],
        "good_small_share": new["good_small_share"],
        "mean_chars_changed": new["mean_chars_changed"],
        "baseline_m": results["baseline"]["m"],
        "baseline_source": sources["baseline"],
        "promoted_m": results.get("promoted", {}).get("m"),
        "eval_essays": eval_essays,
        "judge": "round scorer",
        "by_policy": results,
        "sources": sources,
    }


def scored_figures(before: list[float], after: list[float], changed: list[int]) -> dict:
    """M and its parts from the scorer's bands before and after and the characters changed, and M at half bands."""
    figures = product_metric(before, after, changed).as_dict()
    figures["half_band_m"] = half_band_metric(before, after, changed).m
    return figures


def policy_figures(context: StepContext, rewriter, originals: list[str], out) -> dict:
    """M, and beside it what tells a fix from a harm: M at half bands, the share of changed sentences the edit
    verifier judges fixes, the policy edits it refused, and GLEU on a GEC set when settings.GEC_DIR names one."""
    figures = scored_figures([r.band_before for r in out], [r.band_after for r in out], [r.chars_changed for r in out])
    if rewriter.settings.edit_verifier:
        from rl.verdict_model import load_verdict_model
        from rl.verifier import rewrite_verdicts, verified_share

        s = rewriter.settings
        judged = rewrite_verdicts(
            rewriter.language_model,
            originals,
            [r.text for r in out],
            s.verdict_threshold,
            load_verdict_model(s.verdict_model),
        )
        figures["verified_share"] = verified_share(judged)
        figures["refused_edits"] = rewriter.stats.unverified_edits
    if settings.GEC_DIR:
        from rl.gec_eval import evaluate_outputs, load_gec_set, rewrite_as_essays

        gec = load_gec_set(settings.GEC_DIR).subset(int(round_setting(context, "gec_sentences", 100)))
        gleu = evaluate_outputs(gec, rewrite_as_essays(rewriter, gec.texts))
        figures.update(gleu=gleu.gleu, gleu_source=evaluate_outputs(gec, gec.texts).gleu, gec_harm=gleu.harm)
    return figures


def create_rating_items(context: StepContext) -> dict:
    """Queue the pairs whose rewrite changed something (an unchanged pair would pay raters for nothing)."""
    rewrites = list(
        Rewrite.objects.filter(training_round=context.training_round, guard_applied=False).select_related("essay")
    )
    rewrites = [r for r in rewrites if r.text != r.essay.text]
    summary = batches.create_rating_items(
        context.training_round,
        rewrites,
        k=int(round_setting(context, "ratings_per_item", 2)),
        gold_share=float(round_setting(context, "gold_share", 0.1)),
    )
    # Raters see the pairs the scorer is least sure of first (gold items too, so they do not stand out).
    items = list(summary.batch.items.select_related("essay__prompt", "rewrite"))
    if items:
        _, scorer = round_scorer(context)
        predictions = scorer.predict([i.essay.question for i in items], [i.rewrite.text for i in items])
        batches.set_uncertainty({item.pk: p.uncertainty for item, p in zip(items, predictions, strict=True)})
    return {"rating_batch": summary.batch.pk, "items": summary.items, "gold_items": summary.gold_items}


# The round's steps in the order they run: the engine looks a step's body up here by the name stored on RoundStep.
STEPS = [
    StepSpec("train_scorer", "Retrain the scorer", gpu=True, body=train_scorer),
    StepSpec("sft", "SFT warm start", gpu=True, body=sft),
    StepSpec("fit_verdicts", "Learn the raters' edit verdicts", gpu=True, body=fit_verdicts),
    StepSpec("optimise_policy", "Optimise the rewriter", gpu=True, body=optimise_policy),
    StepSpec("generate_rewrites", "Rewrite fresh essays", gpu=True, body=generate_rewrites),
    StepSpec("evaluate", "Evaluate M on held-out essays", gpu=True, body=evaluate),
    StepSpec("create_rating_items", "Queue pairs for raters", gpu=False, body=create_rating_items),
]
