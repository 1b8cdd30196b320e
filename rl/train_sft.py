"""SFT warm start: teach the policy the edit format on (corrupted -> original) sentence pairs.

Out of the box SmolLM2 rewrites wholesale and invents lists of "changes"; trained on sentences with injected learner
errors (rl/corruptions.py) and clean sentences it learns to answer `wrong => right` lines or `OK`.
"""

import random

from rl.config import RecipeConfig
from rl.corruptions import corrupt_sentence
from rl.edits import diff_edits, format_edits, split_sentences
from rl.rewriter import sentence_messages
from rl.training import (
    Progress,
    RunResult,
    common_trainer_args,
    cpu_environment,
    load_sft_sources,
    log_history_metrics,
    new_run_dir,
    progress_callback,
    save_run,
    trainable_policy,
)

MIN_SENTENCE_WORDS = 6


def build_sft_examples(config: RecipeConfig) -> list[dict]:
    """Conversational prompt/completion rows: a sentence (maybe corrupted) -> its edit lines or OK."""
    s = config.sft
    rng = random.Random(config.seed)
    examples = []
    for source in load_sft_sources(config.data, s.essays):
        sentences = [x for x in split_sentences(source.essay) if len(x.split()) >= MIN_SENTENCE_WORDS]
        for sentence in rng.sample(sentences, min(s.sentences_per_essay, len(sentences))):
            shown, kinds = sentence, []
            if rng.random() < s.corrupted_share:
                shown, kinds = corrupt_sentence(sentence, rng)
            target = format_edits(diff_edits(shown, sentence)) if kinds else "OK"
            examples.append(
                {
                    "prompt": sentence_messages(source.question, shown),
                    "completion": [{"role": "assistant", "content": target}],
                    "errors": ",".join(kinds),
                }
            )
    rng.shuffle(examples)
    return examples


def run(config: RecipeConfig, scorer=None, progress: Progress | None = None) -> RunResult:
    """Train a LoRA adapter on the corruption pairs; `scorer` is unused (same signature as the other stages)."""
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    cpu_environment()
    s = config.sft
    examples = build_sft_examples(config)
    folder = new_run_dir(config, "sft")
    model, tokenizer = trainable_policy(config)
    args = SFTConfig(
        **common_trainer_args(config, folder),
        num_train_epochs=s.epochs,
        max_steps=s.max_steps,
        per_device_train_batch_size=s.batch_size,
        learning_rate=s.learning_rate,
        lr_scheduler_type="cosine" if s.max_steps < 0 or s.max_steps > 10 else "constant",
        warmup_steps=0,
        max_length=s.max_length,
        completion_only_loss=True,
    )
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=Dataset.from_list([{k: e[k] for k in ("prompt", "completion")} for e in examples]),
        processing_class=tokenizer,
        callbacks=[progress_callback(progress, "sft")],
    )
    trainer.train()
    metrics = {
        "stage": "sft",
        "examples": len(examples),
        "corrupted_examples": sum(bool(e["errors"]) for e in examples),
        **log_history_metrics(trainer),
    }
    return save_run(folder, trainer.model, tokenizer, config, "sft", metrics)
