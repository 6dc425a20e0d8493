"""Warm-process latency (answer, search, and where the time goes), batch throughput, ingest throughput."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from .common import WORK, corpus_store, eval_questions, rss_mib, stats, timed


def latency(repeats: int = 5) -> dict:
    """Rules-mode answer and search latency over the eval questions, `repeats` passes after one warm-up pass."""
    from partnerbot.answer import get_answerer
    from partnerbot.retrieval import get_retriever

    cfg = corpus_store()
    answerer = get_answerer(cfg, "rules")
    retriever = get_retriever(cfg)
    questions = eval_questions()
    for question, history in questions:  # warm-up: model, BM25 index, caches
        answerer.answer(question, history)
    answer_wall, answer_cpu, search_wall = [], [], []
    for _ in range(repeats):
        for question, history in questions:
            wall, cpu, _ = timed(answerer.answer, question, history)
            answer_wall.append(wall)
            answer_cpu.append(cpu)
        for question, _history in questions:
            search_wall.append(timed(retriever.search, question)[0])
    return {"questions": len(questions), "repeats": repeats, "answer_ms": stats(answer_wall),
            "answer_cpu_ms": stats(answer_cpu), "search_ms": stats(search_wall),
            "breakdown_ms": breakdown(cfg, [q for q, _ in questions]), "rss_mib": rss_mib()}


def breakdown(cfg, questions: list[str]) -> dict:
    """The parts of one search, timed separately: query embedding, dense ranking (as search does it, and Chroma's
    HNSW query for comparison), BM25, fusion + rest."""
    from partnerbot.retrieval import get_retriever

    retriever = get_retriever(cfg)
    n = max(cfg.candidates, cfg.top_k)
    parts: dict[str, list[float]] = {"embed_query": [], "dense": [], "chroma_query": [], "bm25": [],
                                     "search_total": []}
    from partnerbot.lang import dutch_tokens, tokens

    multilingual = getattr(retriever.store.embedder, "multilingual", False)
    for question in questions:
        dutch = retriever.vocab.language(question) == "nl"   # what BM25 sees, as search() builds it
        words = tokens(retriever.vocab.expand(question)) + (dutch_tokens(question) if dutch else [])
        dense_text = question if multilingual else retriever.vocab.translate(question)
        wall, _cpu, vector = timed(retriever.store.embedder.embed_one, dense_text)
        parts["embed_query"].append(wall)
        parts["dense"].append(timed(retriever.nearest, vector, n)[0])
        parts["chroma_query"].append(timed(retriever.store.collection.query, query_embeddings=[vector],
                                           n_results=n, include=["distances"])[0])
        parts["bm25"].append(timed(retriever._bm25_ranks, retriever.refresh(), words, n)[0])
        parts["search_total"].append(timed(retriever.search, question)[0])
    return {name: stats(values)["p50"] for name, values in parts.items()}


def batch_throughput(copies: int = 3) -> dict:
    """Questions/s of `partnerbot batch` in rules mode (JSONL with fsync per record, and XLSX via the journal)."""
    from partnerbot.batch import run_batch

    cfg = corpus_store()
    questions = [q for q, _ in eval_questions()] * copies
    folder = Path(tempfile.mkdtemp(prefix="bench-batch-", dir=WORK))
    source = folder / "questions.txt"
    source.write_text("\n".join(questions) + "\n", encoding="utf-8")
    out = {"questions": len(questions)}
    try:
        run_batch(cfg, source, folder / "warm.jsonl", progress=False)  # loads the model; not timed
        for fmt in ("jsonl", "csv", "xlsx", "md"):
            report = run_batch(cfg, source, folder / f"answers.{fmt}", progress=False)
            assert report.answered == len(questions), report.summary()
            out[fmt] = {"questions_per_s": round(report.answered / report.answer_seconds, 1),
                        "seconds": round(report.answer_seconds, 2)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return out


def ingest_throughput() -> dict:
    """Chunks/s of a first corpus ingest into an empty store (model already loaded), the unchanged re-ingest, and
    the model's embedding-only speed on the very texts ingest embedded (the target: ingest >= 80% of it)."""
    from ingest import ingest_corpus
    from partnerbot.settings import get_settings
    from partnerbot.store import get_embedder, index_text, open_store

    folder = Path(tempfile.mkdtemp(prefix="bench-ingest-", dir=WORK))
    cfg = get_settings(store=folder / "store")
    try:
        load_s = timed(get_embedder, cfg)[0]
        # one-time costs that are not per chunk: importing chromadb and opening the store, and ONNX Runtime's
        # first runs (it sizes its buffers on the first batches it sees)
        open_store(cfg)
        get_embedder(cfg).embed(["A client commissions, a contractor carries out the work. " * 15] * 64)
        first = ingest_corpus(cfg)
        again = ingest_corpus(cfg)
        got = open_store(cfg).get_all(include=["documents", "metadatas"])
        texts = [index_text(m, t) for m, t in zip(got["metadatas"], got["documents"])]
        embed_s = min(timed(get_embedder(cfg).embed, texts)[0] for _ in range(3))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    ingest_rate, embed_rate = first.chunks_written / first.seconds, len(texts) / embed_s
    return {"model": cfg.embed_model, "model_load_s": round(load_s, 2), "chunks": first.chunks_written,
            "first_ingest_s": round(first.seconds, 2), "chunks_per_s": round(ingest_rate, 1),
            "reingest_unchanged_s": round(again.seconds, 3), "reingest_written": again.chunks_written,
            "embed_only_chunks_per_s": round(embed_rate, 1), "ingest_share_of_embed_only": round(ingest_rate / embed_rate, 2)}
