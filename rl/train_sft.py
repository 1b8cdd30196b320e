"""SFT warm start: teach the policy the edit format on (corrupted -> original) sentence pairs.

Out of the box SmolLM2 rewrites wholesale and invents lists of "changes"; trained on sentences with injected learner
errors (rl/corruptions.py LEARNER_ERRORS) and clean sentences it learns to answer `wrong => right` lines or `OK`.
Once raters have rated rewrites, the edits they judged an improvement are added as examples too,
`sft.rated_pair_copies` times each: they are real learner errors fixed the way raters reward. Where raters gave
per-change verdicts (rl/edit_verdicts.py) an example is a passage and the changes they accepted in it, and nothing
else; otherwise it is every changed sentence of a rewrite whose consensus band beat the original's.
"""

import random
from collections.abc import Sequence
from importlib import metadata

from rl.candidates import likely_errors
from rl.config import RecipeConfig
from rl.corruptions import LEARNER_ERRORS, corrupt_sentence
from rl.edit_verdicts import JudgedPassage, accepted_sentence_pairs
from rl.edits import diff_edits, format_edits, split_sentences
from rl.policy_spec import base_model_identity
from rl.preferences import RatedPair, changed_sentences, read_pairs_csv
from rl.rewriter import sentence_messages
from rl.text import inputs_hash
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
    write_train_rows,
)

MIN_SENTENCE_WORDS = 6


def build_sft_examples(
    config: RecipeConfig, pairs: Sequence[RatedPair] = (), passages: Sequence[JudgedPassage] = ()
) -> list[dict]:
    """Conversational prompt/completion rows: a sentence (maybe corrupted) -> its edit lines or OK, plus the edits of
    rewrites the raters rated better and the changes they accepted one by one."""
    s = config.sft
    rng = random.Random(config.seed)
    examples = []
    for source in load_sft_sources(config.data, s.essays):
        # a target that still holds a slip (a misspelling, a lower-case "i") would teach the policy to leave it
        sentences = [
            x for x in split_sentences(source.essay) if len(x.split()) >= MIN_SENTENCE_WORDS and not likely_errors(x)
        ]
        for sentence in rng.sample(sentences, min(s.sentences_per_essay, len(sentences))):
            shown, kinds = sentence, []
            if rng.random() < s.corrupted_share:
                shown, kinds = corrupt_sentence(sentence, rng, kinds=LEARNER_ERRORS)
            target = format_edits(diff_edits(shown, sentence)) if kinds else "OK"
            examples.append(
                {
                    "prompt": sentence_messages(source.question, shown),
                    "completion": [{"role": "assistant", "content": target}],
                    "origin": "corrupted" if kinds else "clean",
                }
            )
    examples += (rated_better_examples(pairs) + accepted_edit_examples(passages)) * s.rated_pair_copies
    rng.shuffle(examples)
    return examples


def accepted_edit_examples(passages: Sequence[JudgedPassage]) -> list[dict]:
    """One row per passage with changes the raters accepted: the passage -> the edit lines of those changes only."""
    return [
        {
            "prompt": sentence_messages(question, before),
            "completion": [{"role": "assistant", "content": format_edits(diff_edits(before, accepted))}],
            "origin": "rated_edit",
        }
        for question, before, accepted in accepted_sentence_pairs(passages)
    ]


def rated_better_examples(pairs: Sequence[RatedPair]) -> list[dict]:
    """One row per sentence a better-rated rewrite changed: the original sentence -> the raters' accepted edits."""
    examples = []
    for pair in pairs:
        if pair.band_rewrite <= pair.band_original:
            continue
        for sentence, edits in changed_sentences(pair.original, pair.rewrite):
            examples.append(
                {
                    "prompt": sentence_messages(pair.question, sentence),
                    "completion": [{"role": "assistant", "content": format_edits(edits)}],
                    "origin": "rated",
                }
            )
    return examples


# The recipe sections an SFT run does not read: a change there leaves its adapter as it was.
SECTIONS_SFT_IGNORES = ("name", "stage", "rl", "dpo", "rewriter", "output")
LIBRARIES = ("torch", "transformers", "trl", "peft")


def inputs_key(config: RecipeConfig, examples: list[dict]) -> str:
    """A hash of everything an SFT run's adapter depends on: its training rows, the base weights, the recipe's
    sections that SFT reads and the training libraries' versions. Equal keys train the same warm start, so a round
    reuses an earlier one instead of training it again (labeling/training/steps.py sft)."""
    recipe = {k: v for k, v in config.to_dict().items() if k not in SECTIONS_SFT_IGNORES}
    inputs = {
        "examples": examples,
        "base_model": base_model_identity(config.policy, config.use_cpu),
        "recipe": recipe,
        "libraries": {name: metadata.version(name) for name in LIBRARIES},
    }
    return inputs_hash(inputs)


def run(
    config: RecipeConfig,
    scorer=None,
    progress: Progress | None = None,
    pairs: list[RatedPair] | None = None,
    passages: list[JudgedPassage] | None = None,
    examples: list[dict] | None = None,
) -> RunResult:
    """Train a LoRA adapter on the corruption pairs, the rated `pairs` (default: the recipe's dpo.pairs_csv, if set)
    and the accepted changes of `passages`, or on `examples` already built from them; `scorer` is unused (same
    signature as the other stages). The examples are written to the run folder (train_rows.jsonl)."""
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    cpu_environment()
    s = config.sft
    if examples is None:
        if pairs is None:
            pairs = read_pairs_csv(config.dpo.pairs_csv) if config.dpo.pairs_csv else []
        examples = build_sft_examples(config, pairs, passages or ())
    folder = new_run_dir(config, "sft")
    write_train_rows(folder, examples)
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
        "corrupted_examples": sum(e["origin"] == "corrupted" for e in examples),
        "rated_examples": sum(e["origin"] == "rated" for e in examples),
        "rated_edit_examples": sum(e["origin"] == "rated_edit" for e in examples),
        **log_history_metrics(trainer),
    }
    return save_run(folder, trainer.model, tokenizer, config, "sft", metrics)
