"""Hybrid retrieval: BM25 (bm25s) + dense fused by reciprocal rank fusion.

Dense search is exact (numpy, over vectors mirrored in memory) up to `exact_search_max` chunks, and Chroma's
HNSW index above that. The HNSW graph leaves a few near-duplicate chunks unreachable and is rebuilt in a
different order after a restart; exact search finds every chunk and ranks the same way every time."""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field

from .errors import InputError, StoreError
from .lang import detect, dutch_tokens, index_tokens, tokens  # noqa: F401 (tokens: re-exported)
from .settings import Settings
from .store import Store, index_text, open_store, store_key
from .vocab import Vocab, load_vocab
from .workspaces import PRIVATE, scope_where

PASSAGE_FIELDS = ("rank", "score", "chunk_id", "doc_path", "title", "source_title", "author", "voice", "text")


@dataclass
class Passage:
    rank: int
    score: float
    chunk_id: str
    doc_path: str
    title: str
    source_title: str
    author: str
    voice: str
    text: str
    doc_id: str = ""
    section: str = ""
    caveat: str = ""
    language: str = "en"
    reference: str = ""
    similarity: float = 0.0      # dense cosine to the query (0: only BM25 found it, vectors not in memory)

    def public(self) -> dict:
        """The JSON contract of `search --json` (plus section/caveat/doc_id extras)."""
        data = asdict(self)
        data["score"] = round(self.score, 6)
        data["similarity"] = round(self.similarity, 4)
        return data


@dataclass
class SearchResult:
    query: str
    expanded: str
    passages: list[Passage] = field(default_factory=list)

    @property
    def best_similarity(self) -> float:
        return max((p.similarity for p in self.passages), default=0.0)


@dataclass(frozen=True)
class _Index:
    """One consistent picture of the collection. Replaced whole by refresh(), so a search that holds it never
    mixes rows of two generations (a page session may search while another session's upload is ingested)."""
    generation: int = -1
    ids: tuple[str, ...] = ()
    texts: tuple[str, ...] = ()
    metas: tuple[dict, ...] = ()
    by_id: dict[str, int] = field(default_factory=dict)
    by_doc: dict[str, list[int]] = field(default_factory=dict)
    bm25: object = None
    vectors: object = None  # unit rows aligned with ids (numpy); None above exact_search_max: HNSW then
    vocab_tokens: frozenset[str] = frozenset()
    languages: tuple[str, ...] = ()   # 'en' | 'nl' per row: which tokens BM25 indexed it with
    # Private documents (workspaces.py): rows of the shared store, and each owner's rows with their expiry.
    shared: object = None             # numpy bool per row; None when every row is shared (no private rows)
    by_owner: dict[str, object] = field(default_factory=dict)   # owner -> numpy array of rows
    expires: object = None            # numpy float per row (inf for shared rows)
    shared_vocab: frozenset[str] = frozenset()
    owner_vocab: dict[str, frozenset[str]] = field(default_factory=dict)
    df: dict[str, int] = field(default_factory=dict)   # token -> number of rows that use it (how rare a word is)
    row_tokens: tuple[tuple[str, ...], ...] = ()          # BM25's tokens per row
    views: dict[str, "_View"] = field(default_factory=dict)   # owner ("" = nobody's) -> its view, built on first use


@dataclass(frozen=True)
class _View:
    """BM25 and word counts over the rows one owner may see (the shared store and the owner's own uploads). With
    one index over every row, another owner's private upload would change how rare a word is, and so move this
    owner's ranking and answers: users must not change each other's answers."""
    bm25: object
    rows: object      # numpy int array: view row -> index row; None: the view is every row
    df: dict[str, int]


class Retriever:
    """Mirrors the collection in memory (texts for BM25, vectors for exact dense search); rebuilt when the
    store generation moves."""

    def __init__(self, store: Store, vocab: Vocab):
        self.store = store
        self.vocab = vocab
        self.settings = store.settings
        self._lock = threading.Lock()
        self._index = _Index()

    # --- index ------------------------------------------------------------------------------------------
    def refresh(self, force: bool = False) -> _Index:
        """The current index, rebuilt first if the store changed since (or if forced)."""
        try:
            return self._refresh(force)
        except Exception:
            if open_store(self.settings) is self.store:
                raise
            return self._refresh(True)  # another thread re-opened the store under us: once more with it

    def _refresh(self, force: bool) -> _Index:
        store = open_store(self.settings)  # the same handle, unless another process has written since
        if store is not self.store:
            self.store, force = store, True
        generation = self.store.generation()
        if not force and generation == self._index.generation:
            return self._index
        with self._lock:
            if not force and generation == self._index.generation:
                return self._index
            import bm25s
            import numpy as np

            exact = self.store.current().count() <= self.settings.exact_search_max
            got = self.store.get_all(include=["documents", "metadatas"] + (["embeddings"] if exact else []))
            ids, texts, metas = got["ids"], got["documents"], got["metadatas"]
            vectors = None
            if exact and ids:
                vectors = np.asarray(got["embeddings"], dtype=np.float32).reshape(len(ids), -1)
                vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
            languages = tuple(m.get("language") or detect(t) for m, t in zip(metas, texts))
            corpus_tokens = [index_tokens(index_text(m, t), lang) or ["_empty_"]
                             for m, t, lang in zip(metas, texts, languages)]
            bm25 = None
            shared = np.array([not (m.get("kind") == PRIVATE and m.get("owner")) for m in metas], dtype=bool)
            if ids and shared.all():   # with private rows, each owner's view gets its own BM25 (_view)
                bm25 = bm25s.BM25()
                bm25.index(corpus_tokens, show_progress=False)
            by_doc: dict[str, list[int]] = {}
            for i, meta in enumerate(metas):
                by_doc.setdefault(meta.get("doc_id") or meta.get("doc_path"), []).append(i)
            for rows in by_doc.values():
                rows.sort(key=lambda i: metas[i].get("chunk_index", 0))
            owners = [m.get("owner", "") if m.get("kind") == PRIVATE else "" for m in metas]
            by_owner: dict[str, list[int]] = {}
            for i, owner in enumerate(owners):
                if owner:
                    by_owner.setdefault(owner, []).append(i)
            expires = np.array([float(m.get("expires", np.inf)) if o else np.inf for m, o in zip(metas, owners)])
            owner_vocab = {o: frozenset(tok for i in rows for tok in corpus_tokens[i]) for o, rows in by_owner.items()}
            df = Counter(tok for toks in corpus_tokens for tok in set(toks))
            self._index = _Index(generation, tuple(ids), tuple(texts), tuple(metas),
                                 {cid: i for i, cid in enumerate(ids)}, by_doc, bm25, vectors,
                                 frozenset(tok for toks in corpus_tokens for tok in toks), languages,
                                 None if shared.all() else shared,
                                 {o: np.array(rows) for o, rows in by_owner.items()}, expires,
                                 frozenset(tok for toks, ok in zip(corpus_tokens, shared) if ok for tok in toks),
                                 owner_vocab, dict(df), tuple(tuple(toks) for toks in corpus_tokens))
            return self._index

    @staticmethod
    def _view(index: _Index, owner: str | None) -> _View:
        """BM25 and word counts over what this owner may see (see _View); built once per owner and generation."""
        if index.shared is None:
            return _View(index.bm25, None, index.df)
        key = owner if owner and owner in index.by_owner else ""
        view = index.views.get(key)
        if view is None:   # (two threads may build the same view at once; both results are equal)
            import bm25s
            import numpy as np

            rows = np.flatnonzero(index.shared)
            if key:
                rows = np.union1d(rows, index.by_owner[key])
            row_tokens = [index.row_tokens[r] for r in rows]
            bm25 = None
            if len(rows):
                bm25 = bm25s.BM25()
                bm25.index([list(t) for t in row_tokens], show_progress=False)
            view = index.views[key] = _View(bm25, rows, dict(Counter(t for toks in row_tokens for t in set(toks))))
        return view

    @staticmethod
    def allowed(index: _Index, owner: str | None):
        """Rows an owner may see: the shared store plus the owner's own private rows that have not expired
        (numpy bool per row); None when that is every row. owner None: the shared store only."""
        if index.shared is None:
            return None
        mask = index.shared.copy()
        rows = index.by_owner.get(owner) if owner else None
        if rows is not None:
            mask[rows[index.expires[rows] >= time.time()]] = True
        return mask

    @property
    def size(self) -> int:
        return len(self._index.ids)

    @property
    def ids(self) -> tuple[str, ...]:
        """Chunk ids in row order (rows are what nearest() returns)."""
        return self._index.ids

    def knows(self, word: str, owner: str | None = None) -> bool:
        """True when the chunks this owner may see (default: the shared store) use this word (after the same
        normalising BM25 applies), or it is a stop word; refreshes the index first."""
        index = self.refresh()
        known = index.vocab_tokens if index.shared is None else (
            index.shared_vocab | index.owner_vocab.get(owner, frozenset()) if owner else index.shared_vocab)
        return all(tok in known for tok in tokens(word))

    def rarity(self, words, owner: str | None = None) -> dict[str, float]:
        """Inverse document frequency, log(rows / rows using it), of each word the chunks this owner may see use
        (BM25's tokens; default: the shared store); words they never use are left out."""
        index = self.refresh()
        view = self._view(index, owner)
        n = max(1, len(index.ids) if view.rows is None else len(view.rows))
        return {w: math.log(n / view.df[w]) for w in words if view.df.get(w)}

    @property
    def exact(self) -> bool:
        """True when dense search is exact (vectors in memory), False when it goes to Chroma's HNSW index."""
        return self._index.vectors is not None

    # --- search -----------------------------------------------------------------------------------------
    def _bm25_ranks(self, index: _Index, toks: list[str], n: int, mask=None,
                    owner: str | None = None) -> list[tuple[int, float]]:
        view = self._view(index, owner)
        if view.bm25 is None:
            return []
        toks = [t for t in toks if t in view.df]
        visible = mask if mask is None or view.rows is None else mask[view.rows]   # (expired uploads: masked)
        count = (len(index.ids) if view.rows is None else len(view.rows)) if visible is None else int(visible.sum())
        if not toks or not count:
            return []
        weights = None if visible is None else visible.astype("float32")
        docs, scores = view.bm25.retrieve([toks], k=min(n, count), show_progress=False, n_threads=1,
                                          weight_mask=weights)
        rows = view.rows
        return [(int(d) if rows is None else int(rows[d]), float(s)) for d, s in zip(docs[0], scores[0]) if s > 0]

    def _dense_ranks(self, index: _Index, vector, n: int, mask=None, owner: str | None = None) -> list[tuple[int, float]]:
        if not index.ids:
            return []
        return self.nearest(vector, n, index, mask, owner)

    @staticmethod
    def _cosines(index: _Index, vector, rows: list[int]) -> dict[int, float]:
        """Cosine of the query with chunks dense search did not rank (BM25 found them), when the vectors are in
        memory; {} otherwise (their similarity stays 0)."""
        import numpy as np

        if index.vectors is None or not rows:
            return {}
        query = np.asarray(vector, dtype=np.float32)
        query /= max(float(np.linalg.norm(query)), 1e-12)
        return {row: float(index.vectors[row] @ query) for row in rows}

    def nearest(self, vector: list[float], n: int, index: _Index | None = None, mask=None,
                owner: str | None = None) -> list[tuple[int, float]]:
        """(row, cosine similarity) of the n chunks nearest to a query vector, best first. Low level: every
        row unless a mask (see allowed()) says which rows count; search() always passes one."""
        import numpy as np

        index = index or self._index
        n = min(n, len(index.ids) if mask is None else int(mask.sum()))
        if n <= 0:
            return []
        if index.vectors is not None:
            query = np.asarray(vector, dtype=np.float32)
            sims = index.vectors @ (query / max(float(np.linalg.norm(query)), 1e-12))
            if mask is not None:
                sims = np.where(mask, sims, -np.inf)
            top = np.argpartition(-sims, n - 1)[:n] if n < len(sims) else np.arange(len(sims))
            # ties (identical chunks) are broken by id, as fusion does, so the order never depends on load order
            return [(int(r), float(sims[r])) for r in sorted(top, key=lambda r: (-sims[r], index.ids[r]))
                    if mask is None or mask[r]]
        try:  # HNSW: the same scope as a Chroma filter, then the mask (expiry) on what came back
            where = None if mask is None else scope_where(owner)
            got = self.store.collection.query(query_embeddings=[vector], n_results=n, include=["distances"],
                                              where=where)
        except Exception as exc:
            raise StoreError(f"Search failed on the store at {self.store.location} ({type(exc).__name__}): "
                             "check the store or server, then try again.") from None
        return [(index.by_id[cid], 1.0 - float(dist))
                for cid, dist in zip(got["ids"][0], got["distances"][0])
                if cid in index.by_id and (mask is None or mask[index.by_id[cid]])]

    def search(self, query: str, k: int | None = None, owner: str | None = None) -> SearchResult:
        """The k best passages for a query from the shared store, plus (with an owner) that owner's private
        documents; another owner's private documents are never candidates, in BM25 or in dense search."""
        query = validate_question(query, self.settings)
        index = self.refresh()
        mask = self.allowed(index, owner)
        k = k or self.settings.top_k
        language = self.vocab.language(query)
        expanded = self.vocab.expand(query)        # original words + English renderings of Dutch terms, for BM25
        n = max(self.settings.candidates, k)
        # an English-only model gets Dutch questions translated through the concept map first
        multilingual = getattr(self.store.embedder, "multilingual", False)
        vector = self.store.embedder.embed_one(query if multilingual else self.vocab.translate(query)) if index.ids else None
        dense = self._dense_ranks(index, vector, n, mask, owner)
        lexical = self._bm25_ranks(index, tokens(expanded) + (dutch_tokens(query) if language == "nl" else []), n,
                                   mask, owner)
        fused = self._fuse(index, dense, lexical, {language, "en"} if multilingual else None)
        similarity = dict(dense)
        order = sorted(fused, key=lambda r: (-fused[r], index.ids[r]))[:k]
        similarity.update(self._cosines(index, vector, [r for r in order if r not in similarity]))
        passages = [_passage(index, row, rank, fused[row], similarity.get(row, 0.0))
                    for rank, row in enumerate(order, 1)]
        return SearchResult(query, expanded, passages)

    def _fuse(self, index: _Index, dense: list, lexical: list, bm25_languages: set[str] | None) -> dict[int, float]:
        """Reciprocal rank fusion, averaged over the retrievers that can judge each chunk. Words only meet
        words of the same language, so BM25 cannot judge a Dutch chunk for an English question (whose words it
        never shares); with a plain sum that chunk would lose to every English chunk BM25 also liked, however
        well the multilingual dense side ranked it. None: every retriever judges every chunk (plain RRF)."""
        k = self.settings.rrf_k
        votes: dict[int, float] = {}
        for ranking in (dense, lexical):
            for rank, (row, _score) in enumerate(ranking):
                votes[row] = votes.get(row, 0.0) + 1.0 / (k + rank + 1)
        if bm25_languages is None or not index.ids:
            return votes
        return {row: vote / (1 + (index.languages[row] in bm25_languages)) for row, vote in votes.items()}

    def note_passages(self, doc_id: str, owner: str | None = None) -> list[Passage]:
        """All chunks of one note (by id such as 'totus/author-conclusion') that the owner may see (default:
        the shared store), in document order."""
        index = self.refresh()
        mask = self.allowed(index, owner)
        return [_passage(index, row) for row in index.by_doc.get(doc_id, []) if mask is None or mask[row]]


def _passage(index: _Index, row: int, rank: int = 0, score: float = 0.0, similarity: float = 0.0) -> Passage:
    m = index.metas[row]
    return Passage(rank=rank, score=score, chunk_id=index.ids[row], doc_path=m.get("doc_path", ""),
                   title=m.get("title", ""), source_title=m.get("source_title", ""), author=m.get("author", ""),
                   voice=m.get("voice", ""), text=index.texts[row], doc_id=m.get("doc_id", ""),
                   section=m.get("section", ""), caveat=m.get("caveat", ""), language=m.get("language", "en"),
                   reference=m.get("reference", ""), similarity=similarity)


def validate_question(question: object, settings: Settings) -> str:
    if not isinstance(question, str) or not question.strip():
        raise InputError("The question is empty: type a question, e.g. \"Can a contractor be a strategic partner?\"")
    cleaned = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in question).strip()
    if not cleaned:
        raise InputError("The question has no readable characters: type a question in words.")
    if len(cleaned) > settings.max_question_chars:
        raise InputError(f"The question is {len(cleaned)} characters long; shorten it to at most "
                         f"{settings.max_question_chars} (PARTNERBOT_MAX_QUESTION_CHARS).")
    return cleaned


class OwnerRetriever:
    """One owner's view of a shared Retriever: search, note_passages, knows and rarity see the shared store plus that
    owner's private documents; everything else (vocab, store, refresh, nearest…) is the underlying retriever's.
    The answerers get it from get_retriever(settings) when settings.workspace is set, so their calls
    (retriever.search(q, k=…)) need no owner argument."""

    def __init__(self, base: Retriever, owner: str):
        self.base, self.owner = base, owner

    def __getattr__(self, name: str):
        return getattr(self.base, name)

    def search(self, query: str, k: int | None = None, owner: str | None = None) -> SearchResult:
        return self.base.search(query, k, owner=self.owner)

    def note_passages(self, doc_id: str, owner: str | None = None) -> list[Passage]:
        return self.base.note_passages(doc_id, owner=self.owner)

    def knows(self, word: str, owner: str | None = None) -> bool:
        return self.base.knows(word, owner=self.owner)

    def rarity(self, words, owner: str | None = None) -> dict[str, float]:
        return self.base.rarity(words, owner=self.owner)


_retrievers: dict[tuple, Retriever] = {}
_retrievers_lock = threading.Lock()


def get_retriever(settings: Settings) -> Retriever:
    """One retriever per store per process (it follows the store when it is opened again); with
    settings.workspace, that owner's view of it (OwnerRetriever), else the shared store only."""
    store = open_store(settings)
    key = (store_key(settings), str(settings.corpus_dir))
    with _retrievers_lock:
        if key not in _retrievers:
            _retrievers[key] = Retriever(store, load_vocab(str(settings.corpus_dir)))
        base = _retrievers[key]
    return OwnerRetriever(base, settings.workspace) if settings.workspace else base
