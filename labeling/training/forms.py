"""The launch form of a training round: a recipe from rl/recipes/ plus overrides typed into the browser.

Every field left blank keeps the recipe's value; a filled one becomes a "section.key=value" override, exactly what
`python manage.py run_round --set` takes. Round-level settings (how many fresh essays to rewrite, ratings per item K,
gold share) are not part of a training recipe: they are "round.*" overrides and land in config["round"].
"""

from pathlib import Path

import yaml
from django import forms
from django.conf import settings

from rl.config import RECIPES_DIR as DEFAULT_RECIPES_DIR
from rl.config import RecipeError, load_recipe

from . import launch_checks

ROUND_PREFIX = "round."
ALGORITHMS = [("", "recipe default"), ("grpo", "GRPO"), ("rloo", "RLOO"), ("dpo", "DPO")]


def recipes_dir() -> Path:
    return Path(getattr(settings, "ROUND_RECIPES_DIR", DEFAULT_RECIPES_DIR))


def available_recipes() -> dict[str, Path]:
    """Recipe name (file stem) -> path, for every rl/recipes/*.yaml."""
    return {path.stem: path for path in sorted(recipes_dir().glob("*.yaml"))}


def round_defaults() -> dict:
    return {
        "rewrite_essays": int(getattr(settings, "ROUND_REWRITE_ESSAYS", 20)),
        "ratings_per_item": settings.RATING_DEFAULT_K,
        "gold_share": settings.RATING_GOLD_SHARE,
        "eval_essays": int(getattr(settings, "ROUND_EVAL_ESSAYS", 20)),
        "gec_sentences": 100,  # GLEU sentences of settings.GEC_DIR per policy, when it is set
    }


def round_config_from_form(recipe_path: str | Path, overrides: list[str]) -> dict:
    """The resolved config stored on the round: the recipe with its overrides, plus the round's own settings.

    Raises RecipeError with the offending key when the recipe or an override is not valid.
    """
    recipe_overrides = [o for o in overrides if not o.strip().startswith(ROUND_PREFIX)]
    round_settings = round_defaults()
    for override in overrides:
        if not override.strip().startswith(ROUND_PREFIX):
            continue
        key, _, raw = override.strip()[len(ROUND_PREFIX) :].partition("=")
        if key not in round_settings:
            raise RecipeError(f"override {override!r}: unknown round setting; known: {sorted(round_settings)}")
        value = yaml.safe_load(raw)
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise RecipeError(f"override {override!r}: expected a number")
        round_settings[key] = type(round_settings[key])(value)
    recipe = load_recipe(recipe_path, recipe_overrides)
    config = recipe.to_dict()
    config["round"] = round_settings
    config["overrides"] = list(overrides)
    # The round engine keeps two rounds from training the same base model at once; this names that model.
    config["model_key"] = recipe.policy.model
    return config


def _section(stage: str) -> str:
    """The recipe section the steps, learning rate and batch size fields set: the stage that trains last."""
    return {"dpo": "dpo", "sft": "sft"}.get(stage, "rl")


# Fields a stage does not use: hidden on the page for such a recipe and ignored when posted anyway.
UNUSED_FIELDS = {"sft": {"algorithm"}}
SECTION_TITLES = {"sft": "SFT", "rl": "GRPO/RLOO", "dpo": "DPO"}


class LaunchRoundForm(forms.Form):
    recipe = forms.ChoiceField(help_text="A file in rl/recipes/.")
    algorithm = forms.ChoiceField(choices=ALGORITHMS, required=False)
    base_model = forms.CharField(
        required=False, max_length=300, help_text="packaged:smollm2-135m-instruct, a Hugging Face id or a local folder."
    )
    char_penalty = forms.FloatField(required=False, min_value=0, label="Lambda (reward per changed character)")
    steps = forms.IntegerField(required=False, min_value=1, label="Training steps")
    learning_rate = forms.FloatField(required=False, min_value=0, label="Learning rate")
    batch_size = forms.IntegerField(required=False, min_value=1)
    lora_rank = forms.IntegerField(required=False, min_value=1, label="LoRA rank")
    qlora = forms.ChoiceField(
        choices=[("", "recipe default"), ("on", "on (4-bit, needs a GPU)"), ("off", "off")],
        required=False,
        label="QLoRA",
    )
    rewrite_essays = forms.IntegerField(required=False, min_value=0, label="Fresh essays to rewrite")
    ratings_per_item = forms.IntegerField(required=False, min_value=1, max_value=20, label="Ratings per item (K)")
    gold_share = forms.FloatField(required=False, min_value=0, max_value=1, label="Gold share")
    extra = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "rl.beta=0.02\nrewriter.num_candidates=4"}),
        label="More overrides",
        help_text="One section.key=value per line.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.recipes = available_recipes()
        self.fields["recipe"].choices = [(name, name) for name in self.recipes]
        self.config: dict | None = None

    def recipe_stage(self, recipe_name: str) -> str:
        return load_recipe(self.recipes[recipe_name]).stage

    def overrides(self) -> list[str]:
        """The filled fields as "key=value" strings, in the order the form shows them."""
        data = self.cleaned_data
        stage = self.recipe_stage(data["recipe"])
        result = []
        algorithm = data.get("algorithm") if "algorithm" not in UNUSED_FIELDS.get(stage, ()) else ""
        if algorithm == "dpo":
            result.append("stage=dpo")
            stage = "dpo"
        elif algorithm:
            result.append(f"rl.algorithm={algorithm}")
            if stage == "dpo":
                result.append("stage=rl")
                stage = "rl"
        section = _section(stage)
        fields = [
            ("base_model", "policy.model"),
            ("char_penalty", "rewriter.char_penalty"),
            ("steps", f"{section}.max_steps"),
            ("learning_rate", f"{section}.learning_rate"),
            ("batch_size", f"{section}.batch_size"),
            ("lora_rank", "lora.r"),
        ]
        for name, key in fields:
            value = data.get(name)
            if value not in (None, ""):
                result.append(f"{key}={value}")
        if data.get("qlora"):
            result.append(f"policy.load_in_4bit={'true' if data['qlora'] == 'on' else 'false'}")
        for name in ("rewrite_essays", "ratings_per_item", "gold_share"):
            if data.get(name) is not None:
                result.append(f"{ROUND_PREFIX}{name}={data[name]}")
        result.extend(line.strip() for line in data.get("extra", "").splitlines() if line.strip())
        return result

    def clean(self):
        cleaned = super().clean()
        if self.errors or not cleaned.get("recipe"):
            return cleaned
        try:
            config = round_config_from_form(self.recipes[cleaned["recipe"]], self.overrides())
        except RecipeError as error:
            raise forms.ValidationError(str(error)) from None
        problem = launch_checks.model_load_error(config["policy"]["model"]) or launch_checks.worker_error(config)
        if problem:
            raise forms.ValidationError(f"This round cannot run here: {problem}")
        self.config = config
        return cleaned

    def recipe_defaults(self) -> dict[str, dict]:
        """What each blank field means for each recipe, shown as placeholders by the page's script."""
        defaults = {}
        for name, path in self.recipes.items():
            try:
                recipe = load_recipe(path)
            except RecipeError as error:
                defaults[name] = {"error": str(error)}
                continue
            section = getattr(recipe, _section(recipe.stage))
            algorithm = "dpo" if recipe.stage == "dpo" else recipe.rl.algorithm
            defaults[name] = {
                "hidden": sorted(UNUSED_FIELDS.get(recipe.stage, ())),
                "section": SECTION_TITLES[_section(recipe.stage)],
                "expected": launch_checks.expected_duration(name),
                "algorithm": algorithm.upper(),
                "stage": recipe.stage,
                "base_model": recipe.policy.model,
                "char_penalty": recipe.rewriter.char_penalty,
                "steps": section.max_steps,
                "learning_rate": section.learning_rate,
                "batch_size": section.batch_size,
                "lora_rank": recipe.lora.r,
                "qlora": "on" if recipe.policy.load_in_4bit else "off",
                **round_defaults(),
            }
        return defaults
