"""Dense-search reachability of near-duplicate chunks: Chroma's default HNSW graph against ours (store.HNSW).

Each set is `size` vectors around one random centre (cosine ~0.9 to each other, like templated documents),
added in write batches of 128 as ingest does. A record is unreachable when a query with its own stored vector
and n_results = the whole set does not return it: no search can ever find it. Synthetic vectors, so no model.
"""

from __future__ import annotations

import tempfile
import time

DEFAULT = {"hnsw:space": "cosine"}  # Chroma's default graph: 16 links per node, ef_construction 100


def unreachable(metadata: dict, seed: int, size: int, noise: float) -> tuple[int, float]:
    """(records no query can return, seconds to add the set) for one near-duplicate set."""
    import chromadb
    import numpy as np

    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=384) + rng.normal(size=(size, 384)) * noise
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = [f"c{i}" for i in range(size)]
    with tempfile.TemporaryDirectory() as folder:
        collection = chromadb.PersistentClient(folder).create_collection(
            "reach", metadata=metadata, embedding_function=None)
        started = time.perf_counter()
        for start in range(0, size, 128):
            collection.add(ids=ids[start:start + 128], embeddings=vectors[start:start + 128].tolist())
        seconds = time.perf_counter() - started
        found = collection.query(query_embeddings=vectors.tolist(), n_results=size, include=[])["ids"]
        lost = sum(chunk_id not in hits for chunk_id, hits in zip(ids, found))
    return lost, seconds


def reach(seeds: int = 40) -> dict:
    from partnerbot.store import HNSW

    result = {}
    for name, metadata in (("chroma default", DEFAULT), ("partnerbot", HNSW)):
        rows = []
        for size, noise, n_seeds in ((241, 0.35, seeds), (241, 0.15, seeds), (3000, 0.35, 2)):
            runs = [unreachable(metadata, seed, size, noise) for seed in range(n_seeds)]
            rows.append({"set_size": size, "noise": noise, "sets": n_seeds, "records": size * n_seeds,
                         "unreachable": sum(lost for lost, _ in runs),
                         "add_seconds_per_set": round(sum(s for _, s in runs) / n_seeds, 3)})
            print(name, rows[-1], flush=True)
        result[name] = {"metadata": metadata, "rows": rows}
    return result
