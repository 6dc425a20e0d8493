"""The idempotent ingest pipeline.

Chunk ids come from (document path, content hash, chunk index). A document whose stored chunks carry the same
hash and count is skipped; a changed one gets its new chunks upserted and its stale ones deleted (upsert
first, prune second, so an interrupted ingest heals on the next run); a corpus note that disappeared from
disk is deleted. Retrieval rebuilds its BM25 index whenever the store's generation counter moves.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

from partnerbot.errors import InputError, PartnerbotError, StoreError
from partnerbot.lang import detect
from partnerbot.settings import Settings
from partnerbot.store import (Store, disk_full, forget_store, index_text, is_auth_error, is_connection_error,
                              open_store, server_error, write_lock)
from partnerbot.workspaces import PRIVATE, expiry, private_where

from .chunking import split
from .loaders import SUPPORTED, VOICES, LoadedDoc, load_file

REQUIRED_NOTE_FIELDS = ("title", "source_title", "author", "voice", "language")
_BATCH = 128


@dataclass
class IngestReport:
    added: int = 0
    replaced: int = 0
    unchanged: int = 0
    removed: int = 0
    chunks_written: int = 0
    chunks_deleted: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.replaced or self.removed)

    def summary(self) -> str:
        text = (f"{self.added} added, {self.replaced} replaced, {self.unchanged} unchanged, {self.removed} removed "
                f"({self.chunks_written} chunks written, {self.chunks_deleted} deleted) in {self.seconds:.1f}s")
        return text + (f"; {len(self.errors)} file(s) skipped" if self.errors else "")


@dataclass
class _Doc:
    path: str            # stable id of the document in the store
    kind: str            # "corpus" | "user"
    loaded: LoadedDoc
    meta: dict

    @property
    def digest(self) -> str:
        payload = json.dumps(self.meta, sort_keys=True, default=str) + "\n" + self.loaded.text
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def _chunk_id(doc_path: str, digest: str, index: int) -> str:
    return hashlib.sha256(f"{doc_path}\x00{digest}\x00{index}".encode()).hexdigest()[:24]


def _clean_meta(meta: dict) -> dict:
    """Chroma metadata values must be str/int/float/bool."""
    out = {}
    for key, value in meta.items():
        if value is None or value == "":
            continue
        out[key] = value if isinstance(value, (str, int, float, bool)) else str(value)
    return out


def _note_meta(path: Path, rel: str, loaded: LoadedDoc) -> dict:
    meta = dict(loaded.meta)
    missing = [f for f in REQUIRED_NOTE_FIELDS if not meta.get(f)]
    if missing:
        raise InputError(f"corpus/{rel}: front matter lacks {', '.join(missing)}; add them (see corpus/README.md).")
    if meta["voice"] not in VOICES:
        raise InputError(f"corpus/{rel}: voice '{meta['voice']}' is not one of {', '.join(VOICES[:-1])}.")
    overrides = meta.get("section_voices") or {}
    if not isinstance(overrides, dict) or any(v not in VOICES for v in overrides.values()):
        raise InputError(f"corpus/{rel}: section_voices must map heading beginnings to one of "
                         f"{', '.join(VOICES[:-1])}.")
    meta["doc_id"] = rel[:-3] if rel.endswith(".md") else rel
    return meta


def _user_meta(path: Path, loaded: LoadedDoc) -> dict:
    meta = {k: v for k, v in loaded.meta.items() if k in ("title", "source_title", "author", "language", "caveat")}
    title = meta.get("title") or next((line.lstrip("# ").strip() for line in loaded.text.splitlines()
                                       if line.startswith("# ")), "") or path.stem
    meta.update(title=str(title)[:200], source_title=meta.get("source_title") or path.name,
                author=meta.get("author") or "your document", voice="document",
                doc_id=f"user/{path.name}", language=meta.get("language") or detect(loaded.text))
    return meta


def _chunks(doc: _Doc, settings: Settings) -> tuple[list[str], list[str], list[dict]]:
    pieces = split(doc.loaded.text, doc.loaded.markdown, settings.chunk_size, settings.chunk_overlap)
    digest = doc.digest
    base = {k: v for k, v in doc.meta.items() if k != "section_voices"}
    # A section in another voice than its note: e.g. our check of a quoted chatbot answer, inside that answer's note
    overrides = doc.meta.get("section_voices") or {}
    ids, texts, metas = [], [], []
    for index, (section, text) in enumerate(pieces):
        ids.append(_chunk_id(doc.path, digest, index))
        texts.append(text)
        voice = next((v for prefix, v in overrides.items() if section.startswith(prefix)), base.get("voice"))
        metas.append(_clean_meta({**base, "voice": voice, "doc_path": doc.path, "kind": doc.kind, "section": section,
                                  "doc_hash": digest, "chunk_index": index, "n_chunks": len(pieces)}))
    return ids, texts, metas


def _existing(store: Store, where: dict) -> dict[str, dict]:
    """doc_path -> {"ids": [...], "hashes": {...}, "n": expected chunk count}."""
    got = store.get_all(include=["metadatas"], where=where)
    out: dict[str, dict] = {}
    for chunk_id, meta in zip(got["ids"], got["metadatas"]):
        entry = out.setdefault(meta["doc_path"], {"ids": [], "hashes": set(), "n": meta.get("n_chunks", -1)})
        entry["ids"].append(chunk_id)
        entry["hashes"].add(meta.get("doc_hash"))
    return out


def _sync(store: Store, docs: list[_Doc], existing: dict[str, dict], report: IngestReport,
          progress: Callable[[int, int], None] | None) -> None:
    pending_ids, pending_texts, pending_metas, stale = [], [], [], []
    for number, doc in enumerate(docs, 1):
        before = existing.get(doc.path)
        if before and before["hashes"] == {doc.digest} and len(before["ids"]) == before["n"]:
            report.unchanged += 1
        else:
            ids, texts, metas = _chunks(doc, store.settings)
            if not ids:  # e.g. markdown with headings only: nothing to search, so neither added nor replaced
                report.errors.append(f"{Path(doc.path).name} has no text to ingest beyond headings: add some text.")
            elif before:
                report.replaced += 1
                kept = set(ids)
                stale += [i for i in before["ids"] if i not in kept]
            else:
                report.added += 1
            pending_ids += ids
            pending_texts += texts
            pending_metas += metas
        if progress:
            progress(number, len(docs))
    embedder = store.embedder
    for start in range(0, len(pending_ids), _BATCH):
        ids = pending_ids[start:start + _BATCH]
        metas = pending_metas[start:start + _BATCH]
        texts = pending_texts[start:start + _BATCH]
        vectors = embedder.embed([index_text(m, t) for m, t in zip(metas, texts)])
        store.collection.upsert(ids=ids, documents=texts, metadatas=metas, embeddings=vectors)
        report.chunks_written += len(ids)
    _delete(store, stale, report)


def _delete(store: Store, ids: list[str], report: IngestReport) -> None:
    for start in range(0, len(ids), 5000):
        store.collection.delete(ids=ids[start:start + 5000])
    report.chunks_deleted += len(ids)


def _finish(store: Store, report: IngestReport, started: float, **counts) -> IngestReport:
    if report.changed:
        store.bump(last_ingest=datetime.now(timezone.utc).isoformat(timespec="seconds"), **counts)
    report.seconds = time.perf_counter() - started
    return report


def _guard(fn):
    """Turn unexpected store failures (disk full, read-only files, server gone) into one-line StoreErrors."""
    def wrapper(settings: Settings, *args, **kwargs):
        try:
            return fn(settings, *args, **kwargs)
        except PartnerbotError:
            raise
        except Exception as exc:
            if settings.chroma_host and (is_connection_error(exc) or is_auth_error(exc)):
                raise server_error(settings, exc) from None
            text = str(exc).lower()
            hint = ("the disk is full: free space and ingest again" if "full" in text or "no space" in text
                    or disk_full(settings)
                    else "the store is read-only: fix its permissions or choose another --store" if "readonly" in text or "read-only" in text
                    else "check the store (or server) and ingest again")
            raise StoreError(f"Ingest failed ({type(exc).__name__}): {hint}; nothing already ingested was removed.") from None
    wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
    return wrapper


def _writable_store(settings: Settings) -> Store:
    """The store to write to. In server mode another process may have dropped the collection (`ingest
    --rebuild`); then the cached handle is stale and a fresh open re-creates the collection."""
    store = open_store(settings)
    try:
        store.current()
    except StoreError:
        forget_store(settings)
        store = open_store(settings)  # re-creates a dropped collection; says so if the server is down
    return store


def corpus_files(settings: Settings) -> list[Path]:
    root = Path(settings.corpus_dir)
    if not root.is_dir():
        raise InputError(f"Corpus folder {root} not found: set PARTNERBOT_CORPUS_DIR to the project's corpus/ folder.")
    return sorted(p for p in root.rglob("*.md") if p.name.lower() != "readme.md" and not p.name.startswith("."))


@_guard
def ingest_corpus(settings: Settings, progress: Callable[[int, int], None] | None = None) -> IngestReport:
    """(Re)ingest the built-in corpus: add new notes, replace changed ones, delete removed ones."""
    started = time.perf_counter()
    root = Path(settings.corpus_dir)
    docs = []
    for path in corpus_files(settings):
        rel = path.relative_to(root).as_posix()
        loaded = load_file(path, settings.max_file_mb)
        docs.append(_Doc(f"corpus/{rel}", "corpus", loaded, _note_meta(path, rel, loaded)))
    report = IngestReport()
    store = _writable_store(settings)
    with write_lock(settings):
        store = open_store(settings)  # under the lock: opened again if another process wrote meanwhile
        existing = _existing(store, {"kind": "corpus"})
        _sync(store, docs, existing, report, progress)
        gone = [p for p in existing if p not in {d.path for d in docs}]
        for doc_path in gone:
            _delete(store, existing[doc_path]["ids"], report)
        report.removed += len(gone)
        return _finish(store, report, started, notes=len(docs))  # bumped under the lock, like every write


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED
                            and not any(part.startswith(".") for part in p.relative_to(path).parts))
        else:
            files.append(path)
    return files


@_guard
def ingest_paths(settings: Settings, paths: Iterable[Path], progress: Callable[[int, int], None] | None = None,
                 names: dict[str, str] | None = None, owner: str | None = None) -> IngestReport:
    """Add or update user documents (files or folders). Bad files are reported in `errors` and skipped.

    With an owner the documents are private to it (kind "private"): only its searches see them, and they
    expire after settings.private_ttl_hours (a re-upload starts the time again). Without one they join the
    shared store."""
    started = time.perf_counter()
    private = {"owner": owner, "expires": expiry(settings)} if owner else {}
    report = IngestReport()
    docs = []
    for path in expand_paths(paths):
        try:
            loaded = load_file(path, settings.max_file_mb)
        except InputError as exc:
            report.errors.append(str(exc))
            continue
        resolved = path.resolve()
        meta = _user_meta(path, loaded)
        if names and str(resolved) in names:  # uploads keep the user's original file name
            meta["source_title"] = names[str(resolved)]
        docs.append(_Doc(str(resolved), PRIVATE if owner else "user", loaded, {**meta, **private}))
    if not docs:
        report.seconds = time.perf_counter() - started
        return report
    store = _writable_store(settings)
    with write_lock(settings):
        store = open_store(settings)  # under the lock: opened again if another process wrote meanwhile
        existing = _existing(store, _owned({"doc_path": {"$in": [d.path for d in docs]}}, owner))
        _sync(store, docs, existing, report, progress)
        return _finish(store, report, started, documents=len(list_documents(settings)))


def _owned(where: dict, owner: str | None) -> dict:
    """Narrow a filter to one owner's private chunks, or (no owner) to the shared store."""
    mine = {"$and": [{"kind": {"$eq": PRIVATE}}, {"owner": {"$eq": owner}}]} if owner else {"kind": {"$ne": PRIVATE}}
    return {"$and": [where, mine]}


@_guard
def remove_document(settings: Settings, doc_path: str, owner: str | None = None) -> int:
    """Delete a document's chunks: one of the owner's private documents, or (no owner) a shared one. Returns
    how many chunks were deleted (0 when the owner has no such document: nobody removes another's)."""
    store = _writable_store(settings)
    with write_lock(settings):
        store = open_store(settings)  # under the lock: opened again if another process wrote meanwhile
        existing = _existing(store, _owned({"doc_path": doc_path}, owner))
        report = IngestReport()
        for entry in existing.values():
            _delete(store, entry["ids"], report)
        report.removed = len(existing)
        _finish(store, report, time.perf_counter(), documents=len(list_documents(settings)))
    return report.chunks_deleted


def list_documents(settings: Settings, kind: str = "user", owner: str | None = None) -> list[dict]:
    """Distinct documents of one kind in the store: doc_path, title, source_title, chunks (and `expires` for
    private ones). With an owner: that owner's private documents that have not expired."""
    where = private_where(owner, time.time()) if owner else {"kind": kind}
    got = open_store(settings).get_all(include=["metadatas"], where=where)
    docs: dict[str, dict] = {}
    for meta in got["metadatas"]:
        entry = docs.setdefault(meta["doc_path"], {"doc_path": meta["doc_path"], "title": meta.get("title", ""),
                                                  "source_title": meta.get("source_title", ""), "chunks": 0})
        entry["chunks"] += 1
        if "expires" in meta:
            entry["expires"] = int(meta["expires"])
    return sorted(docs.values(), key=lambda d: d["doc_path"])


def private_summary(settings: Settings) -> dict:
    """How many private documents (and owners) the store holds, for `partnerbot docs`; never whose."""
    got = open_store(settings).get_all(include=["metadatas"], where={"kind": {"$eq": PRIVATE}})
    docs = {(m.get("owner"), m["doc_path"]) for m in got["metadatas"]}
    return {"documents": len(docs), "owners": len({owner for owner, _ in docs}), "chunks": len(got["ids"])}


@_guard
def purge_expired(settings: Settings, now: float | None = None) -> IngestReport:
    """Delete private documents whose time is up (and their saved uploads). Shared chunks are never touched:
    the filter names kind "private" and an expiry in the past."""
    started = time.perf_counter()
    report = IngestReport()
    now = float(time.time() if now is None else now)
    where = {"$and": [{"kind": {"$eq": PRIVATE}}, {"expires": {"$lt": now}}]}
    if not open_store(settings).get_all(include=[], where=where)["ids"]:
        report.seconds = time.perf_counter() - started
        return report                       # the common case: nothing expired, no lock taken
    with write_lock(settings):
        store = open_store(settings)
        existing = _existing(store, where)
        for entry in existing.values():
            _delete(store, entry["ids"], report)
        report.removed = len(existing)
        uploads = Path(settings.upload_dir).resolve()
        for doc_path in existing:
            path = Path(doc_path)
            if path.parent.parent == uploads:   # saved by the page in uploads/<owner>/
                path.unlink(missing_ok=True)
                with contextlib.suppress(OSError):
                    path.parent.rmdir()         # only when that owner has nothing left
        return _finish(store, report, started)
