"""The embedder's bounded memory cache: a call with more new texts than it holds returns every vector (they used to
evict each other before they were read back: KeyError), and repeated texts are served from the cache."""

import numpy as np

from rl.embeddings import EmbedderConfig, SentenceEmbedder

TEXTS = [f"Public transport in city number {n} should be free for students." for n in range(5)]


def test_more_new_texts_than_the_memory_cache_holds_all_come_back():
    small = SentenceEmbedder(EmbedderConfig(precision="fp32", memory_cache_size=2))
    roomy = SentenceEmbedder(EmbedderConfig(precision="fp32"))
    vectors = small.embed_layers(TEXTS)
    assert np.array_equal(vectors, roomy.embed_layers(TEXTS))
    assert len(small._memory) == 2
    # the two it kept are the last ones, and a repeat of them is served without computing
    small._compute = None
    assert np.array_equal(small.embed_layers(TEXTS[-2:]), vectors[-2:])
