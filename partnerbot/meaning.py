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
        last, query = self._last   # composition and completion ask about the same question
        if last != question:
            query = self._unit(question)
            self._last = (question, query)
        return {s: float(self._vector(s) @ query) for s in dict.fromkeys(sentences)}

    def between(self, text: str, sentences: list[str]) -> dict[str, float]:
        """Cosines of any text (a part of the question) with the sentences; the text's vector is cached like a
        sentence's, so the question's own vector stays the one __call__ reuses."""
        query = self._vector(text)
        return {s: float(self._vector(s) @ query) for s in dict.fromkeys(sentences)}

    def _vector(self, sentence: str):
        if sentence not in _SENTENCE_VECTORS:
            if len(_SENTENCE_VECTORS) > MAX_CACHED:
                _SENTENCE_VECTORS.clear()
            _SENTENCE_VECTORS[sentence] = self._unit(sentence)
        return _SENTENCE_VECTORS[sentence]

    def _unit(self, text: str):
        import numpy as np

        vector = np.asarray(self._embedder().embed_one(text), dtype=np.float32)
        return vector / max(float(np.linalg.norm(vector)), 1e-12)
