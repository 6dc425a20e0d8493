"""Ingest: idempotency (unchanged / changed / removed notes), user documents, loaders and their errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest import ingest_corpus, ingest_paths, list_documents, remove_document
from ingest.loaders import load_file
from partnerbot.errors import InputError, ModelError
from partnerbot.settings import PROJECT_ROOT, get_settings
from partnerbot.store import open_store, verify_weights


def _count(cfg) -> int:
    return open_store(cfg).collection.count()


def _chunks_by_doc(cfg) -> dict[str, set[str]]:
    got = open_store(cfg).collection.get(include=["metadatas"])
    out: dict[str, set[str]] = {}
    for cid, meta in zip(got["ids"], got["metadatas"]):
        out.setdefault(meta["doc_path"], set()).add(cid)
    return out


def test_corpus_reingest_is_idempotent_and_tracks_changes(tmp_path, corpus_copy):
    cfg = get_settings(store=tmp_path / "store", corpus_dir=corpus_copy)
    first = ingest_corpus(cfg)
    notes = len([p for p in corpus_copy.rglob("*.md") if p.name != "README.md"])
    assert first.added == notes and first.chunks_written == _count(cfg) > notes
    before = _chunks_by_doc(cfg)

    again = ingest_corpus(cfg)
    assert (again.added, again.replaced, again.removed, again.chunks_written) == (0, 0, 0, 0)
    assert again.unchanged == notes and _chunks_by_doc(cfg) == before

    # A changed note replaces its own chunks and nothing else.
    note = corpus_copy / "glick" / "partners.md"
    note.write_text(note.read_text() + "\n## An added section\n\nGlick's partners need regular joint reviews of shared goals.\n")
    changed = ingest_corpus(cfg)
    assert (changed.added, changed.replaced, changed.removed) == (0, 1, 0)
    after = _chunks_by_doc(cfg)
    assert after["corpus/glick/partners.md"].isdisjoint(before["corpus/glick/partners.md"])
    assert {k: v for k, v in after.items() if k != "corpus/glick/partners.md"} == \
           {k: v for k, v in before.items() if k != "corpus/glick/partners.md"}
    assert len(after["corpus/glick/partners.md"]) == len(before["corpus/glick/partners.md"]) + 1

    # A removed note disappears from the store (and from search).
    (corpus_copy / "glick" / "reader-comment.md").unlink()
    removed = ingest_corpus(cfg)
    assert removed.removed == 1 and "corpus/glick/reader-comment.md" not in _chunks_by_doc(cfg)
    from partnerbot.retrieval import get_retriever
    hits = get_retriever(cfg).search("Marius reader comment Larry Galler Collins dictionary", 10).passages
    assert all(p.doc_path != "corpus/glick/reader-comment.md" for p in hits)


def test_corpus_note_with_missing_front_matter_is_named(tmp_path, corpus_copy):
    (corpus_copy / "glick" / "broken.md").write_text("---\ntitle: x\n---\n# x\n\nsome text here\n")
    cfg = get_settings(store=tmp_path / "store", corpus_dir=corpus_copy)
    with pytest.raises(InputError, match=r"glick/broken.md.*source_title"):
        ingest_corpus(cfg)


def test_user_documents_add_update_remove(fresh_settings, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "memo.md").write_text("# Vendor memo\n\n## Escrow\n\nThe vendor keeps the escrow key for the Zylophant project.\n")
    (docs / "notes.txt").write_text("Quarterly review with the supplier about the Zylophant roadmap and penalties.\n")
    (docs / "page.html").write_text("<html><script>alert('x')</script><body><p>Zylophant kickoff agenda</p></body></html>")
    (docs / "ignored.bin").write_bytes(b"\x00\x01")  # not a supported type: folders skip it silently
    report = ingest_paths(fresh_settings, [docs])
    assert (report.added, report.errors) == (3, [])
    listed = {Path(d["doc_path"]).name for d in list_documents(fresh_settings)}
    assert listed == {"memo.md", "notes.txt", "page.html"}
    stored = open_store(fresh_settings).collection.get(include=["documents"])["documents"]
    assert not any("alert(" in text for text in stored)

    assert ingest_paths(fresh_settings, [docs]).unchanged == 3
    (docs / "notes.txt").write_text("Quarterly review moved to the Zylophant steering board.\n")
    assert ingest_paths(fresh_settings, [docs]).replaced == 1

    deleted = remove_document(fresh_settings, str((docs / "memo.md").resolve()))
    assert deleted >= 1
    assert {Path(d["doc_path"]).name for d in list_documents(fresh_settings)} == {"notes.txt", "page.html"}


def test_bad_files_are_reported_not_fatal(fresh_settings, tmp_path):
    good = tmp_path / "good.md"
    good.write_text("# Good\n\nThe contractor delivers the Quokka milestones.\n")
    empty = tmp_path / "empty.txt"
    empty.write_text("   \n")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\x00\x01\x02binary\x00" * 100)
    odd = tmp_path / "table.xyz"
    odd.write_text("x")
    report = ingest_paths(fresh_settings, [good, empty, binary, odd])
    assert report.added == 1 and len(report.errors) == 3
    joined = "\n".join(report.errors)
    assert "empty.txt has no text" in joined and "binary.txt looks binary" in joined and "Unsupported file type '.xyz'" in joined


@pytest.mark.parametrize("name,content,expected", [
    ("latin.txt", "Opdrachtgever en leverancier: caf\xe9 overleg".encode("cp1252"), "café"),
    ("utf16.txt", "Klant en leverancier".encode("utf-16"), "Klant en leverancier"),
    ("front.md", b"---\ntitle: Memo\n---\n# Memo\n\nBody text", "Body text"),
])
def test_loaders_decode_text(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_bytes(content)
    assert expected in load_file(path).text


def test_corrupt_pdf_is_a_clear_error(tmp_path):
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.4\nthis is not really a pdf")
    with pytest.raises(InputError, match="not a readable PDF"):
        load_file(path)


def test_weights_hash_mismatch_refuses(tmp_path):
    cfg = get_settings(store=tmp_path / "s", embed_model="minilm", embed_sha256="0" * 64)
    with pytest.raises(ModelError, match="hash mismatch.*reinstall"):
        verify_weights(cfg)
    assert verify_weights(get_settings(store=tmp_path / "s", embed_model="minilm")).name == "model"


def test_store_dir_not_writable_is_a_clear_error(tmp_path):
    from partnerbot.errors import StoreError
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cfg = get_settings(store=blocker / "store")
    with pytest.raises(StoreError, match="--store"):
        open_store(cfg)


def test_corpus_front_matter_is_complete():
    from ingest.loaders import VOICES, split_front_matter
    for path in sorted((PROJECT_ROOT / "corpus").rglob("*.md")):
        if path.name == "README.md":
            continue
        meta, body = split_front_matter(path.read_text(), path)
        for key in ("title", "source_title", "author", "voice", "language"):
            assert meta.get(key), f"{path} lacks {key}"
        assert meta["voice"] in VOICES, path
        if meta["voice"] in ("chatgpt", "bing", "reader"):
            assert meta.get("caveat"), f"{path}: quoted AI answers and reader comments must carry a caveat"
        assert "## " in body, f"{path} has no sections"
