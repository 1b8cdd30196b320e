"""What the reward scorer and the independent judge pay for edits that fix nothing: meaning-neutral style swaps
(rl/style_swaps.py: contractions written out, a repeated sentence-initial linker replaced by an exact synonym).

    python bench/judge_swaps.py [--essays 300] [--recipe cpu-demo] [--scorer FOLDER] [--judge FOLDER] [--set K=V]

On the pool's training rows (never its held-out essays, which measure M), for each swap: the essays it changes, the
share whose band rose and fell under the judge and under the reward scorer, the mean change, the share whose reward
is positive, as the mission writes it (band gain less lambda x characters changed) and as the guard and RL pay it
(rl.reward.edit_reward: refused on a harm verdict, topped up by fixes; its mean too, which is what RL learns from),
and the language model's verdict on each changed sentence (rl/verifier.py: the share it calls a fix and a harm, and
the share that passes the stricter check on the policy's own edits: rewriter.correction_threshold plus the kind
margins). The scorers are bench/rewriter.py's (trained once and cached when no folder is given). A judge that raises
most of these essays makes M under it easy to earn without correcting anything, and a reward that pays for them can
be learnt by RL: read M beside this. The last line printed is one JSON object.
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rewriter import load_scorers  # noqa: E402  (bench/rewriter.py, the benchmark's reward scorer and judge)

from rl.config import load_recipe  # noqa: E402
from rl.corrector import LanguageModel  # noqa: E402
from rl.reward import chars_changed, edit_reward, reward  # noqa: E402
from rl.style_swaps import STYLE_SWAPS  # noqa: E402
from rl.training import as_band_predictor, cpu_environment, load_pool  # noqa: E402
from rl.verdict_model import raise_by_kind  # noqa: E402
from rl.verifier import rewrite_verdicts, sentence_changes, verdicts  # noqa: E402


def swap_figures(swap, rows, reward_bands, judge_bands, lm, settings) -> dict:
    changed = [(row.question, row.essay, swap(row.essay)) for row in rows]
    changed = [(q, old, new) for q, old, new in changed if new != old]
    figures: dict = {"essays": len(rows), "changed": len(changed)}
    if not changed:
        return figures
    questions, olds, news = (list(column) for column in zip(*changed, strict=True))
    chars = np.array([chars_changed(old, new) for old, new in zip(olds, news, strict=True)])
    figures["mean_chars_changed"] = round(float(chars.mean()), 1)
    per_essay = rewrite_verdicts(lm, olds, news, settings.verdict_threshold)
    judged = [verdict for essay in per_essay for verdict in essay]
    # the stricter check the rewriter puts on the policy's own edits before the guard sees them
    flat = [pair for old, new in zip(olds, news, strict=True) for pair in sentence_changes(old, new)]
    checked = raise_by_kind(flat, verdicts(lm, flat, settings.correction_threshold), settings.kind_margins)
    figures["verdicts"] = {
        "sentences": len(judged),
        "fix": round(float(np.mean([v.fix for v in judged])), 3),
        "harm": round(float(np.mean([v.harm for v in judged])), 3),
        "policy_check_fix": round(float(np.mean([v.fix for v in checked])), 3),
    }
    for name, bands in (("judge", judge_bands), ("reward_scorer", reward_bands)):
        before = np.array(bands.predict_bands(questions, olds))
        after = np.array(bands.predict_bands(questions, news))
        rewards = np.array(
            [reward(b, a, c, settings.char_penalty) for b, a, c in zip(before, after, chars, strict=True)]
        )
        # the guard's and RL's reward: the same, gated by a harm verdict and topped up by fixes
        edit_rewards = np.array(
            [
                edit_reward(b, a, c, v, settings.char_penalty, settings.edit_weight)
                for b, a, c, v in zip(before, after, chars, per_essay, strict=True)
            ]
        )
        figures[name] = {
            "rose": round(float((after > before).mean()), 3),
            "fell": round(float((after < before).mean()), 3),
            "mean_change": round(float((after - before).mean()), 4),
            "reward_positive": round(float((rewards > 0).mean()), 3),
            "edit_reward_positive": round(float((edit_rewards > 0).mean()), 3),
            # what RL learns from: a swap whose reward is positive on average gets reinforced
            "mean_edit_reward": round(float(edit_rewards.mean()), 4),
        }
    return figures


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--essays", type=int, default=300, help="pool training rows to swap in")
    parser.add_argument("--recipe", default="cpu-demo", help="recipe whose data split and character cost to use")
    parser.add_argument("--scorer", help="reward scorer folder (default: bench/rewriter.py's, cached)")
    parser.add_argument("--judge", help="independent judge folder (default: bench/rewriter.py's, cached)")
    parser.add_argument("--set", action="append", default=[], help="recipe override key=value")
    args = parser.parse_args(argv)

    cpu_environment()
    config = load_recipe(args.recipe, args.set)
    rows = load_pool(config.data)[0][: args.essays]
    reward_scorer, judge = load_scorers(args.scorer, args.judge)
    reward_bands, judge_bands = as_band_predictor(reward_scorer), as_band_predictor(judge)
    lm = LanguageModel.for_rewriter(config.policy.model, config.rewriter)
    summary = {
        name: swap_figures(swap, rows, reward_bands, judge_bands, lm, config.rewriter)
        for name, swap in STYLE_SWAPS.items()
    }
    print(f"{'swap':<14}{'changed':>9}{'chars':>7}   {'judge rose / fell, mean':<28}{'reward scorer rose, mean':<26}"
          f"{'reward > 0':>11}{'edit reward > 0, mean':>23}{'verdict fix / harm':>20}{'policy check':>14}")  # fmt: skip
    for name, figures in summary.items():
        if not figures["changed"]:
            print(f"{name:<14}{0:>9}")
            continue
        j, r, v = figures["judge"], figures["reward_scorer"], figures["verdicts"]
        print(
            f"{name:<14}{figures['changed']:>9}{figures['mean_chars_changed']:>7.1f}   "
            f"{j['rose']:>6.1%} / {j['fell']:>5.1%}, {j['mean_change']:+.3f}{'':<7}"
            f"{r['rose']:>6.1%}, {r['mean_change']:+.3f}{'':<11}{r['reward_positive']:>11.1%}"
            f"{r['edit_reward_positive']:>14.1%}, {r['mean_edit_reward']:+.3f}"
            f"{v['fix']:>12.1%} / {v['harm']:.1%}{v['policy_check_fix']:>14.1%}"
        )
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
