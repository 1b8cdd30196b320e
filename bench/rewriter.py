"""Benchmark the rewriter: few-shot baseline vs the trained rewriter on the same held-out pool essays.

    python bench/rewriter.py [--essays N] [--model RUN_FOLDER] [--recipe cpu-demo] [--scorer FOLDER] [--judge FOLDER]

Without --model it benchmarks the newest run of the recipe, training one against the reward scorer first when there
is none (a fresh checkout: about 10 minutes for cpu-demo on 2 cores).

Both rewriters use the reward scorer inside their guard. The product metric M is reported twice: under an independent
judge (a scorer trained on data disjoint from the reward scorer's, never seen by training or the guard: the figure that
counts) and under the reward scorer (where the guard makes harm zero by construction). The last line is one JSON
object with the judge's figures.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rl.config import load_recipe  # noqa: E402
from rl.edits import diff_edits  # noqa: E402
from rl.models import PolicySpec, artifacts_dir  # noqa: E402
from rl.reward import ProductMetric, judge_rewrites, product_metric  # noqa: E402
from rl.rewriter import Rewriter, RewriteResult  # noqa: E402
from rl.training import as_band_predictor, cpu_environment, load_pool, policy_spec_of_run  # noqa: E402


def latest_run(recipe_name: str) -> Path | None:
    """The newest run folder of a recipe that holds an adapter (its last stage when it had several)."""
    root = artifacts_dir() / "rewriter_runs"
    runs = [p for p in root.glob(f"{recipe_name}-*") if (p / "adapter").is_dir() and (p / "metrics.json").exists()]
    return max(runs, key=lambda p: p.stat().st_mtime) if runs else None


def load_scorers(scorer_folder: str | None, judge_folder: str | None):
    """(reward scorer, independent judge), each trained once and cached when no folder is given.

    The two are trained on the two question-disjoint halves of the training data (rl.scorer.disjoint_halves): the
    ensemble reward scorer on one half, the judge family (TF-IDF + hand features, no neural encoder) on the other.
    A reward scorer passed with --scorer must not have seen the judge's half.
    """
    from rl import scorer as scorer_lib
    from rl.data import load_training_set
    from rl.scorer.features import FEATURE_NAMES
    from rl.scorer.model import FORMAT_VERSION
    from rl.text import text_hash

    # a cached scorer is only valid for the feature set and format it was trained with
    cache = artifacts_dir() / "bench" / f"scorers-{text_hash(f'{FORMAT_VERSION} ' + ' '.join(FEATURE_NAMES))[:10]}"
    wanted = {"reward_scorer": (scorer_folder, 0, "ensemble"), "judge": (judge_folder, 1, "judge")}
    loaded = {}
    for name, (folder, half, family) in wanted.items():
        path = Path(folder) if folder else cache / name
        if not (path / "model.pkl").exists():
            if folder:
                raise SystemExit(f"no scorer at {folder}")
            records, _ = load_training_set()
            part = scorer_lib.disjoint_halves(records)[half]
            print(f"training the {name} ({family}) on {len(part)} essays, cached in {path}", flush=True)
            scorer_lib.train_scorer(part, scorer_lib.ScorerConfig(family=family)).save(path)
        loaded[name] = scorer_lib.load_scorer(path)
    if loaded["reward_scorer"].config.family == loaded["judge"].config.family:
        # seen on a GPU run with the judge family on both sides: "in my view => in me view" raised both scorers
        print(f"warning: the reward scorer and the judge are both of family {loaded['judge'].config.family!r}; "
              "edits that fool one tend to fool the other, so M under this judge overstates the gain")  # fmt: skip
    return loaded["reward_scorer"], loaded["judge"]


def describe(label: str, metric: ProductMetric) -> str:
    return (
        f"{label:<34} M={metric.m:+.3f}  harm={metric.harm_share:.3f}  good_small={metric.good_small_share:.3f}  "
        f"mean_chars={metric.mean_chars_changed:.1f}  n={metric.n}"
    )


def run_rewriter(name: str, spec: PolicySpec, settings, scorer, questions, essays):
    rewriter = Rewriter.from_spec(spec, scorer, settings)
    started = time.perf_counter()
    results: list[RewriteResult] = rewriter.rewrite(questions, essays)
    elapsed = time.perf_counter() - started
    tokens_per_s = rewriter.stats.tokens_per_s
    print(
        f"[{name}] {len(essays)} essays in {elapsed:.0f} s, {rewriter.stats.new_tokens} new tokens, "
        f"{tokens_per_s:.1f} tokens/s, accepted {sum(not r.guard_applied for r in results)}",
        flush=True,
    )
    return results, tokens_per_s, elapsed


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--essays", type=int, default=100)
    parser.add_argument("--model", help="rewriter run folder (adapter + config.json); default: latest --recipe run")
    parser.add_argument("--recipe", default="cpu-demo", help="recipe whose rewriter settings and data split to use")
    parser.add_argument("--scorer", help="reward scorer folder (default: ensemble trained once on half A, cached)")
    parser.add_argument("--judge", help="independent judge folder (default: judge family trained on half B, cached)")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--show", type=int, default=5, help="print the edits of this many accepted rewrites")
    parser.add_argument("--set", action="append", default=[], help="recipe override key=value")
    args = parser.parse_args(argv)

    cpu_environment()
    config = load_recipe(args.recipe, args.set)
    model_folder = Path(args.model) if args.model else latest_run(config.output.name)
    _, held_out = load_pool(config.data)
    pool = held_out[: args.essays]
    questions, essays = [e.question for e in pool], [e.essay for e in pool]
    reward_scorer, judge = load_scorers(args.scorer, args.judge)
    if model_folder is None:
        # A fresh checkout has no trained run: train the recipe against the reward scorer (never the judge) first.
        from rl.pipeline import run_recipe

        print(f"no trained run of {config.output.name} under {artifacts_dir()}: training recipe {args.recipe}")
        model_folder = run_recipe(config, reward_scorer, progress=print)[-1].output_dir
    reward_bands, judge_bands = as_band_predictor(reward_scorer), as_band_predictor(judge)
    threads = os.environ.get("AES_TORCH_THREADS", "1")
    print(f"{len(essays)} held-out pool essays; rewriter {model_folder}; torch threads {threads}")

    figures = {}
    runs = [("chosen", policy_spec_of_run(model_folder), config.rewriter)]
    if not args.skip_baseline:
        from dataclasses import replace

        runs.insert(0, ("baseline", PolicySpec(model=config.policy.model), replace(config.rewriter, few_shot=True)))
    for name, spec, settings in runs:
        results, tokens_per_s, elapsed = run_rewriter(name, spec, settings, reward_bands, questions, essays)
        texts = [r.text for r in results]
        under_judge = judge_rewrites(judge_bands, questions, essays, texts)
        under_reward = product_metric(
            [r.band_before for r in results], [r.band_after for r in results], [r.chars_changed for r in results]
        )
        judge_old = judge_bands.predict_bands(questions, essays)
        judge_new = judge_bands.predict_bands(questions, texts)
        # Raters give half bands: the same judge with its bands rounded to 0.5 shows what a rater scale could see.
        under_judge_rounded = product_metric(
            [round(b * 2) / 2 for b in judge_old],
            [round(b * 2) / 2 for b in judge_new],
            [r.chars_changed for r in results],
        )
        print(describe(f"{name} / independent judge", under_judge))
        print(describe(f"{name} / judge, half bands", under_judge_rounded))
        print(describe(f"{name} / reward scorer", under_reward))
        reasons: dict[str, int] = {}
        for r in results:
            reasons[r.reason] = reasons.get(r.reason, 0) + 1
        print(f"{name} guard reasons: {reasons}")
        accepted = [(essay, r) for essay, r in zip(essays, results, strict=True) if not r.guard_applied]
        for essay, r in accepted[: args.show]:
            edits = "; ".join(edit.line() for edit in diff_edits(essay, r.text))
            print(f"  {r.band_before:.2f} -> {r.band_after:.2f}: {edits}")
        figures[name] = (under_judge, under_reward, tokens_per_s, elapsed, under_judge_rounded)

    judge_chosen, reward_chosen, tokens_per_s, elapsed, judge_rounded = figures["chosen"]
    summary = {
        "m": judge_chosen.m,
        "harm_share": judge_chosen.harm_share,
        "good_small_share": judge_chosen.good_small_share,
        "mean_chars_changed": judge_chosen.mean_chars_changed,
        "baseline_m": figures["baseline"][0].m if "baseline" in figures else None,
        "baseline_harm_share": figures["baseline"][0].harm_share if "baseline" in figures else None,
        "tokens_per_s": tokens_per_s,
        "seconds_per_essay": elapsed / len(essays),
        "judge_half_band_m": judge_rounded.m,
        "reward_scorer_m": reward_chosen.m,
        "reward_scorer_good_small_share": reward_chosen.good_small_share,
        "n": judge_chosen.n,
        "model": str(model_folder),
    }
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
