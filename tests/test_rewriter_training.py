"""Tiny real training runs on SmolLM2-135M (cpu-smoke recipe: a couple of steps, a handful of tokens).

The scorer in the RL test is a tiny stand-in (band falls per known misspelling): the real scorer would make the test
slow, and the test is about the trainer wiring (reward function, adapter, run folder), not about the scorer.
"""

import json

import pytest
import torch

from rl import train_dpo, train_rl, train_sft
from rl.config import load_recipe
from rl.models import PolicySpec, load_policy
from rl.preferences import RatedPair
from rl.rewriter import Rewriter, sentence_messages
from rl.train_dpo import build_preference_rows
from rl.training import policy_spec_of_run

pytestmark = pytest.mark.slow

SENTENCES = [
    "The goverment should invest more money in public transport.",
    "Many people believes that children should learn a second language.",
]


class MisspellingScorer:
    def predict_bands(self, questions, essays):
        return [7.0 - 0.5 * sum(w in {"goverment", "enviroment", "becuase"} for w in e.lower().split()) for e in essays]


def smoke(tmp_path, *overrides):
    return load_recipe("cpu-smoke", [f"output.root={tmp_path}", *overrides])


def raw_answers(spec: PolicySpec) -> list[str]:
    model, tokenizer = load_policy(spec)
    rewriter = Rewriter(model, tokenizer, MisspellingScorer(), smoke_settings())
    return [text for text, _ in rewriter.generate([sentence_messages("", s) for s in SENTENCES], 8)]


def smoke_settings():
    return load_recipe("cpu-smoke").rewriter


def test_sft_adapter_changes_outputs_and_never_overwrites(tmp_path):
    config = smoke(tmp_path)
    first = train_sft.run(config)
    # the second run also learns an edit raters rated better (one changed sentence, sft.rated_pair_copies times)
    rated = RatedPair(
        "q", f"{SENTENCES[0]} It is fine.", f"{SENTENCES[0].replace('goverment', 'government')} It is fine.", 6, 6.5
    )
    second = train_sft.run(config, pairs=[rated])
    assert first.output_dir != second.output_dir
    for result in (first, second):
        assert (result.output_dir / "adapter" / "adapter_config.json").exists()
        assert json.loads((result.output_dir / "metrics.json").read_text())["steps"] == 2
        assert json.loads((result.output_dir / "config.json").read_text())["stage"] == "sft"
    rated_counts = [json.loads((r.output_dir / "metrics.json").read_text())["rated_examples"] for r in (first, second)]
    assert rated_counts == [0, config.sft.rated_pair_copies]
    base = raw_answers(PolicySpec(model=config.policy.model))
    tuned = raw_answers(policy_spec_of_run(first.output_dir))
    assert base != tuned


@pytest.mark.parametrize("algorithm", ["grpo", "rloo"])
def test_rl_step_uses_the_edit_reward_and_writes_a_version(tmp_path, algorithm):
    # the recipe's rewriter.edit_verifier is on: the reward function judges completions with the base model too
    seen = []
    config = smoke(tmp_path, "rl.beta=0.0", f"rl.algorithm={algorithm}")
    assert config.rewriter.edit_verifier
    result = train_rl.run(config, MisspellingScorer(), progress=seen.append)
    metrics = json.loads((result.output_dir / "metrics.json").read_text())
    assert metrics["algorithm"] == algorithm and metrics["steps"] == 1
    logged = [entry for entry in seen if any(key.startswith("rewards/edit_reward") for key in entry)]
    assert logged, f"no reward logged: {seen}"
    assert (result.output_dir / "adapter" / "adapter_model.safetensors").exists()


def test_dpo_pairs_and_one_step(tmp_path):
    original = "The goverment should act. Pollution harms health."
    pairs = [
        RatedPair("q", original, "The government should act. Pollution harms health.", 6.0, 6.5),
        RatedPair("q", original, "The goverment must act. Pollution harms health.", 6.0, 6.0),  # equal: skipped
        RatedPair("q", original, "The goverment should act. Pollution harm health.", 6.0, 5.5),
    ]
    rows, skipped = build_preference_rows(pairs)
    assert skipped == 1
    assert [(r["chosen"][0]["content"], r["rejected"][0]["content"]) for r in rows] == [
        ("The goverment should => The government should", "OK"),
        ("OK", "Pollution harms health. => Pollution harm health."),
    ]
    result = train_dpo.run(smoke(tmp_path), pairs=pairs)
    metrics = json.loads((result.output_dir / "metrics.json").read_text())
    assert metrics["rows"] == 2 and metrics["skipped_equal"] == 1 and metrics["steps"] == 1
    assert torch.isfinite(torch.tensor(metrics["last_log"]["loss"]))
