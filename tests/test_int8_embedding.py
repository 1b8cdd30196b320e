"""Sentence vectors in int8 with fixed scales: close to fp32, the same whatever a text is batched with, the default on
x86; a saved scorer computes its features in the precision it was trained with."""

import pickle

import numpy as np
import pytest

from rl.data import load_training_set
from rl.embeddings import EmbedderConfig, SentenceEmbedder, StaticInt8Linear, int8_kernels_available
from rl.scorer import ScorerConfig, load_scorer, train_scorer

pytestmark = pytest.mark.skipif(not int8_kernels_available(), reason="no fbgemm int8 kernels (not an x86 CPU)")

TEXTS = [
    "The government should invest more money in public transport.",
    "In my opinion, children who learn a second language early have many advantages later in life.",
    "Short one.",
    "However, there is a risk that people will rely too much on technology and forget basic skills.",
]


@pytest.fixture(scope="module")
def int8_embedder():
    return SentenceEmbedder(EmbedderConfig(precision="int8"))


def test_int8_vectors_are_close_to_fp32(int8_embedder):
    assert int8_embedder.precision == "int8"
    assert all(isinstance(layer.intermediate.dense, StaticInt8Linear) for layer in int8_embedder.model.encoder.layer)
    fp32 = SentenceEmbedder(EmbedderConfig(precision="fp32")).embed(TEXTS)
    cosines = (int8_embedder.embed(TEXTS) * fp32).sum(1)
    # 0.9991-0.9996 here; one shared input scale per layer without the channel migration gave 0.9959-0.9975
    assert cosines.min() > 0.998
    # ...and not the fp32 vectors themselves
    assert not np.allclose(int8_embedder.embed(TEXTS), fp32, atol=1e-4)


def test_a_texts_int8_vector_does_not_depend_on_its_batch(int8_embedder):
    # Dynamic quantisation scales a batch by its largest value; the fixed scales here do not look at the batch.
    alone = int8_embedder._compute([TEXTS[0]])
    batched = int8_embedder._compute([TEXTS[0], *TEXTS[1:], "WHAT!!! " * 30])
    assert np.array_equal(alone[0], batched[0])


def test_auto_means_int8_where_the_kernels_exist():
    assert SentenceEmbedder(EmbedderConfig()).precision == "int8"
    assert SentenceEmbedder(EmbedderConfig(precision="float")).precision in ("bf16", "fp32")


def test_an_unknown_precision_is_refused():
    with pytest.raises(ValueError, match="precision must be one of"):
        SentenceEmbedder(EmbedderConfig(precision="int4"))


def test_a_scorer_computes_features_in_the_precision_it_was_trained_with(tmp_path):
    records, _ = load_training_set()
    scorer = train_scorer(records[::40], ScorerConfig(cv_folds=2, seeds=(0,), pca_components=8, lgbm_estimators=20))
    assert scorer.training_info["embedding_precision"] == "int8"
    scorer.save(tmp_path / "new")
    assert load_scorer(tmp_path / "new").embedder.precision == "int8"
    # Trained where int8 kernels were missing: bf16 or fp32 features, as when it was trained.
    state = pickle.loads((tmp_path / "new" / "model.pkl").read_bytes())
    state["training_info"]["embedding_precision"] = "fp32"
    (tmp_path / "float").mkdir()
    (tmp_path / "float" / "model.pkl").write_bytes(pickle.dumps(state))
    assert load_scorer(tmp_path / "float").embedder.precision in ("bf16", "fp32")
    # Saved before int8 embedding existed (format 4 and older): "auto" meant the bf16/fp32 trial then.
    del state["training_info"]["embedding_precision"]
    state["format_version"] = 4
    (tmp_path / "format4").mkdir()
    (tmp_path / "format4" / "model.pkl").write_bytes(pickle.dumps(state))
    loaded = load_scorer(tmp_path / "format4")
    assert loaded.config.embedding_precision == "float"
    assert loaded.embedder.precision in ("bf16", "fp32")
