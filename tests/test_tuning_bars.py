"""`bench/rewriter.py --tune-threshold` moves a corrector bar only when another scores more than one harm better
(fixes - harm_weight x harms), and then to the lowest bar within one harm of the best (rl.corruptions.settled_bar)."""

from rl.corruptions import settled_bar as choose


def scores(counts: dict[float, tuple[int, int]], weight: float = 9.0) -> dict[float, float]:
    return {bar: fixes - weight * harms for bar, (fixes, harms) in counts.items()}


def test_one_harm_does_not_move_a_bar():
    # 223 fixes and 1 harm at every bar up to 4, 216 and 0 from 6: the best score is at 6, by less than one harm
    spelling = scores({0: (223, 1), 2: (222, 1), 4: (222, 1), 6: (216, 0), 8: (204, 0)})
    assert choose(spelling, 0.0, 9.0) == 0.0


def test_a_bar_that_lets_harms_through_rises_to_the_lowest_within_one_harm_of_the_best():
    inflection = scores({0: (140, 16), 1: (121, 11), 2: (100, 5), 3: (77, 3), 4: (59, 1), 6: (34, 0)})
    assert choose(inflection, 0.0, 9.0) == 2.0  # 55 against 50 at 3 and 4
    # with harms weighing less, the same counts leave it where it was
    assert choose(scores({0: (140, 16), 2: (100, 5)}, weight=2.0), 0.0, 2.0) == 0.0
    # a bar above what the counts support comes down
    assert choose(scores({0: (50, 0), 1: (47, 0), 3: (34, 0)}), 3.0, 9.0) == 0.0
