"""The sentence embedder runs MiniLM only up to the highest layer asked for, without changing that layer's values."""

import numpy as np
import pytest

from rl.embeddings import EmbedderConfig, SentenceEmbedder

TEXTS = ["The government should invest more money in public transport.", "Short one."]


def test_truncated_encoder_matches_the_full_model_at_its_layer():
    truncated = SentenceEmbedder(EmbedderConfig(layers=(3,), precision="fp32"))
    full = SentenceEmbedder(EmbedderConfig(layers=(3, 6), precision="fp32"))
    assert len(truncated.model.encoder.layer) == 3 and len(full.model.encoder.layer) == 6
    assert np.allclose(truncated.embed_layers(TEXTS)[:, 0], full.embed_layers(TEXTS)[:, 0], atol=1e-5)
    # embed() normalises the highest layer run
    assert np.allclose(np.linalg.norm(truncated.embed(TEXTS), axis=1), 1.0)
    assert not np.allclose(truncated.embed(TEXTS), full.embed(TEXTS), atol=1e-2)


def test_layers_beyond_the_model_are_refused():
    with pytest.raises(ValueError, match="the model has 6"):
        SentenceEmbedder(EmbedderConfig(layers=(3, 7)))
