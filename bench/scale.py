"""Search and answer latency as the store grows to 1k, 10k, 50k and 100k chunks, with memory.

Up to 50k (PARTNERBOT_EXACT_SEARCH_MAX) the dense half of search is exact in memory; at 100k it is Chroma's HNSW.

The synthetic chunks are not embedded one by one (100k MiniLM encodes take long on two cores; the rate is
measured and reported): each synthetic chunk joins 3-5 real corpus sentences, and its vector is the mean of
those sentences' real embeddings plus Gaussian noise, normalised. The real corpus is in the store too, so
the rules answerer still finds its cited notes. The store lives in /tmp and is rebuilt every run.
"""

from __future__ import annotations

import re
import shutil
import time

from .common import WORK, eval_questions, peak_rss_mib, rss_mib, stats, timed

STAGES = (1_000, 10_000, 50_000, 100_000)
ADD_BATCH = 5_000        # Chroma caps one add at ~5.4k records
NOISE = 0.015            # per-dimension sigma before normalising (unit vectors have ~0.05 per dimension)


def _sentences(texts: list[str]) -> list[str]:
    out = []
    for text in texts:
        out += [s.strip() for s in re.split(r"(?<=[.!?])\s+", " ".join(text.split())) if len(s.split()) >= 5]
    return list(dict.fromkeys(out))


def _synthetic(rng, sentences, vectors, start: int, count: int):
    import numpy as np

    ids, docs, metas, embs = [], [], [], []
    for i in range(start, start + count):
        pick = rng.choice(len(sentences), size=int(rng.integers(3, 6)), replace=False)
        vec = vectors[pick].mean(axis=0) + rng.normal(0, NOISE, vectors.shape[1])
        embs.append((vec / np.linalg.norm(vec)).astype("float32"))
        docs.append(" ".join(sentences[j] for j in pick))
        doc = i // 20
        ids.append(f"synthetic-{i:07d}")
        metas.append({"doc_path": f"synthetic/doc-{doc:05d}.md", "doc_id": f"synthetic/doc-{doc:05d}",
                      "kind": "user", "title": f"Synthetic document {doc}", "source_title": "synthetic",
                      "author": "bench", "voice": "document", "chunk_index": i % 20, "n_chunks": 20})
    return ids, docs, metas, embs


def scale(repeats: int = 3) -> dict:
    import numpy as np

    from ingest import ingest_corpus
    from partnerbot.answer import get_answerer
    from partnerbot.retrieval import get_retriever
    from partnerbot.settings import get_settings
    from partnerbot.store import open_store

    cfg = get_settings(store=WORK / "scale-store")
    shutil.rmtree(cfg.store, ignore_errors=True)  # every run grows the store from the corpus up
    ingest_corpus(cfg)
    store = open_store(cfg)
    collection = store.collection
    corpus = collection.get(where={"kind": "corpus"}, include=["documents"])
    sentences = _sentences(corpus["documents"])
    embed_s, _cpu, vectors = timed(store.embedder.embed, sentences)
    vectors = np.asarray(vectors, dtype="float32")
    texts = [" ".join(sentences[i:i + 4]) for i in range(0, min(len(sentences), 2000), 4)]
    real_s = timed(store.embedder.embed, texts)[0]
    out = {"method": "synthetic texts from real corpus sentences; vectors = mean of real sentence embeddings "
                     f"+ N(0, {NOISE}) noise, normalised", "sentences": len(sentences),
           "sentence_embed_s": round(embed_s, 2),
           "real_embedding_chunks_per_s": round(len(texts) / real_s, 1),
           "real_embedding_100k_estimate_min": round(100_000 / (len(texts) / real_s) / 60, 1), "stages": []}
    rng = np.random.default_rng(7)
    questions = eval_questions()
    answerer = get_answerer(cfg, "rules")
    retriever = get_retriever(cfg)
    for target in STAGES:
        have = collection.count()
        started = time.perf_counter()
        while have < target:
            count = min(ADD_BATCH, target - have)
            ids, docs, metas, embs = _synthetic(rng, sentences, vectors, have, count)
            collection.add(ids=ids, documents=docs, metadatas=metas, embeddings=embs)
            have += count
        added_s = time.perf_counter() - started
        store.bump()
        refresh_s = timed(retriever.refresh)[0]
        for question, history in questions[:10]:  # warm-up at this size
            answerer.answer(question, history)
        search, answer = [], []
        for _ in range(repeats):
            for question, history in questions:
                search.append(timed(retriever.search, question)[0])
                answer.append(timed(answerer.answer, question, history)[0])
        stage = {"chunks": collection.count(), "add_s": round(added_s, 1), "refresh_s": round(refresh_s, 2),
                 "exact_dense": retriever.exact,
                 "search_ms": stats(search), "answer_ms": stats(answer), "rss_mib": rss_mib(),
                 "peak_rss_mib": peak_rss_mib()}
        out["stages"].append(stage)
        print(f"  {stage['chunks']:>7} chunks: search p50 {stage['search_ms']['p50']} ms p95 "
              f"{stage['search_ms']['p95']} ms; answer p95 {stage['answer_ms']['p95']} ms; RSS {stage['rss_mib']} MiB")
    return out
