"""DPO from raters' preferences (TRL DPOTrainer).

A rated pair is (original essay, rewrite) with a consensus band for each. Chosen = the text with the higher band
(the original stands for "no change"), rejected = the other; pairs with equal bands are skipped. The pair is turned
into the policy's own format: for every sentence the rewrite changed, the prompt is that sentence and the two
answers are its edit lines and `OK`.

Where raters gave per-change verdicts, a passage's preferred side is used instead (rl/edit_verdicts.py): chosen =
the edit lines of the changes they accepted, rejected = those plus the changes they rejected (or `OK` when they
rejected none), so a rewrite's good and bad changes in one essay pull in their own directions.
"""

from rl.config import RecipeConfig
from rl.edit_verdicts import JudgedPassage, preference_sentence_pairs
from rl.edits import diff_edits, format_edits
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
    write_train_rows,
)


def build_preference_rows(pairs: list[RatedPair], passages: list[JudgedPassage] = ()) -> tuple[list[dict], int]:
    """(DPO rows, pairs skipped for equal bands): the essay-level pairs' changed sentences, then the passages."""
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
    for pair in preference_sentence_pairs(passages):
        chosen, rejected = (format_edits(diff_edits(pair.before, text)) for text in (pair.chosen, pair.rejected))
        if chosen != rejected:
            rows.append(
                {
                    "prompt": sentence_messages(pair.question, pair.before),
                    "chosen": [{"role": "assistant", "content": chosen}],
                    "rejected": [{"role": "assistant", "content": rejected}],
                }
            )
    return rows, skipped


def run(
    config: RecipeConfig,
    scorer=None,
    progress: Progress | None = None,
    pairs: list[RatedPair] | None = None,
    passages: list[JudgedPassage] | None = None,
) -> RunResult:
    """Train on `pairs` (or the recipe's dpo.pairs_csv) and the passages with per-change verdicts; `scorer` is
    unused (same signature as the other stages). The rows are written to the run folder (train_rows.jsonl)."""
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    cpu_environment()
    d = config.dpo
    passages = passages or []
    if pairs is None and not passages:
        if not d.pairs_csv:
            raise ValueError("DPO needs rated pairs: pass pairs=... or set dpo.pairs_csv in the recipe")
        pairs = read_pairs_csv(d.pairs_csv)
    pairs = pairs or []
    rows, skipped = build_preference_rows(pairs, passages)
    if not rows:
        raise ValueError(f"no usable preference pairs ({len(pairs)} given, {skipped} with equal bands)")
    folder = new_run_dir(config, "dpo")
    write_train_rows(folder, rows)
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
    metrics = {
        "stage": "dpo",
        "pairs": len(pairs),
        "passages": len(passages),
        "skipped_equal": skipped,
        "rows": len(rows),
    }
    metrics.update(log_history_metrics(trainer))
    return save_run(folder, trainer.model, tokenizer, config, "dpo", metrics)
