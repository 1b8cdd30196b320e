"""Recipes load into dataclass configs; a bad recipe fails with an error naming what is wrong."""

import pytest

from rl.config import RecipeError, load_recipe


@pytest.mark.parametrize("name", ["cpu-smoke", "cpu-demo", "gpu-3b-qlora"])
def test_bundled_recipes_load(name):
    config = load_recipe(f"rl/recipes/{name}.yaml")
    assert config.name == name
    assert config.lora.r > 0


def test_overrides_are_typed():
    config = load_recipe("cpu-smoke", ["rl.beta=0.2", "lora.target_modules=[q_proj]", "sft.max_steps=5"])
    assert config.rl.beta == 0.2
    assert config.lora.target_modules == ["q_proj"]
    assert config.sft.max_steps == 5
    assert load_recipe("cpu-smoke", ["rl.beta=1"]).rl.beta == 1.0  # an int is a fine float


def test_kind_margins_override_only_the_kinds_named():
    default = load_recipe("cpu-smoke").rewriter.kind_margins
    assert default["preposition"] > default["spelling"]  # the shipped choice: swaps need more than spelling fixes
    changed = load_recipe("cpu-smoke", ["rewriter.kind_margins.preposition=0", "rewriter.kind_margins.capital=2"])
    assert changed.rewriter.kind_margins == {**default, "preposition": 0.0, "capital": 2.0}
    with pytest.raises(
        RecipeError, match=r"rewriter.kind_margins: expected dict\[str, float\], got \{'article': 'x'\}"
    ):
        load_recipe("cpu-smoke", ["rewriter.kind_margins.article=x"])


def test_unknown_key_names_it(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("rl:\n  betta: 0.1\n")
    with pytest.raises(RecipeError, match=r"rl: unknown key\(s\) \['betta'\]"):
        load_recipe(path)


def test_unknown_section(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("trainer:\n  lr: 1\n")
    with pytest.raises(RecipeError, match=r"unknown key\(s\) \['trainer'\]"):
        load_recipe(path)


def test_bad_type_names_key_and_value():
    with pytest.raises(RecipeError, match=r"sft.max_steps: expected int, got 'many'"):
        load_recipe("cpu-smoke", ["sft.max_steps=many"])
    with pytest.raises(RecipeError, match=r"lora: expected a mapping"):
        load_recipe("cpu-smoke", ["lora=3"])


def test_bad_choice_and_missing_file(tmp_path):
    with pytest.raises(RecipeError, match="rl.algorithm must be grpo or rloo"):
        load_recipe("cpu-smoke", ["rl.algorithm=ppo"])
    with pytest.raises(RecipeError, match="not found"):
        load_recipe(tmp_path / "nope.yaml")
    with pytest.raises(RecipeError, match="key=value"):
        load_recipe("cpu-smoke", ["rl.beta"])
