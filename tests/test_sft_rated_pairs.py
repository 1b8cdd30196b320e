"""The SFT warm start learns the edits raters rated better, and nothing from pairs they did not prefer."""

from rl.config import load_recipe
from rl.preferences import RatedPair
from rl.rewriter import sentence_messages
from rl.train_sft import build_sft_examples

ORIGINAL = "The goverment should act now. Many people believes it. Pollution is bad."
BETTER = "The government should act now. Many people believe it. Pollution is bad."
WORSE = "The goverment should acting now. Many people believes it. Pollution is bad."


def rated_rows(examples):
    return [e for e in examples if e["origin"] == "rated"]


def test_better_rated_rewrites_become_examples_of_their_edits():
    config = load_recipe("cpu-smoke")
    pairs = [
        RatedPair("Should governments act?", ORIGINAL, BETTER, 6.0, 6.5),
        RatedPair("Should governments act?", ORIGINAL, WORSE, 6.0, 5.5),  # raters preferred the original
        RatedPair("Should governments act?", ORIGINAL, BETTER, 6.0, 6.0),  # equal bands: no verdict
    ]
    rows = rated_rows(build_sft_examples(config, pairs))
    assert config.sft.rated_pair_copies == 2
    # two changed sentences of the one better-rated pair, each twice
    assert len(rows) == 4
    answers = {row["completion"][0]["content"]: row["prompt"] for row in rows}
    assert answers == {
        "The goverment should => The government should": sentence_messages(
            "Should governments act?", "The goverment should act now."
        ),
        "people believes it. => people believe it.": sentence_messages(
            "Should governments act?", "Many people believes it."
        ),
    }


def test_copies_setting_and_unchanged_corpus_without_pairs():
    plain = build_sft_examples(load_recipe("cpu-smoke"))
    assert rated_rows(plain) == []
    # no rated pairs: exactly the corruption examples as before (same order, so runs stay reproducible)
    assert build_sft_examples(load_recipe("cpu-smoke"), []) == plain
    pair = RatedPair("q", ORIGINAL, BETTER, 6.0, 6.5)
    assert rated_rows(build_sft_examples(load_recipe("cpu-smoke", ["sft.rated_pair_copies=0"]), [pair])) == []
    assert len(rated_rows(build_sft_examples(load_recipe("cpu-smoke", ["sft.rated_pair_copies=3"]), [pair]))) == 6
