"""DPO from raters' preferences (TRL DPOTrainer).

A rated pair is (original essay, rewrite) with a consensus band for each. Chosen = the text with the higher band
(the original stands for "no change"), rejected = the other; pairs with equal bands are skipped. The pair is turned
into the policy's own format: for every sentence the rewrite changed, the prompt is that sentence and the two
answers are its edit lines and `OK`.
"""

from rl.config import RecipeConfig
from rl.edits import format_edits
from rl.preferences import RatedPair, changed_sentences, read_pairs_csv
from rl.rewriter import sentence_messages
from rl.training import (
    Progress,
    RunResult,
    common_trainer_args,
    cpu_environment,
    log_history_metrics,
    new_run_dir,
    progress_callback,
    save_run,
    trainable_policy,
)


def build_preference_rows(pairs: list[RatedPair]) -> tuple[list[dict], int]:
    """(DPO rows, pairs skipped for equal bands)."""
    rows, skipped = [], 0
    for pair in pairs:
        if pair.band_rewrite == pair.band_original:
            skipped += 1
            continue
        rewrite_wins = pair.band_rewrite > pair.band_original
        for sentence, edits in changed_sentences(pair.original, pair.rewrite):
            edited, unchanged = format_edits(edits), "OK"
            rows.append(
                {
                    "prompt": sentence_messages(pair.question, sentence),
                    "chosen": [{"role": "assistant", "content": edited if rewrite_wins else unchanged}],
                    "rejected": [{"role": "assistant", "content": unchanged if rewrite_wins else edited}],
                }
            )
    return rows, skipped


def run(
    config: RecipeConfig, scorer=None, progress: Progress | None = None, pairs: list[RatedPair] | None = None
) -> RunResult:
    """Train on `pairs` (or the recipe's dpo.pairs_csv); `scorer` is unused (same signature as the other stages)."""
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    cpu_environment()
    d = config.dpo
    if pairs is None:
        if not d.pairs_csv:
            raise ValueError("DPO needs rated pairs: pass pairs=... or set dpo.pairs_csv in the recipe")
        pairs = read_pairs_csv(d.pairs_csv)
    rows, skipped = build_preference_rows(pairs)
    if not rows:
        raise ValueError(f"no usable preference pairs ({len(pairs)} given, {skipped} with equal bands)")
    folder = new_run_dir(config, "dpo")
    model, tokenizer = trainable_policy(config)
    args = DPOConfig(
        **common_trainer_args(config, folder),
        max_steps=d.max_steps,
        num_train_epochs=d.epochs,
        per_device_train_batch_size=d.batch_size,
        learning_rate=d.learning_rate,
        beta=d.beta,
        max_length=config.sft.max_length,
    )
    trainer = DPOTrainer(
        model=model,
        args=args,
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
        callbacks=[progress_callback(progress, "dpo")],
    )
    trainer.train()
    metrics = {"stage": "dpo", "pairs": len(pairs), "skipped_equal": skipped, "rows": len(rows)}
    metrics.update(log_history_metrics(trainer))
    return save_run(folder, trainer.model, tokenizer, config, "dpo", metrics)
