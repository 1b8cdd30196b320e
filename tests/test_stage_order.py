"""The SFT-then-optimise stage order is defined once (rl.config.RECIPE_STAGES) and read by both runners of a recipe:
rl/pipeline.py (train_rewriter) and a training round's steps."""

import ast
from pathlib import Path

import pytest

from labeling.training import engine
from rl.config import RECIPE_STAGES, WARM_START, RecipeError, load_recipe, optimiser_of, stages_of

REPO = Path(__file__).resolve().parent.parent
RUNNERS = ["rl/pipeline.py", "labeling/training/steps.py", "labeling/management/commands/train_rewriter.py"]


def test_each_recipe_stage_runs_the_warm_start_first_then_one_optimiser():
    assert stages_of("sft+rl") == ("sft", "rl")
    assert (optimiser_of("sft+rl"), optimiser_of("dpo"), optimiser_of("rl"), optimiser_of("sft")) == (
        "rl",
        "dpo",
        "rl",
        None,
    )
    for stage in RECIPE_STAGES:
        plan = stages_of(stage)
        assert WARM_START not in plan[1:]  # never after an optimiser
        assert len([name for name in plan if name != WARM_START]) <= 1


def test_an_unknown_stage_is_refused_with_its_name(tmp_path):
    with pytest.raises(RecipeError, match=r"'rl\+sft'"):
        stages_of("rl+sft")
    recipe = tmp_path / "backwards.yaml"
    recipe.write_text("stage: rl+sft\n")
    with pytest.raises(RecipeError, match=r"backwards\.yaml: stage must be one of sft, rl, dpo, sft\+rl"):
        load_recipe(str(recipe))


def test_the_round_runs_the_warm_start_step_before_the_optimiser_step():
    names = [spec.name for spec in engine.STEPS]
    assert names.index(WARM_START) < names.index("optimise_policy")


def spelled_stage_plans(path: Path) -> list[str]:
    """Places that spell a stage plan themselves: the literal "sft+rl", or splitting a stage on "+"."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and node.value == "sft+rl":
            found.append(f"{path.name}:{node.lineno} literal 'sft+rl'")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "split"
            and [ast.unparse(a) for a in node.args] == ["'+'"]
        ):
            found.append(f"{path.name}:{node.lineno} {ast.unparse(node)}")
    return found


def test_no_runner_spells_the_stage_order_itself():
    assert spelled_stage_plans(REPO / "rl/config.py")  # the check sees the one definition
    assert [hit for runner in RUNNERS for hit in spelled_stage_plans(REPO / runner)] == []
