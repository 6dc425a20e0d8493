"""A naive RAG baseline built from stock LangChain parts, and the side-by-side eval of partnerbot against it.

The baseline is what a first afternoon with LangChain gives: the same files, front matter stripped, split by
`RecursiveCharacterTextSplitter` at a fixed size, embedded with the same MiniLM model (our already-loaded
embedder behind a LangChain `Embeddings` adapter, so the model is not loaded twice) into an in-memory
`langchain_chroma.Chroma`, searched dense-only with `similarity_search`. Its "answer" is extractive: the top
passages' text, each marked with its citation, so the same answer checks apply to both systems.
"""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

from .answer import Answer, Citation
from .errors import InputError
from .retrieval import Passage
from .settings import Settings

CHUNK_SIZE = 500
CHUNK_OVERLAP = 50
ANSWER_PASSAGES = 3      # passages the baseline's extractive answer quotes
RANKED = 10              # passages ranked per question (nDCG@10 needs ten)


def _embeddings(settings: Settings):
    from langchain_core.embeddings import Embeddings

    from .store import get_embedder

    embedder = get_embedder(settings)

    class MiniLM(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return embedder.embed(list(texts))

        def embed_query(self, text: str) -> list[float]:
            return embedder.embed_one(text)

    return MiniLM()


class NaiveBaseline:
    """Fixed-size chunks in an ephemeral Chroma, dense top-k. Build with `from_files`."""

    mode = "baseline"

    def __init__(self, settings: Settings, vectorstore, chunks: int, seconds: float):
        self.settings = settings
        self.vectorstore = vectorstore
        self.chunks = chunks
        self.build_seconds = seconds

    @classmethod
    def from_files(cls, settings: Settings, files: list[tuple[Path, str]]) -> "NaiveBaseline":
        """files: (path, doc id) pairs; the doc id is what the eval set's expected sources name."""
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from langchain_chroma import Chroma
        from langchain_core.documents import Document
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        from ingest.loaders import load_file

        started = time.perf_counter()
        splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
        docs = []
        for path, doc_id in files:
            text = load_file(path, settings.max_file_mb).text  # front matter stripped, nothing else
            docs.append(Document(page_content=text, metadata={"doc_id": doc_id, "doc_path": str(path),
                                                              "title": path.stem}))
        chunks = splitter.split_documents(docs)
        client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
        store = Chroma(collection_name=f"baseline-{uuid.uuid4().hex[:8]}", embedding_function=_embeddings(settings),
                       client=client)
        if chunks:
            store.add_documents(chunks)
        return cls(settings, store, len(chunks), time.perf_counter() - started)

    def close(self) -> None:
        self.vectorstore.delete_collection()

    def search(self, question: str, k: int = RANKED) -> list[Passage]:
        found = self.vectorstore.similarity_search(question, k=k)
        return [Passage(rank=rank, score=0.0, chunk_id=f"{doc.metadata['doc_id']}#{rank}",
                        doc_path=doc.metadata["doc_path"], title=doc.metadata["title"], source_title="", author="",
                        voice="", text=doc.page_content, doc_id=doc.metadata["doc_id"])
                for rank, doc in enumerate(found, 1)]

    def answer(self, question: str, history: Sequence = ()) -> Answer:
        """Extractive: the top passages, each followed by its marker. Never refuses, has no verdict."""
        from .vocab import load_vocab

        passages = self.search(question, ANSWER_PASSAGES)
        citations = [Citation.from_passage(n, p) for n, p in enumerate(passages, 1)]
        text = "\n\n".join(f"{' '.join(p.text.split())} [{n}]" for n, p in enumerate(passages, 1))
        return Answer(text=text, citations=citations, mode=self.mode,
                      language=load_vocab(str(self.settings.corpus_dir)).language(text))


# --- the side-by-side eval ---------------------------------------------------------------------------------

@contextmanager
def _eval_store(settings: Settings, docs: Sequence[Path]) -> Iterator[tuple[Settings, list[tuple[Path, str]]]]:
    """The store and (file, doc id) pairs to evaluate on: the corpus, or the given documents ingested into a
    temporary store (their doc id is then the file name, which the eval set's expected sources must name)."""
    from ingest.loaders import load_file
    from ingest.pipeline import corpus_files, expand_paths, ingest_paths

    if not docs:
        root = Path(settings.corpus_dir)
        yield settings, [(p, p.relative_to(root).with_suffix("").as_posix()) for p in corpus_files(settings)]
        return
    from .store import forget_store

    files = []
    for path in expand_paths(docs):
        try:
            load_file(path, settings.max_file_mb)
        except InputError:
            continue  # ingest reports it too; both systems skip the same files
        files.append((path, path.name))
    if not files:
        raise InputError(f"No readable documents in {', '.join(map(str, docs))}: give .md .txt .html or .pdf files.")
    folder = Path(tempfile.mkdtemp(prefix="partnerbot-eval-"))
    cfg = settings.model_copy(update={"store": folder, "chroma_host": None})
    try:
        ingest_paths(cfg, [p for p, _ in files])
        yield cfg, files
    finally:
        forget_store(cfg)
        shutil.rmtree(folder, ignore_errors=True)


def _as_file_names(passages: list) -> list[dict]:
    """User documents are stored as user/NAME; the eval set names them NAME."""
    return [{"doc_id": (p.doc_id or "").removeprefix("user/"), "doc_path": p.doc_path} for p in passages]


def _guarded(answer):
    """An eval question our validation rejects scores as a refusal instead of stopping the run."""
    def run(question, history=()):
        try:
            return answer(question, history)
        except InputError as exc:
            return Answer(text=str(exc), refused=True, mode="error")
    return run


def evaluate(settings: Settings, eval_path: Path | None = None, docs: Sequence[Path] = (), k: int = 5,
             mode: str | None = None) -> dict:
    """Score partnerbot and the naive baseline on the same questions and documents.

    Returns {"items", "k", "documents", "systems": {"partnerbot": {...}, "baseline": {...}}}, each system with
    "retrieval" (hit_at_k, mrr, ndcg_at_10, n, misses), "answers" (score, n, passed, failures) and timings."""
    from .answer import get_answerer
    from .evals import load_eval_set, score_answers, score_retrieval
    from .retrieval import get_retriever

    items = load_eval_set(eval_path)
    if docs:  # expected sources name files; matching compares them the way it compares note ids ("x.md" → "x")
        from .evals import _doc_of

        for item in items:
            item.expected_sources = [_doc_of({"doc_id": source}) for source in item.expected_sources]
    ranked = max(k, RANKED)
    with _eval_store(settings, docs) as (cfg, files):
        answerer = get_answerer(cfg, mode)
        retriever = get_retriever(cfg)
        retriever.refresh()
        baseline = NaiveBaseline.from_files(cfg, files)
        rename = _as_file_names if docs else (lambda passages: passages)

        def ours_search(question: str) -> list:
            try:
                return rename(retriever.search(question, ranked).passages)
            except InputError:
                return []

        def rename_answer(answer_fn):
            def run(question, history=()):
                result = answer_fn(question, history)
                if docs:
                    for c in result.citations:
                        c.doc_id = c.doc_id.removeprefix("user/")
                return result
            return run

        systems = {}
        try:
            for name, search, answer in (
                    ("partnerbot", ours_search, rename_answer(_guarded(answerer.answer))),
                    ("baseline", lambda q: rename(baseline.search(q, ranked)), baseline.answer)):
                started = time.perf_counter()
                retrieval = score_retrieval(search, items, k)
                searched = time.perf_counter()
                answers = score_answers(answer, items)
                done = time.perf_counter()
                systems[name] = {"retrieval": retrieval, "answers": answers,
                                 "seconds": {"retrieval": round(searched - started, 2),
                                             "answers": round(done - searched, 2)}}
            systems["partnerbot"]["mode"] = answerer.mode
            systems["baseline"].update(mode="baseline", chunks=baseline.chunks,
                                       chunking=f"RecursiveCharacterTextSplitter({CHUNK_SIZE}/{CHUNK_OVERLAP})",
                                       build_seconds=round(baseline.build_seconds, 2))
        finally:
            baseline.close()
    return {"items": len(items), "k": k, "documents": [str(p) for p in docs] or "corpus",
            "files": len(files), "systems": systems}


def comparison_table(result: dict) -> str:
    """The side-by-side table as plain text."""
    ours, base = result["systems"]["partnerbot"], result["systems"]["baseline"]
    k = result["k"]

    def answers(system: dict) -> str:
        a = system["answers"]
        return f"{a['passed']}/{a['n']} ({a['score']:.3f})"

    rows = [("metric", "partnerbot", "baseline"),
            (f"hit@{k}", f"{ours['retrieval']['hit_at_k']:.3f}", f"{base['retrieval']['hit_at_k']:.3f}"),
            ("MRR", f"{ours['retrieval']['mrr']:.3f}", f"{base['retrieval']['mrr']:.3f}"),
            ("nDCG@10", f"{ours['retrieval']['ndcg_at_10']:.3f}", f"{base['retrieval']['ndcg_at_10']:.3f}"),
            ("answers passing", answers(ours), answers(base)),
            ("retrieval items", str(ours["retrieval"]["n"]), str(base["retrieval"]["n"])),
            ("seconds (search+answer)", f"{sum(ours['seconds'].values()):.1f}", f"{sum(base['seconds'].values()):.1f}"),
            ("mode", ours["mode"], f"dense top-k, {base['chunks']} chunks")]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    where = "the corpus" if result["documents"] == "corpus" else f"{result['files']} document(s)"
    head = f"{result['items']} eval questions over {where}; baseline: {base['chunking']}, Chroma similarity_search"
    misses = ours["retrieval"]["misses"]
    tail = [f"partnerbot retrieval misses (not in top {k}): {', '.join(misses)}"] if misses else []
    failed = [f["id"] for f in ours["answers"]["failures"]]
    if failed:
        tail.append(f"partnerbot answer failures: {', '.join(failed)} (reasons: --json)")
    return "\n".join([head, ""] + lines + ([""] + tail if tail else []))
