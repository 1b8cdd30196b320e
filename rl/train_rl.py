"""Online RL against the scorer's reward with TRL's GRPOTrainer or RLOOTrainer (the maintained PPO-family trainers).

Each prompt is one sentence of a pool training essay; a completion is its edit lines. The reward of a completion is
rl.reward.edit_reward: the mission's band(new) - band(old) - lambda x chars with the scorer's bands, gated and topped
up by the language model's verdict on the edited sentence (rl/verifier.py; rewriter.edit_verifier), so the policy is
not paid for words a scorer likes but a reader would not accept. The KL term (rl.beta) is taken against a frozen copy
of the starting adapter (TRL adds a "ref" adapter).
"""

import random

from rl.config import RecipeConfig
from rl.edits import apply_edits, parse_edit_lines, sentence_spans
from rl.reward import BandPredictor, chars_changed, edit_reward
from rl.rewriter import sentence_messages
from rl.training import (
    Progress,
    RunResult,
    as_band_predictor,
    common_trainer_args,
    cpu_environment,
    load_pool,
    log_history_metrics,
    new_run_dir,
    progress_callback,
    save_run,
    trainable_policy,
)


def build_rl_prompts(config: RecipeConfig) -> list[dict]:
    """One row per (training pool essay, sentence): the chat prompt plus what the reward function needs."""
    rng = random.Random(config.seed)
    train_pool, _ = load_pool(config.data)
    rows = []
    for essay in rng.sample(train_pool, min(config.rl.essays, len(train_pool))):
        spans = sentence_spans(essay.essay)
        picked = rng.sample(range(len(spans)), min(config.rl.sentences_per_essay, len(spans)))
        for index in sorted(picked):
            start, end = spans[index]
            rows.append(
                {
                    "prompt": sentence_messages(essay.question, essay.essay[start:end]),
                    "question": essay.question,
                    "essay": essay.essay,
                    "sentence_start": start,
                    "sentence_end": end,
                }
            )
    rng.shuffle(rows)
    return rows


class EditReward:
    """TRL reward function: reward of applying a completion's edits to its sentence, under the scorer and (when a
    language model is given) the edit verifier."""

    def __init__(self, scorer: BandPredictor, settings, language_model=None):
        self.scorer = scorer
        self.settings = settings  # RewriterSettings: char_penalty, verdict_threshold, verdict_model, edit_weight
        self.language_model = language_model
        self.original_bands: dict[str, float] = {}
        self.__name__ = "edit_reward"  # TRL logs rewards under the function's name

    @staticmethod
    def edited_sentence(completion_text: str, sentence: str) -> str:
        return apply_edits(sentence, parse_edit_lines(completion_text, sentence))

    def edited_essay(self, completion_text: str, essay: str, start: int, end: int) -> str:
        return essay[:start] + self.edited_sentence(completion_text, essay[start:end]) + essay[end:]

    def __call__(self, prompts, completions, question, essay, sentence_start, sentence_end, **kwargs) -> list[float]:
        texts = [c[-1]["content"] if isinstance(c, list) else c for c in completions]
        edited = [
            self.edited_essay(t, e, a, b) for t, e, a, b in zip(texts, essay, sentence_start, sentence_end, strict=True)
        ]
        unseen = sorted({e for e in essay if e not in self.original_bands})
        if unseen:
            questions_of = dict(zip(essay, question, strict=True))
            bands = self.scorer.predict_bands([questions_of[e] for e in unseen], unseen)
            self.original_bands.update(zip(unseen, (float(b) for b in bands), strict=True))
        changed_rows = [i for i, (new, old) in enumerate(zip(edited, essay, strict=True)) if new != old]
        new_bands = (
            self.scorer.predict_bands([question[i] for i in changed_rows], [edited[i] for i in changed_rows])
            if changed_rows
            else []
        )
        judged = {i: [] for i in changed_rows}
        if self.language_model is not None and changed_rows:
            from rl.verdict_model import load_verdict_model
            from rl.verifier import verdicts

            sentences = {i: essay[i][sentence_start[i] : sentence_end[i]] for i in changed_rows}
            pairs = [(sentences[i], self.edited_sentence(texts[i], sentences[i])) for i in changed_rows]
            model = load_verdict_model(self.settings.verdict_model)  # the raters' learnt verdict, if the round has one
            found = verdicts(self.language_model, pairs, self.settings.verdict_threshold, model)
            for i, verdict in zip(changed_rows, found, strict=True):
                judged[i] = [verdict]
        s = self.settings
        rewards = [0.0] * len(texts)  # no applicable edit: "no change", reward 0
        for i, band in zip(changed_rows, new_bands, strict=True):
            changed = chars_changed(essay[i], edited[i])
            rewards[i] = edit_reward(self.original_bands[essay[i]], float(band), changed, judged[i],
                                     s.char_penalty, s.edit_weight)  # fmt: skip
        return rewards


def run(config: RecipeConfig, scorer, progress: Progress | None = None) -> RunResult:
    from datasets import Dataset

    cpu_environment()
    r = config.rl
    rows = build_rl_prompts(config)
    folder = new_run_dir(config, "rl")
    model, tokenizer = trainable_policy(config)
    shared = {
        **common_trainer_args(config, folder),
        "max_steps": r.max_steps,
        "per_device_train_batch_size": r.batch_size,
        "learning_rate": r.learning_rate,
        "num_generations": r.num_generations,
        "max_completion_length": r.max_completion_length,
        "temperature": r.temperature,
        "beta": r.beta,
        "remove_unused_columns": False,  # the reward function needs essay / sentence columns
    }
    if r.algorithm == "rloo":
        from trl import RLOOConfig as TrainerConfig
        from trl import RLOOTrainer as Trainer
    else:
        from trl import GRPOConfig as TrainerConfig
        from trl import GRPOTrainer as Trainer
    language_model = None
    if config.rewriter.edit_verifier:
        from rl.corrector import LanguageModel

        language_model = LanguageModel.for_rewriter(config.policy.model, config.rewriter)
    edit_reward = EditReward(as_band_predictor(scorer), config.rewriter, language_model)
    trainer = Trainer(
        model=model,
        reward_funcs=[edit_reward],
        args=TrainerConfig(**shared),
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
        callbacks=[progress_callback(progress, "rl")],
    )
    trainer.train()
    metrics = {"stage": "rl", "algorithm": r.algorithm, "prompts": len(rows), **log_history_metrics(trainer)}
    return save_run(folder, trainer.model, tokenizer, config, "rl", metrics)
