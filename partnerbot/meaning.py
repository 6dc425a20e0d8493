"""How close candidate sentences are in meaning to a question (cosines of the embedding model's unit vectors), for
composed answers and completion. Sentence vectors are cached per process: the notes do not change between
questions, so after the first few questions only the question is embedded."""

from __future__ import annotations

from typing import Callable

_SENTENCE_VECTORS: dict = {}   # sentence -> unit vector
MAX_CACHED = 20_000


class Meaning:
    """meaning(question, sentences) -> {sentence: cosine}. Each sentence is embedded on its own: in a batch its
    vector shifts with the batch's padding (cosines by up to ~0.002), which let the questions asked before, by
    anyone, reorder the sentences of an answer."""

    def __init__(self, embedder: Callable[[], object]):
        self._embedder = embedder   # called each time: the store (and its model) may be opened again
        self._last: tuple[str, object] = ("", None)   # (question, its unit vector), replaced whole

    def __call__(self, question: str, sentences: list[str]) -> dict[str, float]:
        import numpy as np

        if len(_SENTENCE_VECTORS) > MAX_CACHED:
            _SENTENCE_VECTORS.clear()
        embedder = self._embedder()
        for sentence in dict.fromkeys(sentences):
            if sentence not in _SENTENCE_VECTORS:
                _SENTENCE_VECTORS[sentence] = np.asarray(embedder.embed_one(sentence), dtype=np.float32)
        last, query = self._last   # composition and completion ask about the same question
        if last != question:
            query = np.asarray(embedder.embed_one(question), dtype=np.float32)
            query /= max(float(np.linalg.norm(query)), 1e-12)
            self._last = (question, query)
        return {s: float(_SENTENCE_VECTORS[s] @ query) for s in sentences}
