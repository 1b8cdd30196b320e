"""Recipes: YAML files under rl/recipes/ read into one dataclass config.

A recipe has one section per dataclass below (policy, lora, rewriter, data, sft, rl, dpo, output). Overrides are
"section.key=value" strings whose value is parsed as YAML ("rl.beta=0.05", "lora.target_modules=[q_proj,v_proj]").
Unknown sections or keys, values of the wrong type and missing files raise RecipeError with the offending name.
"""

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from rl.policy_spec import PolicySpec

# A sentence is scored as running text, after a neutral sentence of the kind an essay holds, not as the start of a
# document: after the start token alone a sentence-initial linker is a document's first word ("Additionally" ranks
# about 6,000th there), and the likelihood ratio then pays for swapping it for a synonym. See rl.corrector.
RUNNING_TEXT_CONTEXT = "Many people have different opinions about this issue."

# nats each kind of proposed edit must gain beyond rewriter.correction_threshold (kinds of rl.candidates' spans); kept
# here, free of torch, so that reading a recipe imports no model code. Chosen by `bench/rewriter.py --tune-threshold
# --tune-sentences 1800` (1,463 of the project's own sentences, one harm costing nine fixes), again once sentences
# were scored after RUNNING_TEXT_CONTEXT (articles then needed 2 nats, inserted words 1).
DEFAULT_KIND_MARGINS = {
    "article": 2.0,
    "confusion": 1.0,
    "inflection": 2.0,
    "insertion": 1.0,
    "preposition": 3.0,
    "spelling": 0.0,
    "word_form": 1.0,
}

RECIPES_DIR = Path(__file__).resolve().parent / "recipes"


class RecipeError(ValueError):
    """A recipe that cannot be used: missing file, unknown key, wrong type."""


# The stages a recipe's `stage` runs, in order: the SFT warm start first, then the policy optimisation (RL or DPO),
# which continues the adapter SFT wrote. The one definition: rl/pipeline.py (train_rewriter) and a round's steps
# (labeling/training/steps.py: "sft" then "optimise_policy") both read their plan from here.
WARM_START = "sft"
RECIPE_STAGES: dict[str, tuple[str, ...]] = {"sft": ("sft",), "rl": ("rl",), "dpo": ("dpo",), "sft+rl": ("sft", "rl")}


def stages_of(stage: str) -> tuple[str, ...]:
    """The stages a recipe with this `stage` runs, in order; RecipeError for a name no recipe may have."""
    if stage not in RECIPE_STAGES:
        raise RecipeError(f"stage must be one of {', '.join(RECIPE_STAGES)}, got {stage!r}")
    return RECIPE_STAGES[stage]


def optimiser_of(stage: str) -> str | None:
    """The stage that optimises the policy after the warm start: "rl", "dpo", or None for an SFT-only recipe."""
    return next((name for name in stages_of(stage) if name != WARM_START), None)


@dataclass
class LoraSettings:
    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"])


@dataclass
class RewriterSettings:
    output_format: str = "edits"  # edits: `wrong => right` lines per sentence; full: the whole essay (big models)
    max_new_tokens: int = 24  # per sentence: a couple of "old => new" lines
    batch_size: int = 16  # sentences per generate() call
    num_candidates: int = 1  # >1 samples that many edit lists per sentence; 0: no policy proposals (corrector only)
    temperature: float = 0.7  # used only when num_candidates > 1
    few_shot: bool = False  # prepend worked examples to every prompt (the untrained baseline)
    plausibility_check: bool = True  # drop edits that add unknown words, sentence breaks or mid-sentence capitals
    max_chars_changed: int = 99  # the guard rejects bigger rewrites (M counts only edits under 100 chars)
    max_length_ratio_change: float = 0.2  # the guard rejects outputs this far off the original length
    min_band_gain: float = 0.0  # without the edit verifier: the guard keeps a rewrite only if the band rises more
    char_penalty: float = 0.01  # lambda of the reward
    corrector: bool = True  # language-model-scored corrections (spelling, inflection, articles ...) beside the policy's
    edit_verifier: bool = True  # the guard and the reward judge every changed sentence (rl/verifier.py)
    correction_threshold: float = 4.0  # nats a proposed edit must gain to be made (corrector and policy edits)
    # extra nats on top of correction_threshold by kind of edit (DEFAULT_KIND_MARGINS above, chosen on the
    # project's own corrupted sentences by bench/rewriter.py --tune-threshold); a recipe names only the kinds it changes
    kind_margins: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_KIND_MARGINS))
    verdict_threshold: float = 1.0  # nats past which the reward's verdict calls a change a fix (or, lost, a harm)
    edit_weight: float = 0.05  # band per nat that a verified fix adds to the reward
    verdict_model: str = ""  # a JSON file of the raters' learnt verdict (rl/verdict_model.py); "": the rule alone
    verdict_min_labels: int = 30  # labelled edits a round needs before it learns a verdict from the raters
    # the scoring copy of the base model; auto: bf16 on a GPU and where a timed trial finds it faster on the CPU
    language_model_dtype: str = "auto"
    # the sentence the language model reads before each scored sentence (rl.corrector.LanguageModel): "" scores a
    # sentence as the first words of a document
    language_model_context: str = RUNNING_TEXT_CONTEXT


@dataclass
class DataSettings:
    pool_csv: str = "data/raw/duwuonline_just_tasks.csv"
    held_out_fraction: float = 0.2  # last share of the deduplicated pool: benchmark only, never trained on
    sft_source_csv: str = "data/chillies_clean/val.csv"  # better essays to corrupt (never test.csv)
    sft_min_band: float = 7.0
    seed: int = 0


@dataclass
class SftSettings:
    essays: int = 200
    sentences_per_essay: int = 6
    corrupted_share: float = 0.7  # sentences that get 1-2 injected errors; the rest teach "OK"
    epochs: float = 1.0
    max_steps: int = -1  # >0 caps the steps (tests)
    batch_size: int = 8
    learning_rate: float = 3e-4
    max_length: int = 192
    rated_pair_copies: int = 2  # copies of each edit raters rated better (0: leave them out)


@dataclass
class RlSettings:
    algorithm: str = "grpo"  # grpo | rloo
    essays: int = 16
    sentences_per_essay: int = 4
    num_generations: int = 4
    max_completion_length: int = 24
    max_steps: int = 20
    batch_size: int = 8  # completions per device step; a multiple of num_generations
    learning_rate: float = 5e-5
    beta: float = 0.04  # KL coefficient against the reference (the SFT-ed policy); 0 drops the reference model
    temperature: float = 0.9


@dataclass
class DpoSettings:
    pairs_csv: str = ""  # columns question, original, rewrite, band_original, band_rewrite (consensus bands)
    max_steps: int = -1
    epochs: float = 1.0
    batch_size: int = 4
    learning_rate: float = 5e-5
    beta: float = 0.1


@dataclass
class OutputSettings:
    root: str = ""  # empty: $AES_ARTIFACTS_DIR/rewriter_runs
    name: str = "run"


@dataclass
class RecipeConfig:
    name: str = "unnamed"
    stage: str = "sft"  # a key of RECIPE_STAGES: what train_rewriter and a round run
    policy: PolicySpec = field(default_factory=PolicySpec)
    lora: LoraSettings = field(default_factory=LoraSettings)
    rewriter: RewriterSettings = field(default_factory=RewriterSettings)
    data: DataSettings = field(default_factory=DataSettings)
    sft: SftSettings = field(default_factory=SftSettings)
    rl: RlSettings = field(default_factory=RlSettings)
    dpo: DpoSettings = field(default_factory=DpoSettings)
    output: OutputSettings = field(default_factory=OutputSettings)
    use_cpu: bool = True
    seed: int = 0

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _type_ok(value, annotation) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_type_ok(value, arg) for arg in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    if origin is list:
        (item_type,) = typing.get_args(annotation)
        return isinstance(value, list) and all(_type_ok(v, item_type) for v in value)
    if origin is dict:
        key_type, item_type = typing.get_args(annotation)
        return isinstance(value, dict) and all(
            _type_ok(k, key_type) and _type_ok(v, item_type) for k, v in value.items()
        )
    if annotation is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, annotation)


def _build(cls, values: dict, where: str):
    if not isinstance(values, dict):
        raise RecipeError(f"{where}: expected a mapping, got {type(values).__name__}")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise RecipeError(f"{where}: unknown key(s) {unknown}; known keys: {sorted(known)}")
    kwargs = {}
    for name, value in values.items():
        annotation = hints[name]
        key = f"{where}.{name}" if where != "recipe" else name
        if dataclasses.is_dataclass(annotation):
            kwargs[name] = _build(annotation, value, key)
        elif not _type_ok(value, annotation):
            expected = str(annotation) if typing.get_origin(annotation) else annotation.__name__
            raise RecipeError(f"{key}: expected {expected}, got {value!r} ({type(value).__name__})")
        elif typing.get_origin(annotation) is dict:  # the keys a recipe names replace the defaults', the rest stay
            item_type = typing.get_args(annotation)[1]
            named = {k: float(v) if item_type is float else v for k, v in value.items()}
            kwargs[name] = {**getattr(cls(), name), **named}
        else:
            kwargs[name] = float(value) if annotation is float else value
    return cls(**kwargs)


def _apply_override(values: dict, override: str) -> None:
    if "=" not in override:
        raise RecipeError(f"override {override!r}: expected key=value, e.g. rl.beta=0.05")
    key, raw = override.split("=", 1)
    parts = key.strip().split(".")
    target = values
    for part in parts[:-1]:
        target = target.setdefault(part, {})
        if not isinstance(target, dict):
            raise RecipeError(f"override {override!r}: {part} is not a section")
    target[parts[-1]] = yaml.safe_load(raw) if raw.strip() else ""


def resolve_recipe_path(path: str | Path) -> Path:
    """A path as given, or a bare name such as `cpu-smoke` from rl/recipes/."""
    candidate = Path(path)
    if candidate.exists():
        return candidate
    named = RECIPES_DIR / (candidate.name if candidate.suffix else f"{candidate.name}.yaml")
    if named.exists():
        return named
    available = sorted(p.stem for p in RECIPES_DIR.glob("*.yaml"))
    raise RecipeError(f"recipe file {path} not found; recipes in {RECIPES_DIR}: {available}")


def load_recipe(path: str | Path, overrides: list[str] | None = None) -> RecipeConfig:
    recipe_path = resolve_recipe_path(path)
    try:
        values = yaml.safe_load(recipe_path.read_text()) or {}
    except yaml.YAMLError as error:
        raise RecipeError(f"{recipe_path}: not valid YAML: {error}") from None
    if not isinstance(values, dict):
        raise RecipeError(f"{recipe_path}: the top level must be a mapping of sections")
    for override in overrides or []:
        _apply_override(values, override)
    try:
        config = _build(RecipeConfig, values, "recipe")
    except RecipeError as error:
        raise RecipeError(f"{recipe_path}: {error}") from None
    try:
        stages_of(config.stage)
    except RecipeError as error:
        raise RecipeError(f"{recipe_path}: {error}") from None
    if config.rl.algorithm not in {"grpo", "rloo"}:
        raise RecipeError(f"{recipe_path}: rl.algorithm must be grpo or rloo, got {config.rl.algorithm!r}")
    if config.rewriter.output_format not in {"edits", "full"}:
        raise RecipeError(f"{recipe_path}: rewriter.output_format must be edits or full")
    return config


def recipe_from_dict(values: dict) -> RecipeConfig:
    """A config stored as a dict (RecipeConfig.to_dict(), e.g. on a training round) back into its dataclass."""
    return _build(RecipeConfig, values, "recipe")
