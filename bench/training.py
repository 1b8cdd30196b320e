"""Benchmark the rewriter's training stages and generation on this machine's device: seconds per step, tokens/s,
peak GPU memory, with the recipe's dtype and 4-bit (QLoRA) setting.

    python bench/training.py [--recipe gpu-3b-qlora] [--model ID_OR_PATH | --random-init llama-3.2-3b]
                             [--steps 10] [--essays 16] [--scorer FOLDER] [--stages sft,grpo,rloo,dpo,generate]

Each stage starts from the base model with a fresh LoRA adapter and runs `--steps` optimiser steps with the recipe's
batch sizes: SFT on injected learner errors, GRPO and RLOO against the scorer's reward, DPO on synthetic preference
pairs (a clean essay preferred to the same essay with injected errors: there may be no rated pairs yet), then the
rewriter (with its guard) on `--essays` held-out pool essays. Seconds per step come from the trainer's own runtime
(model loading excluded, the first step's warm-up included).

`--random-init NAME` builds that architecture with random weights and the packaged SmolLM2 tokenizer: nothing can be
downloaded here, and step time and memory depend on the model's shape, not its weights (generation always runs to
max_new_tokens, so its figure is a worst case). The reward scorer is trained on the published data first unless
`--scorer` names one (`--scorer-family judge` trains the family without a neural encoder). The last line is one JSON
object.
"""

import argparse
import dataclasses
import gc
import json
import random
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from rl.config import RecipeConfig, load_recipe  # noqa: E402
from rl.corruptions import corrupt_sentence  # noqa: E402
from rl.edits import split_sentences  # noqa: E402
from rl.models import PACKAGED_PREFIX, artifacts_dir, resolve_model_path  # noqa: E402
from rl.preferences import RatedPair  # noqa: E402
from rl.training import as_band_predictor, cpu_environment, load_pool, load_sft_sources  # noqa: E402


def llama3_shape(hidden: int, intermediate: int, layers: int, heads: int, rope_factor: float, tied: bool) -> dict:
    """What the Llama 3.x configs on the Hugging Face hub share, with the sizes that differ between them."""
    return {
        "model_type": "llama",
        "hidden_size": hidden,
        "intermediate_size": intermediate,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "num_key_value_heads": 8,
        "head_dim": 128,
        "vocab_size": 128256,
        "max_position_embeddings": 131072,
        "rms_norm_eps": 1e-5,
        "rope_theta": 500000.0,
        "rope_scaling": {
            "rope_type": "llama3",
            "factor": rope_factor,
            "low_freq_factor": 1.0,
            "high_freq_factor": 4.0,
            "original_max_position_embeddings": 8192,
        },
        "tie_word_embeddings": tied,
    }


# For --random-init: the shapes of published models (their config.json on the Hugging Face hub).
ARCHITECTURES = {
    "llama-3.2-3b": llama3_shape(3072, 8192, layers=28, heads=24, rope_factor=32.0, tied=True),
    "llama-3.1-8b": llama3_shape(4096, 14336, layers=32, heads=32, rope_factor=8.0, tied=False),
    # not a published model: a CPU smoke test of this path in seconds
    "llama-tiny": {
        "model_type": "llama",
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 16,
        "vocab_size": 49152,
        "max_position_embeddings": 2048,
        "tie_word_embeddings": True,
    },
}
TOKENIZER_SOURCE = f"{PACKAGED_PREFIX}smollm2-135m-instruct"
STAGES = ("sft", "grpo", "rloo", "dpo", "generate")
LOGGED = ("loss", "reward", "kl", "rewards/accuracies", "step_time")  # of each stage's last log line


def random_init_model(name: str) -> Path:
    """A folder holding architecture `name` with random bf16 weights, built once."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    if name not in ARCHITECTURES:
        raise SystemExit(f"unknown architecture {name!r}; known: {sorted(ARCHITECTURES)}")
    folder = artifacts_dir() / "bench" / f"random-{name}"
    if (folder / "config.json").exists():
        return folder
    tokenizer = AutoTokenizer.from_pretrained(resolve_model_path(TOKENIZER_SOURCE))
    shape = dict(ARCHITECTURES[name])
    config = AutoConfig.for_model(
        shape.pop("model_type"),
        **shape,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    device = "cuda" if torch.cuda.is_available() else "cpu"
    with torch.device(device):  # initialising billions of weights is minutes on a CPU, seconds on a GPU
        model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    staging = folder.with_name(folder.name + ".partial")  # an interrupted save must not pass for a model
    shutil.rmtree(staging, ignore_errors=True)
    model.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    staging.rename(folder)
    del model
    if device == "cuda":
        torch.cuda.empty_cache()
    return folder


def synthetic_pairs(config: RecipeConfig, count: int) -> list[RatedPair]:
    """Clean essays preferred to copies with learner errors injected into two sentences (DPO reads only which band is
    higher)."""
    rng = random.Random(config.seed)
    pairs = []
    for source in load_sft_sources(config.data, count):
        sentences = split_sentences(source.essay)
        damaged = source.essay
        for sentence in rng.sample(sentences, min(2, len(sentences))):
            corrupted, kinds = corrupt_sentence(sentence, rng)
            if kinds:
                damaged = damaged.replace(sentence, corrupted, 1)
        if damaged != source.essay:
            pairs.append(RatedPair(source.question, damaged, source.essay, band_original=6.5, band_rewrite=7.0))
    return pairs


def load_reward_scorer(folder: str | None, family: str):
    from rl import scorer as scorer_lib

    if folder:
        return scorer_lib.load_scorer(folder)
    from rl.data import load_training_set

    records, _ = load_training_set()
    print(f"training the reward scorer ({family}) on {len(records)} essays", flush=True)
    return scorer_lib.train_scorer(records, scorer_lib.ScorerConfig(family=family))


class PeakMemory:
    """Peak GPU memory allocated by torch inside the block, in GiB (None without CUDA)."""

    def __enter__(self):
        if torch.cuda.is_available():
            gc.collect()  # the previous stage's models, so that they do not count here
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
        self.gib = None
        return self

    def __exit__(self, *exc):
        if torch.cuda.is_available():
            self.gib = round(torch.cuda.max_memory_allocated() / 2**30, 2)


def train_stage(stage: str, config: RecipeConfig, scorer, steps: int, pairs: list[RatedPair]) -> dict:
    from rl import train_dpo, train_rl, train_sft

    config = dataclasses.replace(
        config,
        sft=dataclasses.replace(config.sft, max_steps=steps),
        rl=dataclasses.replace(config.rl, max_steps=steps, algorithm="rloo" if stage == "rloo" else "grpo"),
        dpo=dataclasses.replace(config.dpo, max_steps=steps),
    )
    with PeakMemory() as peak:
        if stage == "sft":
            result = train_sft.run(config, None, None, pairs=[])
        elif stage == "dpo":
            result = train_dpo.run(config, None, None, pairs=pairs)
        else:
            result = train_rl.run(config, scorer, None)
    metrics = result.metrics
    done = metrics["steps"]
    return {
        "steps": done,
        "s_per_step": round(metrics["train_seconds"] / done, 2) if done else None,
        "peak_gib": peak.gib,
        "last_log": {k: v for k, v in metrics.get("last_log", {}).items() if k in LOGGED},
    }


def generate(config: RecipeConfig, scorer, essays: int) -> dict:
    from rl.rewriter import Rewriter

    _, held_out = load_pool(config.data)
    pool = held_out[:essays]
    with PeakMemory() as peak:
        rewriter = Rewriter.from_spec(config.policy, as_band_predictor(scorer), config.rewriter)
        started = time.perf_counter()
        results = rewriter.rewrite([e.question for e in pool], [e.essay for e in pool])
        elapsed = time.perf_counter() - started
    return {
        "essays": len(pool),
        "seconds_per_essay": round(elapsed / len(pool), 2),
        "new_tokens": rewriter.stats.new_tokens,
        "tokens_per_s": round(rewriter.stats.tokens_per_s, 1),
        "accepted": sum(not r.guard_applied for r in results),
        "peak_gib": peak.gib,
    }


def device_name() -> str:
    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    return f"cpu ({torch.get_num_threads()} torch threads)"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipe", default="gpu-3b-qlora")
    model = parser.add_mutually_exclusive_group()
    model.add_argument("--model", help="base model: a Hugging Face id or local folder (default: the recipe's)")
    model.add_argument("--random-init", choices=sorted(ARCHITECTURES), help="this architecture, random weights")
    parser.add_argument("--steps", type=int, default=10, help="optimiser steps per training stage")
    parser.add_argument("--essays", type=int, default=16, help="held-out essays for the generation figure")
    parser.add_argument("--scorer", help="reward scorer folder (default: train one on the published data)")
    parser.add_argument("--scorer-family", default="ensemble", help="family of the scorer trained without --scorer")
    parser.add_argument("--stages", default=",".join(STAGES), help=f"comma-separated subset of {','.join(STAGES)}")
    parser.add_argument("--set", action="append", default=[], help="recipe override key=value")
    args = parser.parse_args(argv)

    stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    unknown = sorted(set(stages) - set(STAGES))
    if unknown:
        parser.error(f"unknown stage(s) {unknown}; choose from {','.join(STAGES)}")
    cpu_environment()
    config = load_recipe(args.recipe, args.set)
    base = str(random_init_model(args.random_init)) if args.random_init else args.model
    policy = dataclasses.replace(config.policy, model=base or config.policy.model, adapter=None)
    output = dataclasses.replace(config.output, root=str(artifacts_dir() / "bench" / "training_runs"))
    config = dataclasses.replace(config, policy=policy, output=output)
    needs_scorer = {"grpo", "rloo", "generate"} & set(stages)
    scorer = load_reward_scorer(args.scorer, args.scorer_family) if needs_scorer else None
    pairs = synthetic_pairs(config, max(8, config.dpo.batch_size * args.steps)) if "dpo" in stages else []

    print(
        f"device {device_name()}; model {args.random_init or policy.model}"
        f"{' (random weights)' if args.random_init else ''}; 4-bit {policy.load_in_4bit}; dtype {policy.dtype}",
        flush=True,
    )
    figures: dict[str, dict] = {}
    for stage in stages:
        started = time.perf_counter()
        figures[stage] = (
            generate(config, scorer, args.essays) if stage == "generate" else train_stage(stage, config, scorer,
                                                                                         args.steps, pairs)
        )  # fmt: skip
        figures[stage]["wall_s"] = round(time.perf_counter() - started, 1)
        print(f"[{stage}] {json.dumps(figures[stage])}", flush=True)

    print(f"\n{'stage':<10}{'steps':>7}{'s/step':>9}{'tokens/s':>10}{'peak GiB':>10}{'wall s':>9}")
    for stage, f in figures.items():
        steps = f.get("steps", "")
        per_step = f.get("s_per_step") if f.get("s_per_step") is not None else ""
        peak = f["peak_gib"] if f["peak_gib"] is not None else "-"
        print(f"{stage:<10}{steps:>7}{per_step:>9}{f.get('tokens_per_s', ''):>10}{peak:>10}{f['wall_s']:>9}")
    summary = {
        "device": device_name(),
        "model": args.random_init or policy.model,
        "random_weights": bool(args.random_init),
        "load_in_4bit": policy.load_in_4bit,
        "dtype": policy.dtype,
        "recipe": config.name,
        "stages": figures,
    }
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
