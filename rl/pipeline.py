"""Run a recipe's stages in order: what `manage.py train_rewriter` calls."""

import dataclasses

from rl.config import RecipeConfig, stages_of
from rl.training import Progress, RunResult


def run_recipe(
    config: RecipeConfig, scorer, progress: Progress | None = None, pairs=None, passages=None
) -> list[RunResult]:
    """The recipe's stages in the order rl.config.stages_of gives; each continues the adapter the one before wrote.

    `pairs` (rl.preferences.RatedPair) feed DPO and add the better-rated edits to SFT; without them both read the
    recipe's dpo.pairs_csv (SFT only when it is set). `passages` (rl.edit_verdicts.JudgedPassage) are the raters'
    per-change verdicts: SFT learns their accepted edits, DPO their preferred side of each passage.
    """
    from rl import train_dpo, train_rl, train_sft

    stages = {
        "sft": lambda c, s, p: train_sft.run(c, s, p, pairs=pairs, passages=passages),
        "rl": train_rl.run,
        "dpo": lambda c, s, p: train_dpo.run(c, s, p, pairs=pairs, passages=passages),
    }
    results = []
    for stage in stages_of(config.stage):
        result = stages[stage](config, scorer, progress)
        results.append(result)
        adapter = str(result.output_dir / "adapter")
        config = dataclasses.replace(config, policy=dataclasses.replace(config.policy, adapter=adapter))
    return results


def main(argv: list[str] | None = None) -> None:
    """`python -m rl.pipeline --recipe X [--set k=v]`, also under `accelerate launch` (see rl/accelerate/)."""
    import argparse

    from rl.config import load_recipe

    parser = argparse.ArgumentParser(description="Train the rewriter with a recipe")
    parser.add_argument("--recipe", required=True)
    parser.add_argument("--set", action="append", default=[], help="override, e.g. rl.beta=0.05")
    parser.add_argument("--scorer", help="reward scorer folder (default: rl.scorer's promoted scorer)")
    args = parser.parse_args(argv)
    config = load_recipe(args.recipe, args.set)
    scorer = None
    if "rl" in stages_of(config.stage):
        from rl.scorer import load_scorer

        scorer = load_scorer(args.scorer) if args.scorer else load_scorer()
    for result in run_recipe(config, scorer, progress=print):
        print(f"wrote {result.output_dir}")


if __name__ == "__main__":
    main()
