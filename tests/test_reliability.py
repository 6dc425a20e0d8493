"""Reliability matrix: bad questions, bad files, crashes, full and read-only disks, concurrent ingests, old stores,
and eight users at once. Each case ends in a correct answer or one clear line, never a traceback, and nothing
already ingested is lost. docs/reliability.md records the matrix and the results.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ingest import ingest_corpus, ingest_paths
from partnerbot.errors import InputError, PartnerbotError, StoreError
from partnerbot.settings import PROJECT_ROOT, get_settings
from partnerbot.store import SCHEMA_VERSION, forget_store, open_store

PARTNERBOT = PROJECT_ROOT / ".venv" / "bin" / "partnerbot"
CLI_TIMEOUT = 300
WORDS = ("client contractor supplier partner strategic escrow roadmap penalty review steering quarterly governance "
         "veto trust risk reward invoice delivery milestone").split()


# --- helpers --------------------------------------------------------------------------------------------

def run_cli(*args: str, store: Path, env: dict | None = None, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """The real entry point in its own process (what a user runs); `prefix` wraps it (e.g. setpriv)."""
    return subprocess.run([*prefix, str(PARTNERBOT), "--store", str(store), *args], capture_output=True, text=True,
                          timeout=CLI_TIMEOUT, env={**os.environ, **(env or {})})


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    return lines[0]


def make_docs(folder: Path, n_docs: int, sections: int, prefix: str = "doc", seed: int = 1) -> Path:
    """Generated markdown documents; every section (~700 characters: one chunk) ends in a unique marker word."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n_docs):
        body = "\n\n".join(f"## Section {j}\n\n" + " ".join(rng.choice(WORDS) for _ in range(80)) +
                           f" {prefix}{i}marker{j}." for j in range(sections))
        (folder / f"{prefix}{i:02d}.md").write_text(f"# {prefix} {i}\n\n{body}\n")
    return folder


def seed_store(cfg, tmp_path: Path) -> dict[str, str]:
    """A store holding one small document; returns its chunk ids -> texts (to prove nothing is lost later)."""
    seed = tmp_path / "seed.md"
    seed.write_text("# Seed memo\n\nThe Kallimop supplier keeps the escrow key and reports to the client's board.\n")
    assert ingest_paths(cfg, [seed]).added == 1
    got = open_store(cfg).collection.get(include=["documents"])
    forget_store(cfg)  # release our handle: other processes write next
    return dict(zip(got["ids"], got["documents"]))


def sqlite_rows(store: Path) -> int:
    """Chunks in the store, read without Chroma (safe while another process writes)."""
    with sqlite3.connect(f"file:{store}/chroma.sqlite3?mode=ro", uri=True, timeout=10) as db:
        return db.execute("select count(*) from embeddings").fetchone()[0]


def assert_consistent(cfg, expected_docs: dict[str, int] | None = None, complete: bool = True) -> int:
    """No chunk twice, BM25 and Chroma hold the same ids, dense search finds every chunk by its vector; with
    `complete`, every document has all its chunks. expected_docs: doc_path -> chunk count. Returns the count."""
    from partnerbot.retrieval import get_retriever

    forget_store(cfg)
    store = open_store(cfg)
    got = store.collection.get(include=["metadatas", "embeddings"])
    keys = Counter((m["doc_path"], m["chunk_index"]) for m in got["metadatas"])
    assert [k for k, n in keys.items() if n > 1] == [], "duplicate chunks"
    per_doc = Counter(m["doc_path"] for m in got["metadatas"])
    for meta in got["metadatas"] if complete else ():
        assert per_doc[meta["doc_path"]] == meta["n_chunks"], f"{meta['doc_path']} is incomplete"
    if expected_docs is not None:
        assert {k: v for k, v in per_doc.items() if k in expected_docs} == expected_docs
    retriever = get_retriever(cfg)
    retriever.refresh(force=True)
    assert retriever.size == store.collection.count() == len(got["ids"])
    assert set(retriever.ids) == set(got["ids"])
    for chunk_id, vector in zip(got["ids"], got["embeddings"]):
        [(row, similarity)] = retriever.nearest(vector, 1)
        assert retriever.ids[row] == chunk_id and similarity > 0.999, f"{chunk_id} is not found by dense search"
    return len(got["ids"])


def doc_counts(folder: Path, sections: int) -> dict[str, int]:
    return {str(p.resolve()): sections for p in folder.glob("*.md")}


# --- bad questions --------------------------------------------------------------------------------------

QUESTIONS = {
    # name: (question, expected verdict, or "error" for a one-line InputError, or None for answer-or-refusal)
    "empty": ("", "error"),
    "whitespace": ("  \n\t  ", "error"),
    "only control characters": ("\x00\x01\x02\x1b", "error"),
    "100k characters": ("Who is accountable for the contract? " * 2703, "error"),
    "control characters inside": ("Who holds the A in RASCI,\x00 the client\x07 or the \x1b[31mcontractor\x1b[0m?",
                                  "client"),
    "zero-width and RTL marks": ("Who\u200b holds the A\u202e in RASCI, the client or the contractor?", "client"),
    "emoji inside": ("Can a contractor 🤝 be a strategic partner? 🚀", "yes-with-nuance"),
    "emoji only": ("🤝🤝🤝", None),
    "Chinese": ("承包商可以成为战略合作伙伴吗？", None),
    "Arabic": ("من يتحمل المسؤولية النهائية، العميل أم المقاول؟", None),
    "Russian": ("Может ли подрядчик быть стратегическим партнёром?", None),
    "Greek": ("Ποιος έχει την τελική ευθύνη;", None),
    "lone surrogate": ("Who is accountable \ud800 here?", None),
    "SQL and format strings": ("'; DROP TABLE embeddings; -- {passages} %s %(x)s ${HOME}", None),
    "HTML in the question": ("<script>alert(1)</script> Who holds the final say, the client or the contractor?", "client"),
}


@pytest.mark.parametrize("name", list(QUESTIONS))
def test_odd_questions_get_an_answer_or_one_clear_line(rules, corpus_settings, name):
    question, expected = QUESTIONS[name]
    before = open_store(corpus_settings).collection.count()
    if expected == "error":
        with pytest.raises(InputError) as info:
            rules.answer(question)
        assert "\n" not in str(info.value) and len(str(info.value)) < 300
    else:
        result = rules.answer(question)
        assert result.text.strip()
        assert result.refused or result.citations, "an answer must cite or refuse"
        if expected:
            assert result.verdict == expected, result.text
        json.dumps(result.to_dict(question))  # the JSON surfaces can print it
    assert open_store(corpus_settings).collection.count() == before


@pytest.mark.slow
def test_odd_questions_through_the_real_cli_never_print_a_traceback(corpus_settings):
    store = corpus_settings.store
    assert "question is empty" in one_line_error(run_cli("ask", "   ", store=store))
    assert "characters long" in one_line_error(run_cli("ask", QUESTIONS["100k characters"][0], store=store))
    for name in ("emoji only", "Arabic", "control characters inside"):
        question = QUESTIONS[name][0].replace("\x00", "")  # argv cannot carry NUL
        proc = run_cli("ask", question, "--json", store=store)
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
        assert json.loads(proc.stdout)["answer"]


# --- bad files ------------------------------------------------------------------------------------------

def _bad_files(folder: Path) -> dict[str, str]:
    """Write the bad files; returns file name -> the words its one-line error must contain."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 64)
    (folder / "empty.md").write_bytes(b"")
    (folder / "headings-only.md").write_text("# Title\n\n## Nothing under it\n")
    (folder / "corrupt.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\n%%EOF garbage" + os.urandom(512))
    (folder / "random.pdf").write_bytes(os.urandom(4096))
    (folder / "undecodable.txt").write_bytes(b"caf\xe9 \x81\x8d\x8f\x90\x9d not cp1252 either")
    (folder / "utf16-no-bom.txt").write_bytes("Client and supplier".encode("utf-16-le"))
    (folder / "bad-front-matter.md").write_text("---\ntitle: [unclosed\n---\n# Memo\n\nBody.\n")
    with open(folder / "huge.txt", "wb") as fh:  # 50 MB, sparse: the size check must refuse it before reading
        fh.truncate(50 * 1024 * 1024)
    return {"binary.txt": "looks binary", "empty.md": "has no text", "headings-only.md": "no text to ingest",
            "corrupt.pdf": "not a readable PDF", "random.pdf": "not a readable PDF",
            "undecodable.txt": "not valid UTF-8 or Windows-1252", "utf16-no-bom.txt": "looks binary",
            "bad-front-matter.md": "invalid YAML front matter", "huge.txt": "over the 20 MB limit"}


def _good_files(folder: Path) -> dict[str, str]:
    """Write files that must ingest; returns file name -> text the stored chunks must contain."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "windows.txt").write_bytes("Caf\u00e9 overleg \u2013 the \u2018client\u2019 pays \u20ac 40".encode("cp1252"))
    (folder / "utf16.txt").write_bytes("Opdrachtgever \u00e9n leverancier \u2013 Zweeloo".encode("utf-16"))
    (folder / "page.html").write_text(
        "<html><head><style>.x{color:red} body{secret-style}</style><script>stealCookies('script-secret')</script>"
        "</head><body><h1>Kickoff</h1><p onclick=\"evil()\">The Brimsby contractor delivers phase one.</p>"
        "<noscript>noscript-secret</noscript><iframe src='https://example.invalid'>iframe-secret</iframe>"
        "<template>template-secret</template></body></html>")
    return {"windows.txt": "Caf\u00e9 overleg \u2013 the \u2018client\u2019 pays \u20ac 40",
            "utf16.txt": "Opdrachtgever \u00e9n leverancier \u2013 Zweeloo",
            "page.html": "The Brimsby contractor delivers phase one."}


def test_bad_files_are_refused_one_line_each_and_nothing_is_lost(fresh_settings, tmp_path):
    seeded = seed_store(fresh_settings, tmp_path)
    expected_errors = _bad_files(tmp_path / "bad")
    expected_text = _good_files(tmp_path / "good")
    report = ingest_paths(fresh_settings, [tmp_path / "bad", tmp_path / "good"])

    assert report.added == len(expected_text)
    assert len(report.errors) == len(expected_errors)
    for name, words in expected_errors.items():
        line = next((e for e in report.errors if e.startswith(name)), None)
        assert line and words in line and "\n" not in line, (name, report.errors)

    got = open_store(fresh_settings).collection.get(include=["documents", "metadatas"])
    stored = dict(zip(got["ids"], got["documents"]))
    assert all(stored.get(cid) == text for cid, text in seeded.items()), "a seeded chunk changed or vanished"
    by_name: dict[str, str] = {}
    for text, meta in zip(got["documents"], got["metadatas"]):
        by_name[Path(meta["doc_path"]).name] = by_name.get(Path(meta["doc_path"]).name, "") + text
    for name, text in expected_text.items():
        assert text in by_name[name], name
    html = by_name["page.html"]
    assert not any(secret in html for secret in ("secret", "stealCookies", "evil()", "color:red", "<", ">"))


@pytest.mark.skipif(os.geteuid() == 0, reason="running as root: chmod 000 does not stop root from reading "
                    "(test_unreadable_file_is_a_clear_error_for_root covers it)")
def test_unreadable_file_is_a_clear_error(fresh_settings, tmp_path):
    path = tmp_path / "locked.md"
    path.write_text("# Locked\n\nSecret text.\n")
    path.chmod(0)
    try:
        report = ingest_paths(fresh_settings, [path])
    finally:
        path.chmod(0o644)
    assert report.added == 0 and "permission denied" in report.errors[0]


def as_ordinary_user() -> tuple[str, ...]:
    """A command prefix under which mode-000 files are unreadable. Root reads them through CAP_DAC_OVERRIDE /
    CAP_DAC_READ_SEARCH, so as root the command runs without those two capabilities (still root otherwise)."""
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if not setpriv:
        pytest.skip("running as root without setpriv (util-linux): cannot make a file unreadable")
    return setpriv, "--bounding-set=-dac_override,-dac_read_search", "--"


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="not root: test_unreadable_file_is_a_clear_error covers it")
def test_unreadable_file_is_a_clear_error_for_root(fresh_settings, tmp_path):
    """The real CLI, without root's read-anything capabilities, ingests a folder holding an unreadable and a
    readable file into a store that already holds a document."""
    seeded = seed_store(fresh_settings, tmp_path)
    folder = tmp_path / "in"
    folder.mkdir()
    locked, fine = folder / "locked.md", folder / "fine.md"
    locked.write_text("# Locked\n\nThe Varnholt client keeps the veto.\n")
    fine.write_text("# Fine\n\nThe Ostrava partner shares the risk register.\n")
    locked.chmod(0)
    try:
        proc = run_cli("ingest", str(folder), store=fresh_settings.store, prefix=as_ordinary_user())
    finally:
        locked.chmod(0o644)
    if proc.stderr.startswith("setpriv:"):
        pytest.skip(f"cannot drop capabilities here: {proc.stderr.strip()[:120]}")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.splitlines() == [f"skipped: Cannot read {locked}: permission denied. Fix its permissions."]
    assert "1 added" in proc.stdout
    stored = open_store(fresh_settings).collection.get(include=["documents"])
    texts = dict(zip(stored["ids"], stored["documents"]))
    assert all(texts.get(cid) == text for cid, text in seeded.items()) and len(texts) == len(seeded) + 1
    assert not any("Varnholt" in text for text in texts.values())


@pytest.mark.slow
@pytest.mark.parametrize("case", ["missing question", "-k not a number", "unreadable file named directly"])
def test_cli_usage_errors_are_one_line(tmp_path, case):
    prefix: tuple[str, ...] = ()
    if case == "missing question":
        args = ["ask"]
    elif case == "-k not a number":
        args = ["search", "Who holds the veto?", "-k", "many"]
    else:
        locked = tmp_path / "locked.md"
        locked.write_text("# Locked\n\nText.\n")
        locked.chmod(0)
        prefix, args = as_ordinary_user(), ["ingest", str(locked)]
    proc = run_cli(*args, store=tmp_path / "store", prefix=prefix)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith("error: ")


@pytest.mark.slow
def test_bad_files_through_the_real_cli(fresh_settings, tmp_path):
    seeded = seed_store(fresh_settings, tmp_path)
    expected = _bad_files(tmp_path / "bad")
    (tmp_path / "bad" / "fine.md").write_text("# Fine\n\nThe Ostrava partner shares the risk register.\n")
    proc = run_cli("ingest", str(tmp_path / "bad"), store=fresh_settings.store)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    skipped = [line for line in proc.stderr.splitlines() if line.startswith("skipped: ")]
    assert len(skipped) == len(expected) == len(proc.stderr.strip().splitlines())
    assert "1 added" in proc.stdout
    stored = open_store(fresh_settings).collection.get()["ids"]
    assert set(seeded) <= set(stored) and len(stored) == len(seeded) + 1


@pytest.mark.slow
def test_question_files_that_are_broken_give_one_line_through_the_real_cli(corpus_settings, tmp_path):
    batch = pytest.importorskip("partnerbot.batch", reason="partnerbot.batch (batch engineer) not there yet")
    if not hasattr(batch, "read_questions"):
        pytest.skip("partnerbot.batch.read_questions is not there yet (the batch engineer is building it)")
    no_column = tmp_path / "q.csv"
    no_column.write_text("nr,text\n1,Who is accountable?\n")
    not_a_workbook = tmp_path / "q.xlsx"
    not_a_workbook.write_bytes(b"PK\x03\x04 this is a zip header and nothing else")
    for path, words in ((no_column, "no 'question' column"), (not_a_workbook, "not a readable Excel workbook")):
        with pytest.raises(InputError, match=words):
            batch.read_questions(path)
        proc = run_cli("batch", str(path), "-o", str(tmp_path / "out.jsonl"), store=corpus_settings.store)
        assert words in one_line_error(proc)
        assert not (tmp_path / "out.jsonl").exists()


# --- faults ---------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_kill_9_during_ingest_then_ingest_again_leaves_a_consistent_store(fresh_settings, tmp_path):
    seeded = seed_store(fresh_settings, tmp_path)
    docs = make_docs(tmp_path / "docs", n_docs=20, sections=12)  # 240 chunks: two write batches
    store = Path(fresh_settings.store)
    base = sqlite_rows(store)
    proc = subprocess.Popen([str(PARTNERBOT), "--store", str(store), "ingest", str(docs)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + CLI_TIMEOUT
        while sqlite_rows(store) == base and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "ingest finished before it could be killed"
    written = sqlite_rows(store) - base
    total = 20 * 12
    assert 0 < written < total, f"expected a partial write, got {written} of {total} chunks"

    # A torn ingest leaves a smaller store that is consistent in itself (one document may be partial).
    assert assert_consistent(fresh_settings, complete=False) == len(seeded) + written
    report = ingest_paths(fresh_settings, [docs])
    assert report.added + report.replaced + report.unchanged == 20 and report.unchanged < 20
    assert assert_consistent(fresh_settings, doc_counts(docs, 12)) == len(seeded) + total
    assert ingest_paths(fresh_settings, [docs]).unchanged == 20
    stored = open_store(fresh_settings).collection.get()["ids"]
    assert set(seeded) <= set(stored)


@pytest.mark.slow
def test_two_ingests_at_once_do_not_corrupt_the_store(fresh_settings, tmp_path):
    seeded = seed_store(fresh_settings, tmp_path)
    first = make_docs(tmp_path / "first", n_docs=5, sections=8, prefix="alpha", seed=2)
    second = make_docs(tmp_path / "second", n_docs=5, sections=8, prefix="beta", seed=3)
    procs = [subprocess.Popen([str(PARTNERBOT), "--store", str(fresh_settings.store), "ingest", str(folder)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for folder in (first, second)]
    for proc in procs:
        out, err = proc.communicate(timeout=CLI_TIMEOUT)
        assert proc.returncode == 0 and "5 added" in out and "Traceback" not in err, err
    expected = {**doc_counts(first, 8), **doc_counts(second, 8)}
    assert assert_consistent(fresh_settings, expected) == len(seeded) + 80
    from partnerbot.retrieval import get_retriever
    hits = get_retriever(fresh_settings).search("alpha3marker5", 3).passages  # BM25 rank 1: at worst tied first
    assert any(p.doc_path.endswith("alpha03.md") and "alpha3marker5" in p.text for p in hits)


@pytest.mark.slow
def test_a_running_process_sees_and_builds_on_what_other_processes_ingest(fresh_settings, tmp_path):
    """A page (one long-lived process, embedded store) while a lecturer uses the CLI in another terminal: the
    CLI's ingest, removal and rebuild are seen at the next question, and the page's own upload afterwards
    builds on them instead of on its stale view."""
    from partnerbot.retrieval import get_retriever

    seeded = seed_store(fresh_settings, tmp_path)
    store = Path(fresh_settings.store)
    retriever = get_retriever(fresh_settings)
    question = "Who chairs the Quindle steering board?"
    assert all("Quindle" not in p.text for p in retriever.search(question, 3).passages)

    cli_doc = tmp_path / "quindle.md"
    cli_doc.write_text("# Quindle\n\nThe Quindle contractor chairs the steering board and holds the veto.\n")
    proc = run_cli("ingest", str(cli_doc), store=store)
    assert proc.returncode == 0 and "1 added" in proc.stdout, proc.stderr
    top = retriever.search(question, 3).passages[0]                  # the same retriever, no restart
    assert "Quindle contractor chairs" in top.text and top.similarity > 0.3  # found by BM25 and dense search

    page_doc = tmp_path / "ostrava.md"                                 # an upload in the page process
    page_doc.write_text("# Ostrava\n\nThe Ostrava supplier reports to the client's quarterly review.\n")
    assert ingest_paths(fresh_settings, [page_doc]).added == 1
    assert assert_consistent(fresh_settings, {str(cli_doc.resolve()): 1, str(page_doc.resolve()): 1}) == len(seeded) + 2

    proc = run_cli("ingest", "--remove", str(cli_doc), store=store)
    assert proc.returncode == 0, proc.stderr
    assert all("Quindle" not in p.text for p in retriever.search(question, 3).passages)

    proc = run_cli("ingest", "--rebuild", store=store)                # the folder is deleted and made again
    assert proc.returncode == 0, proc.stderr
    passages = retriever.search("Can a contractor be a strategic partner?", 5).passages
    assert passages and all(p.doc_path.startswith("corpus/") for p in passages)
    assert retriever.size == open_store(fresh_settings).collection.count() > len(seeded)


def _mount(*args: str) -> None:
    proc = subprocess.run(["mount", *args], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount here ({proc.stderr.strip()[:120]}): the disk-full / read-only cases need root "
                    "and mount rights; see docs/reliability.md")


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True)


@pytest.mark.slow
def test_a_full_disk_is_a_clear_error_and_nothing_is_lost(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    _mount("-t", "tmpfs", "-o", "size=3m", "tmpfs", str(disk))
    cfg = get_settings(store=disk / "store", chunk_size=12000)  # one ~10 kB paragraph per chunk
    try:
        seeded = seed_store(cfg, tmp_path)
        big = tmp_path / "big"
        big.mkdir()
        rng = random.Random(4)
        for i in range(4):  # ~1.6 MB of text in 160 large chunks, plus its indexes: more than the disk holds
            (big / f"big{i}.txt").write_text("\n\n".join(" ".join(rng.choice(WORDS) for _ in range(1200)) +
                                                         f" big{i}x{j}" for j in range(40)))
        with pytest.raises(StoreError) as full:
            ingest_paths(cfg, [big])
        assert "disk is full" in str(full.value) and "\n" not in str(full.value)
        forget_store(cfg)

        # Another user searching meanwhile: one line, no traceback.
        proc = run_cli("search", "Kallimop escrow", store=cfg.store)
        assert "disk" in one_line_error(proc) and "full" in proc.stderr

        _mount("-o", "remount,size=64m", str(disk))  # space is freed
        stored = open_store(cfg).collection.get(include=["documents"])
        assert all(dict(zip(stored["ids"], stored["documents"])).get(cid) == text for cid, text in seeded.items())
        report = ingest_paths(cfg, [big])
        assert report.added + report.replaced + report.unchanged == 4
        assert_consistent(cfg, {str(p.resolve()): 40 for p in big.iterdir()})
    finally:
        forget_store(cfg)
        _umount(disk)


@pytest.mark.slow
def test_a_read_only_store_is_a_clear_error(fresh_settings, tmp_path):
    seeded = seed_store(fresh_settings, tmp_path)
    store = Path(fresh_settings.store)
    if os.geteuid() == 0:  # root ignores permission bits: make the folder a read-only bind mount instead
        _mount("--bind", str(store), str(store))
        _mount("-o", "remount,bind,ro", str(store))
    else:
        store.chmod(0o555)
    try:
        for args in (["search", "Kallimop escrow"], ["ingest", str(tmp_path / "seed.md")], ["docs"]):
            assert "not writable" in one_line_error(run_cli(*args, store=store))
        with pytest.raises(StoreError, match="not writable.*--store"):
            ingest_paths(fresh_settings, [tmp_path / "seed.md"])
    finally:
        _umount(store) if os.geteuid() == 0 else store.chmod(0o755)
    assert set(open_store(fresh_settings).collection.get()["ids"]) == set(seeded)


@pytest.mark.slow
def test_a_store_from_an_older_version_names_rebuild_and_rebuild_works(tmp_path, cli, monkeypatch):
    small = tmp_path / "corpus"
    (small / "totus").mkdir(parents=True)
    for name in ("totus/author-conclusion.md", "totus/context.md", "concepts.yaml", "claims.yaml"):
        (small / name).write_text((PROJECT_ROOT / "corpus" / name).read_text())
    monkeypatch.setenv("PARTNERBOT_CORPUS_DIR", str(small))
    cfg = get_settings(store=tmp_path / "store")
    ingest_corpus(cfg)
    collection = open_store(cfg).collection
    meta = {k: v for k, v in collection.metadata.items() if not k.startswith("hnsw:")}
    collection.modify(metadata={**meta, "schema": SCHEMA_VERSION - 1})  # what an older partnerbot left behind
    forget_store(cfg)

    with pytest.raises(StoreError, match=r"another partnerbot version.*`partnerbot ingest --rebuild`"):
        open_store(cfg)
    code, out, err = cli("search", "Who holds the veto?", store=cfg.store)
    assert code == 1 and err.count("\n") == 1 and "`partnerbot ingest --rebuild`" in err

    code, out, err = cli("ingest", "--rebuild", store=cfg.store)
    assert code == 0, err
    assert "2 added" in out
    assert open_store(cfg).collection.metadata["schema"] == SCHEMA_VERSION
    code, out, err = cli("search", "Who holds the veto?", "-k", "1", "--json", store=cfg.store)
    assert code == 0 and json.loads(out)[0]["doc_path"].startswith("corpus/totus/")


# --- load -----------------------------------------------------------------------------------------------

USERS = 8
LOAD_QUESTIONS = [
    "Can a contractor be a strategic partner?",
    "Who holds the A in RASCI, the client or the contractor?",
    "What is the difference between a customer and a client?",
    "What are the four stages of the relationship series?",
    "What does an OLA cover?",
    "Wie heeft de eindverantwoordelijkheid?",
    "Is a supplier the same as a partner?",
    "What did ChatGPT answer about coexistence?",
    "What does Glick say about partners?",
    "What is a strategic partnership according to the literature?",
]
FOLLOW_UP = "And a supplier?"


def _fingerprint(result) -> tuple:
    return (result.text, result.verdict, result.refused, tuple(c.chunk_id for c in result.citations),
            result.rewritten_question)


@pytest.mark.slow
def test_eight_concurrent_users_each_get_the_answer_to_their_own_question(corpus_settings):
    from partnerbot.answer import answer

    def session(question: str) -> tuple[tuple, tuple]:
        """One user's turn and a follow-up that only makes sense with that user's own history."""
        first = answer(question, (), corpus_settings, "rules")
        history = [{"role": "user", "content": question}, {"role": "assistant", "content": first.text}]
        return _fingerprint(first), _fingerprint(answer(FOLLOW_UP, history, corpus_settings, "rules"))

    alone = {q: session(q) for q in LOAD_QUESTIONS}
    assert len({fp[0] for fp in alone.values()}) > len(LOAD_QUESTIONS) // 2  # distinct answers to tell apart

    jobs = [(user, LOAD_QUESTIONS[(user + i) % len(LOAD_QUESTIONS)]) for user in range(USERS)
            for i in range(len(LOAD_QUESTIONS))]
    with ThreadPoolExecutor(max_workers=USERS) as pool:
        results = list(pool.map(lambda job: (job[1], session(job[1])), jobs))
    assert len(results) == USERS * len(LOAD_QUESTIONS)
    mixed = [q for q, got in results if got != alone[q]]
    assert mixed == [], f"answers differed under load for: {sorted(set(mixed))}"


@pytest.mark.slow
def test_a_store_beyond_sqlites_variable_limit_still_searches_and_ingests(fresh_settings, tmp_path):
    """One unpaged `collection.get()` of more than 32,766 records fails inside Chroma ('too many SQL variables');
    the BM25 mirror and ingest's look-up of what is stored read in pages instead."""
    import numpy as np

    from partnerbot.embed import MODELS
    from partnerbot.retrieval import get_retriever

    store = open_store(fresh_settings)
    rng = np.random.default_rng(0)
    total = 33_000
    for start in range(0, total, 5000):
        count = min(5000, total - start)
        vectors = rng.normal(size=(count, MODELS[fresh_settings.embed_model].dim)).astype("float32")
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        store.collection.add(ids=[f"bulk-{i}" for i in range(start, start + count)],
                             documents=[f"Bulk passage {i} about invoices and delivery." for i in range(start, start + count)],
                             metadatas=[{"doc_path": f"bulk/doc-{i // 10}.md", "doc_id": f"bulk/doc-{i // 10}",
                                         "kind": "user", "chunk_index": i % 10} for i in range(start, start + count)],
                             embeddings=vectors)
    store.bump()
    note = tmp_path / "escalation.md"
    note.write_text("# Escalation\n\nThe Ostrava steering board holds the veto on escalations.\n")
    report = ingest_paths(fresh_settings, [note])  # reads every stored user document's metadata first
    assert not report.errors and report.chunks_written == 1
    retriever = get_retriever(fresh_settings)
    retriever.refresh()
    assert retriever.size == total + 1
    top = retriever.search("Who holds the veto in Ostrava?", 3).passages[0]
    assert "Ostrava steering board" in top.text
