"""The ONNX Runtime embedding path gives sentence-transformers' vectors, is exported once, and falls back."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from partnerbot.settings import PROJECT_ROOT, get_settings
from partnerbot.store import Embedder, verify_weights

TEXTS = [
    "Can a contractor be a strategic partner?",
    "Wie heeft de eindverantwoordelijkheid, de opdrachtgever of de opdrachtnemer?",
    "SLA",
    "Partners 🤝 share risks — and rewards; clients (not customers) want customisation.",
    # longer than the model's 256-token window: both paths must truncate the same way
    " ".join(f"Clause {i}: the supplier delivers, the client accepts, the partner co-invests." for i in range(60)),
]


@pytest.fixture(scope="module")
def both(corpus_settings):
    folder = verify_weights(corpus_settings)
    onnx = Embedder(folder, "onnx", corpus_settings.cache_dir, corpus_settings.embed_sha256)
    torch = Embedder(folder, "torch")
    assert onnx.backend == "onnx" and torch.backend == "torch", onnx.notice
    return onnx, torch


def test_onnx_vectors_match_sentence_transformers(both, corpus_settings):
    from partnerbot.store import open_store

    corpus = open_store(corpus_settings).collection.get(limit=40, include=["documents"])["documents"]
    texts = TEXTS + corpus
    onnx, torch = (np.asarray(e.embed(texts)) for e in both)
    assert onnx.shape == torch.shape == (len(texts), 384)
    assert np.allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-5)
    cosines = (onnx * torch).sum(axis=1)
    assert cosines.min() > 0.9999, dict(zip(texts, cosines.round(6)))
    # order and batching do not change a text's vector
    alone = np.asarray(both[0].embed_one(texts[3]))
    assert float(alone @ onnx[3]) > 0.99999


def test_the_export_is_made_once_and_later_processes_never_import_torch(corpus_settings, tmp_path):
    from partnerbot.ort import onnx_file

    target = onnx_file(corpus_settings.cache_dir, corpus_settings.embed_sha256)
    assert target.is_file()  # made by the session's first embedding
    before = target.stat().st_mtime_ns
    probe = ("import sys, json; from partnerbot.settings import get_settings; from partnerbot.store import get_embedder;"
             "e = get_embedder(get_settings()); v = e.embed_one('Who holds the veto?');"
             "print(json.dumps([e.backend, len(v), 'torch' in sys.modules, 'sentence_transformers' in sys.modules]))")
    env = {**os.environ, "PARTNERBOT_CACHE_DIR": str(corpus_settings.cache_dir)}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=300,
                         cwd=PROJECT_ROOT)
    assert out.returncode == 0, out.stderr[-800:]
    assert json.loads(out.stdout) == ["onnx", 384, False, False]
    assert target.stat().st_mtime_ns == before


@pytest.mark.slow
def test_a_damaged_export_is_made_again(corpus_settings, tmp_path):
    from partnerbot.ort import onnx_file

    cache = tmp_path / "cache"
    damaged = onnx_file(cache, corpus_settings.embed_sha256)
    damaged.parent.mkdir(parents=True)
    damaged.write_bytes(b"not an onnx model")
    embedder = Embedder(verify_weights(corpus_settings), "onnx", cache, corpus_settings.embed_sha256)
    assert embedder.backend == "onnx" and not embedder.notice
    assert damaged.stat().st_size > 10_000_000  # the real export replaced the junk
    assert len(embedder.embed_one("Who is accountable?")) == 384
    # a bit flipped inside a good export: its recorded sha256 no longer matches, so it is exported again
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    again = Embedder(verify_weights(corpus_settings), "onnx", cache, corpus_settings.embed_sha256)
    assert again.backend == "onnx" and damaged.read_bytes() != bytes(data)
    assert np.allclose(again.embed_one("Who is accountable?"), embedder.embed_one("Who is accountable?"), atol=1e-5)


def test_an_unusable_cache_falls_back_to_torch_with_a_notice(corpus_settings, tmp_path, capsys):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder should be")
    embedder = Embedder(verify_weights(corpus_settings), "onnx", blocked, corpus_settings.embed_sha256)
    assert embedder.backend == "torch"
    assert "PARTNERBOT_EMBED_BACKEND=torch" in embedder.notice
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("warning: ONNX embedding unavailable")
    assert len(embedder.embed_one("Who is accountable?")) == 384


def test_backend_setting_names_its_choices():
    from partnerbot.errors import ConfigError

    with pytest.raises((ConfigError, ValueError)) as info:
        get_settings(embed_backend="tensorflow")
    assert "onnx" in str(info.value) and "torch" in str(info.value)
