"""bench/judge_swaps.py runs end to end with small scorers given as folders and ends with its JSON line."""

from bench_helpers import run_bench

from rl.config import load_recipe
from rl.data import load_training_set
from rl.scorer import ScorerConfig, disjoint_halves, train_scorer
from rl.style_swaps import STYLE_SWAPS
from rl.training import load_pool


def test_the_benchmark_reports_what_each_swap_earns_under_both_scorers(tmp_path):
    records, _ = load_training_set()
    halves = disjoint_halves(records)
    train_scorer(halves[0][:200], ScorerConfig(family="tfidf_ridge")).save(tmp_path / "reward")
    train_scorer(halves[1][:200], ScorerConfig(family="judge")).save(tmp_path / "judge")
    result = run_bench(
        "judge_swaps.py", "--essays", "80", "--scorer", str(tmp_path / "reward"), "--judge", str(tmp_path / "judge")
    )
    rows = load_pool(load_recipe("cpu-demo").data)[0][:80]
    for name, swap in STYLE_SWAPS.items():
        changed = sum(swap(row.essay) != row.essay for row in rows)
        assert result[name]["essays"] == 80 and result[name]["changed"] == changed > 0
        assert result[name]["verdicts"]["sentences"] >= changed
        assert all(0.0 <= share <= 1.0 for key, share in result[name]["verdicts"].items() if key != "sentences")
        for scorer in ("judge", "reward_scorer"):
            figures = result[name][scorer]
            assert figures["fell"] >= 0.0 and figures["rose"] + figures["fell"] <= 1.0 + 1e-9
            assert 0.0 <= figures["reward_positive"] <= 1.0 and 0.0 <= figures["edit_reward_positive"] <= 1.0
            # the mean of rewards that are all negative cannot be positive, nor that of all-positive ones negative
            assert figures["edit_reward_positive"] > 0 or figures["mean_edit_reward"] <= 0
            assert figures["edit_reward_positive"] < 1 or figures["mean_edit_reward"] > 0
