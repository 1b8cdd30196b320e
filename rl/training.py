"""Helpers shared by the SFT, RL and DPO entry points: data, LoRA, run folders, progress reporting."""

import csv
import json
import os
import random
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rl.config import DataSettings, RecipeConfig
from rl.models import PolicySpec, artifacts_dir, configure_cpu_threads, resolve_model_path
from rl.reward import BandPredictor
from rl.text import normalise_text, parse_band, restore_capitals, text_hash

REPO = Path(__file__).resolve().parent.parent
TEST_CSV = REPO / "data" / "chillies_clean" / "test.csv"
RAW_CHILLIES_CSV = REPO / "data" / "raw" / "chillies_gpt_eval_test.csv"
MIN_ESSAY_CHARS, MAX_ESSAY_CHARS = 800, 3500
# Pool rows that are not essays: chat-bot refusals and Task 1 chart reports scraped with the tasks.
NOT_AN_ESSAY = ("provide the essay", "input essay", "i see you've provided", "the line chart", "the bar chart",
                "the pie chart", "the table ", "the graph ", "the diagram", "the map")  # fmt: skip

Progress = Callable[[dict], None]


@dataclass
class PoolEssay:
    question: str
    essay: str


@dataclass
class RunResult:
    output_dir: Path
    metrics: dict = field(default_factory=dict)


def _csv_rows(path: Path | str) -> list[dict]:
    with open(REPO / path if not Path(path).is_absolute() else path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _looks_like_essay(text: str) -> bool:
    opening = normalise_text(text[:200])
    return MIN_ESSAY_CHARS <= len(text) <= MAX_ESSAY_CHARS and not any(marker in opening for marker in NOT_AN_ESSAY)


def load_pool(data: DataSettings) -> tuple[list[PoolEssay], list[PoolEssay]]:
    """(training rows, held-out rows) of the unscored pool, deduplicated, test essays and non-essays removed.

    The held-out rows are the benchmark's: no training stage ever reads them.
    """
    forbidden = {text_hash(row["essay"]) for row in _csv_rows(TEST_CSV)}
    seen, essays = set(), []
    for row in _csv_rows(data.pool_csv):
        text = (row.get("paragraph") or "").strip()
        digest = text_hash(text)
        if digest in forbidden or digest in seen or not _looks_like_essay(text):
            continue
        seen.add(digest)
        essays.append(PoolEssay(row["question"].strip(), text))
    random.Random(data.seed).shuffle(essays)
    cut = len(essays) - int(round(len(essays) * data.held_out_fraction))
    return essays[:cut], essays[cut:]


def essay_opening(text: str) -> str:
    """An essay's first 80 letters: the same essay whatever its case, spacing or punctuation."""
    return re.sub(r"[^a-z]", "", text.lower())[:80]


def load_learner_essays(data: DataSettings) -> list[PoolEssay]:
    """Held-out essays by real candidates, with the errors they made: the scorer benchmark's test split, which no
    scorer, judge, SFT or threshold-tuning step reads. Its file is lower-cased, so capitals are restored at sentence
    starts and on "I". Essays whose first 80 letters open an essay that training reads are left out: the raw chillies
    file (SFT sources) is cleaned differently, so hashes miss some, and 6 test essays open like training essays, 4 of
    them near-copies (95-100% alike, a word or a spelling apart)."""
    from rl.data import load_training_set

    in_training = {essay_opening(row["essay"]) for row in _csv_rows(RAW_CHILLIES_CSV)}
    in_training |= {essay_opening(record.essay) for record in load_training_set()[0]}
    rows = [(row["question"].strip(), row["essay"].strip()) for row in _csv_rows(TEST_CSV)]
    essays = [
        PoolEssay(question, restore_capitals(essay))
        for question, essay in rows
        if essay_opening(essay) not in in_training and _looks_like_essay(essay)
    ]
    random.Random(data.seed).shuffle(essays)
    return essays


def load_sft_sources(data: DataSettings, count: int) -> list[PoolEssay]:
    """Better essays to corrupt: raw chillies essays at or above sft_min_band (test essays excluded).

    The cleaned chillies files are lower-cased, which would teach the policy lower-case English, so the raw file
    (original casing) is the source; pool training rows fill up if it has too few.
    """
    forbidden = {text_hash(row["essay"]) for row in _csv_rows(TEST_CSV)}
    _, held_out = load_pool(data)
    forbidden |= {text_hash(e.essay) for e in held_out}
    chosen, seen = [], set()
    for row in _csv_rows(RAW_CHILLIES_CSV):
        band, _ = parse_band(row["band"])
        digest = text_hash(row["essay"])
        if band is None or float(band) < data.sft_min_band or digest in forbidden or digest in seen:
            continue
        if _looks_like_essay(row["essay"].strip()):
            seen.add(digest)
            chosen.append(PoolEssay(row["prompt"].strip(), row["essay"].strip()))
    random.Random(data.seed).shuffle(chosen)
    if len(chosen) < count:
        train_pool, _ = load_pool(data)
        chosen += [e for e in train_pool if text_hash(e.essay) not in seen][: count - len(chosen)]
    return chosen[:count]


def lora_config(config: RecipeConfig):
    from peft import LoraConfig

    return LoraConfig(
        r=config.lora.r,
        lora_alpha=config.lora.alpha,
        lora_dropout=config.lora.dropout,
        target_modules=list(config.lora.target_modules),
        task_type="CAUSAL_LM",
    )


def trainable_policy(config: RecipeConfig):
    """(model, tokenizer) to train: the recipe's adapter made trainable, or a fresh LoRA on the base model."""
    from peft import PeftModel, get_peft_model, prepare_model_for_kbit_training

    from rl.models import load_base_model, load_tokenizer, resolve_adapter_path

    model = load_base_model(config.policy)
    if config.policy.load_in_4bit:
        model = prepare_model_for_kbit_training(model)
    if config.policy.adapter:
        model = PeftModel.from_pretrained(model, resolve_adapter_path(config.policy.adapter), is_trainable=True)
    else:
        model = get_peft_model(model, lora_config(config))
    return model, load_tokenizer(config.policy)


def new_run_dir(config: RecipeConfig, stage: str) -> Path:
    """A fresh folder for this run; an earlier run's folder is never reused."""
    if not is_main_process():  # under accelerate only rank 0 writes the model version
        return Path(tempfile.mkdtemp(prefix=f"rank{os.environ.get('RANK')}-"))
    root = Path(config.output.root) if config.output.root else artifacts_dir() / "rewriter_runs"
    root.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for attempt in range(1000):
        suffix = f"-{attempt}" if attempt else ""
        folder = root / f"{config.output.name}-{stage}-{stamp}{suffix}"
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue
    raise RuntimeError(f"could not create a new run folder under {root}")


def write_train_rows(folder: Path, rows: list[dict]) -> None:
    """The rows a trainer learns from, one JSON object a line (train_rows.jsonl): what a version was trained on."""
    if not is_main_process():
        return
    with (folder / "train_rows.jsonl").open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def save_run(folder: Path, model, tokenizer, config: RecipeConfig, stage: str, metrics: dict) -> RunResult:
    """adapter/ + config.json + metrics.json: one rewriter model version."""
    if not is_main_process():
        return RunResult(folder, metrics)
    if "ref" in getattr(model, "peft_config", {}):  # GRPO/RLOO's frozen reference copy is not part of the version
        model.delete_adapter("ref")
    model.save_pretrained(folder / "adapter")
    tokenizer.save_pretrained(folder / "adapter")
    description = {
        "stage": stage,
        "base_model": config.policy.model,
        "base_model_path": resolve_model_path(config.policy.model),
        "parent_adapter": config.policy.adapter,
        "recipe": config.to_dict(),
    }
    (folder / "config.json").write_text(json.dumps(description, indent=2))
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=2))
    return RunResult(folder, metrics)


def is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def policy_spec_of_run(folder: Path | str) -> PolicySpec:
    """The PolicySpec that loads a saved run: its base model plus its adapter."""
    folder = Path(folder)
    description = json.loads((folder / "config.json").read_text())
    policy = description["recipe"]["policy"]
    return PolicySpec(
        model=description["base_model"],
        adapter=str(folder / "adapter"),
        load_in_4bit=policy.get("load_in_4bit", False),
        dtype=policy.get("dtype", "auto"),
    )


def common_trainer_args(config: RecipeConfig, folder: Path) -> dict:
    """TrainingArguments shared by the TRL trainers: no hub, no external loggers, checkpoints inside the run."""
    configure_cpu_threads()
    return {
        "output_dir": str(folder / "trainer"),
        "use_cpu": config.use_cpu,
        "seed": config.seed,
        "report_to": [],
        "save_strategy": "no",
        "logging_steps": 1,
        "disable_tqdm": True,
        "dataloader_num_workers": 0,
        "bf16": not config.use_cpu and config.policy.dtype in {"auto", "bfloat16"},
    }


def progress_callback(progress: Progress | None, stage: str):
    """A transformers TrainerCallback that forwards every log line (loss, reward, step) to `progress`."""
    from transformers import TrainerCallback

    class ForwardLogs(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if progress is not None:
                progress({"stage": stage, "step": state.global_step, "max_steps": state.max_steps, **(logs or {})})

    return ForwardLogs()


def log_history_metrics(trainer) -> dict:
    """The step count, training time and final loss/reward figures from a trainer's log history."""
    history = [entry for entry in trainer.state.log_history if "loss" in entry or "reward" in entry]
    summary = {"steps": trainer.state.global_step}
    runtime = [entry["train_runtime"] for entry in trainer.state.log_history if "train_runtime" in entry]
    if runtime:
        summary["train_seconds"] = runtime[-1]  # the optimiser steps alone, model loading excluded
    if history:
        summary["first_log"] = history[0]
        summary["last_log"] = history[-1]
    return summary


def as_band_predictor(scorer) -> BandPredictor:
    """Anything with predict_bands(), or a scorer with predict() -> [Prediction(band, ...)]."""
    if hasattr(scorer, "predict_bands"):
        return scorer

    class _Bands:
        def predict_bands(self, questions, essays):
            return [float(p.band) for p in scorer.predict(list(questions), list(essays))]

    return _Bands()


def cpu_environment() -> None:
    """Tokenizers' own thread pool would compete with torch for the 2 cores."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    configure_cpu_threads()
