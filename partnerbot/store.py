"""One place that opens the Chroma collection (embedded or client/server); the embedding model is in embed.py."""

from __future__ import annotations

import contextlib
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from .embed import (  # noqa: F401  (model_dir, verify_weights, Embedder, get_embedder: re-exported)
    ChromaEmbeddingFunction, Embedder, _lock, get_embedder, model_dir, model_id, verify_weights,
)
from .client import (  # noqa: F401  (re-exported: ingest, cli and tests import them from here)
    _make_client, is_auth_error, is_connection_error, location, server_error,
)
from .errors import StoreError
from .locking import write_lock  # noqa: F401  (re-exported: ingest imports it from here)
from .settings import Settings

SCHEMA_VERSION = 1
# The HNSW graph of a new collection, used for dense search only above settings.exact_search_max. Chroma's
# default (16 links per node, ef_construction 100) leaves some nodes with no incoming link when chunks are
# near-duplicates (templated documents): no query returns them. bench/reach.py: 40 of 25,280 such chunks
# with the default, 2 with this. Fixed at creation; `partnerbot ingest --rebuild` gives an older store this.
HNSW = {"hnsw:space": "cosine", "hnsw:M": 32, "hnsw:construction_ef": 200}
# Stores from before the model was recorded were all made by MiniLM.
LEGACY_MODEL = "minilm:53aa51172d14"
_REEMBED_SUFFIX = "-reembed"


# --- chroma ---------------------------------------------------------------------------------------------

def index_text(meta: dict, text: str) -> str:
    """The text both BM25 and the dense index see for a chunk: title and section add context."""
    head = " — ".join(x for x in (meta.get("title"), meta.get("section")) if x)
    return f"{head}\n{text}" if head else text


@dataclass
class Store:
    settings: Settings
    client: object
    collection: object
    embedder: Embedder
    db_file: tuple | None = None  # embedded: (device, inode) of chroma.sqlite3 when opened; a rebuild makes a new one

    @property
    def location(self) -> str:
        return location(self.settings)

    def current(self):
        """The collection as it is now. Server mode re-reads it on every call, so other processes' ingests are
        seen and a collection re-created by `ingest --rebuild` elsewhere replaces our stale handle. Embedded
        mode uses the handle it has; open_store() replaces the whole Store when another process wrote."""
        if not self.settings.chroma_host:
            return self.collection
        from chromadb.errors import NotFoundError

        try:
            fresh = self.client.get_collection(self.settings.collection,
                                               embedding_function=ChromaEmbeddingFunction(self.embedder))
        except NotFoundError:
            raise StoreError(f"The collection is gone from the Chroma server ({self.location}): "
                             "run `partnerbot ingest` to create it again.") from None
        except Exception as exc:
            raise server_error(self.settings, exc) from None
        if fresh.id != self.collection.id:
            self.collection = fresh
        return fresh

    def get_all(self, include: list[str], where: dict | None = None, page: int = 5000) -> dict:
        """Every matching record, read in pages: one unpaged get of a large collection fails in Chroma with
        'too many SQL variables' (seen at 100k chunks)."""
        collection = self.current()
        out: dict[str, list] = {"ids": [], **{key: [] for key in include}}
        offset = 0
        while True:
            got = collection.get(where=where, include=include, limit=page, offset=offset)
            for key in out:
                out[key].extend(got[key])  # embeddings come as an array: extend, never +=
            if len(got["ids"]) < page:
                return out
            offset += page

    def changed_elsewhere(self) -> bool:
        """Embedded: another process has written to the store since this handle was opened. Chroma's segments
        in this process do not see such writes (a get() of a new chunk's vector fails with 'Error finding
        id', and a write through them would build on a stale index), so the store must be opened again.
        Server mode: always False, the server sees every write (current() re-reads the collection)."""
        if self.settings.chroma_host:
            return False
        now = _db_file(self.settings)
        if now is None:
            return False  # deleted by a rebuild still under way: keep this handle until the new file exists
        if now != self.db_file:
            return True   # another process rebuilt the store: this handle still reads the deleted file
        try:
            fresh = self.client.get_collection(self.settings.collection,
                                               embedding_function=ChromaEmbeddingFunction(self.embedder))
        except Exception:
            return True  # gone (a rebuild elsewhere) or unreadable: opening again says which, clearly
        return (fresh.id != self.collection.id
                or _generation(fresh.metadata) != _generation(self.collection.metadata))

    def generation(self) -> int:
        """Bumped by every ingest that changes the collection; retrieval rebuilds its BM25 index when it moves."""
        return _generation(self.current().metadata)

    def info(self) -> dict:
        collection = self.current()
        meta = dict(collection.metadata or {})
        try:
            chunks = collection.count()
        except Exception as exc:
            if not self.settings.chroma_host:
                raise
            raise server_error(self.settings, exc) from None
        return {"location": self.location, "chunks": chunks,
                "notes": int(meta.get("notes", 0)), "last_ingest": meta.get("last_ingest"),
                "generation": int(meta.get("generation", 0))}

    def bump(self, **extra) -> None:
        meta = dict(self.current().metadata or {})  # fresh: another process may have bumped since we opened
        meta = {k: v for k, v in meta.items() if not k.startswith("hnsw:")}
        meta["generation"] = int(meta.get("generation", 0)) + 1
        meta.update(extra)
        self.collection.modify(metadata=meta)


def _db_file(settings: Settings) -> tuple | None:
    try:
        stat = (Path(settings.store) / "chroma.sqlite3").stat()
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def _generation(metadata: dict | None) -> int:
    return int((metadata or {}).get("generation", 0))


def store_exists(settings: Settings) -> bool:
    """True when there is something to search: an embedded store folder with a Chroma database, or (server
    mode) the collection exists on the server and holds chunks, so commands auto-ingest into an empty server."""
    if not settings.chroma_host:
        return (Path(settings.store) / "chroma.sqlite3").exists()
    from chromadb.errors import NotFoundError

    try:
        return _make_client(settings).get_collection(settings.collection).count() > 0
    except NotFoundError:
        return False
    except StoreError:
        raise
    except Exception as exc:
        raise server_error(settings, exc) from None


_stores: dict[tuple, Store] = {}


def open_store(settings: Settings) -> Store:
    """Open (and cache per process) the collection for these settings, with our embedding function. An
    embedded store that another process has written to since is opened again (see Store.changed_elsewhere)."""
    key = store_key(settings)
    with _lock:
        cached = _stores.get(key)
    if cached is not None:
        if not cached.changed_elsewhere():
            return cached
        with _lock:
            if _stores.get(key) is cached:  # another thread may have re-opened it already
                del _stores[key]
                _close(settings, cached.client)
    embedder = get_embedder(settings)
    client = _make_client(settings)
    ef = ChromaEmbeddingFunction(embedder)
    try:
        _finish_reembed(settings, client, ef)
        collection = client.get_or_create_collection(
            settings.collection, embedding_function=ef,
            metadata={**HNSW, "schema": SCHEMA_VERSION, "generation": 0, "embed_model": model_id(settings)})
        schema = int((collection.metadata or {}).get("schema", 0))
        if schema != SCHEMA_VERSION:
            raise StoreError(f"The store at {location(settings)} was made by another partnerbot version "
                             f"(schema {schema}, need {SCHEMA_VERSION}): run `partnerbot ingest --rebuild`.")
        collection.count()  # a first read applies Chroma's write log; fails here (clearly) on a full disk
        if (collection.metadata or {}).get("embed_model", LEGACY_MODEL) != model_id(settings):
            collection = _reembed(settings, client, collection, ef)
    except Exception as exc:
        _close(settings, client)
        if isinstance(exc, StoreError):
            raise
        if settings.chroma_host and (is_connection_error(exc) or is_auth_error(exc)):
            raise server_error(settings, exc) from None
        if disk_full(settings):
            raise StoreError(f"The disk holding the store {location(settings)} is full: free some space, "
                             "then try again (nothing was deleted).") from None
        raise StoreError(f"Cannot open collection '{settings.collection}' at {location(settings)} "
                         f"({type(exc).__name__}): check the server / folder, or rebuild with `partnerbot ingest --rebuild`.") from None
    store = Store(settings, client, collection, embedder, None if settings.chroma_host else _db_file(settings))
    with _lock:
        _stores[key] = store
    return store


def _reembed(settings: Settings, client, collection, ef):
    """The store's vectors were made by another model: embed every chunk again with this one, into a new
    collection that replaces the old one (vectors of two models are never mixed; their sizes differ too).
    Said on one line. A crash part-way leaves the old collection in place (or the finished copy, which
    _finish_reembed renames), so the next open simply does it again."""
    with write_lock(settings):
        collection = client.get_collection(settings.collection, embedding_function=ef)
        old = dict(collection.metadata or {})
        recorded, wanted = old.get("embed_model", LEGACY_MODEL), model_id(settings)
        if recorded == wanted:
            return collection  # another process did it while we waited for the lock
        got = {"ids": [], "documents": [], "metadatas": []}
        for offset in range(0, collection.count(), 5000):
            page = collection.get(include=["documents", "metadatas"], limit=5000, offset=offset)
            for key in got:
                got[key].extend(page[key])
        print(f"partnerbot: the store at {location(settings)} was embedded with {recorded}; re-embedding its "
              f"{len(got['ids'])} chunks with {wanted} (once).", file=sys.stderr)
        copy_name = settings.collection + _REEMBED_SUFFIX
        with contextlib.suppress(Exception):
            client.delete_collection(copy_name)  # a copy left by an interrupted run
        meta = {k: v for k, v in old.items() if not k.startswith("hnsw:")}
        meta.update(HNSW, embed_model=wanted, generation=int(old.get("generation", 0)) + 1)
        copy = client.create_collection(copy_name, embedding_function=ef, metadata=meta)
        for start in range(0, len(got["ids"]), 128):
            ids, docs, metas = (got[k][start:start + 128] for k in ("ids", "documents", "metadatas"))
            vectors = ef([index_text(m, t) for m, t in zip(metas, docs)])
            copy.add(ids=ids, documents=docs, metadatas=metas, embeddings=vectors)
        client.delete_collection(settings.collection)
        copy.modify(name=settings.collection)
        return client.get_collection(settings.collection, embedding_function=ef)


def _finish_reembed(settings: Settings, client, ef) -> None:
    """After a crash between deleting the old collection and renaming the re-embedded copy: rename it."""
    from chromadb.errors import NotFoundError

    try:
        client.get_collection(settings.collection, embedding_function=ef)
        return
    except NotFoundError:
        pass
    with contextlib.suppress(NotFoundError):
        client.get_collection(settings.collection + _REEMBED_SUFFIX, embedding_function=ef).modify(
            name=settings.collection)


_FULL_BYTES = 16 << 20  # less free space than this after a failed write: call it a full disk


def disk_full(settings: Settings) -> bool:
    """Chroma reports a full disk as an opaque InternalError, so look at the store folder's free space."""
    if settings.chroma_host:
        return False
    try:
        return shutil.disk_usage(settings.store).free < _FULL_BYTES
    except OSError:
        return False


def store_key(settings: Settings) -> tuple:
    """What identifies one store: its folder, or its server and collection."""
    return (str(Path(settings.store).resolve()), settings.chroma_host, settings.chroma_port, settings.collection)


def _close(settings: Settings, client) -> None:
    """Embedded: release Chroma's per-folder system, so a deleted and re-created folder is opened afresh
    (otherwise Chroma keeps serving the deleted database). Server clients are shared and stay open."""
    if not settings.chroma_host:
        client.close()


def forget_store(settings: Settings) -> None:
    """Drop the cached handle (after a rebuild, or when a server went away)."""
    with _lock:
        store = _stores.pop(store_key(settings), None)
    if store is not None:
        _close(settings, store.client)


def drop_collection(settings: Settings) -> None:
    """Server mode: delete the collection (for `ingest --rebuild`) without opening it, so a collection made by
    another partnerbot version can still be dropped. Missing is fine."""
    from chromadb.errors import NotFoundError

    try:
        _make_client(settings).delete_collection(settings.collection)
    except NotFoundError:
        pass
    except Exception as exc:
        raise server_error(settings, exc) from None
    forget_store(settings)
