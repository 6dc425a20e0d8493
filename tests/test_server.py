"""Client/server store: a real `chroma run` on loopback, shared by several partnerbot processes ("users").

Each server is started by a fixture on a free 127.0.0.1 port with a temporary --path, waited for via its
heartbeat and always terminated. Slow: every CLI subprocess loads the embedding model.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from partnerbot.errors import StoreError
from partnerbot.settings import PROJECT_ROOT, get_settings

pytestmark = [pytest.mark.slow, pytest.mark.server]

CHROMA = PROJECT_ROOT / ".venv" / "bin" / "chroma"
PARTNERBOT = PROJECT_ROOT / ".venv" / "bin" / "partnerbot"
CLI_TIMEOUT = 300  # seconds per CLI subprocess (model load + a corpus ingest on a slow, shared machine)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ChromaServer:
    """`chroma run` on 127.0.0.1; start() waits for the heartbeat, stop() terminates (or kills) it."""

    def __init__(self, path: Path, port: int | None = None):
        self.path, self.port = path, port or free_port()
        self.proc: subprocess.Popen | None = None
        self.log = path.parent / f"chroma-{self.port}.log"

    def start(self, timeout: float = 60) -> "ChromaServer":
        if not CHROMA.exists():
            pytest.skip(f"{CHROMA} not installed (pip install chromadb)")
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([str(CHROMA), "run", "--host", "127.0.0.1", "--port", str(self.port),
                                          "--path", str(self.path)], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/api/v2/heartbeat", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        tail = self.log.read_text(errors="replace")[-1500:]
        self.stop()
        pytest.fail(f"chroma server did not come up on port {self.port}:\n{tail}")

    def stop(self, kill: bool = False) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        if kill:
            self.proc.kill()
        else:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=15)

    def settings(self, **overrides):
        base = {"chroma_host": "127.0.0.1", "chroma_port": self.port, "mode": "rules",
                "store": self.path.parent / "unused-local-store"}
        return get_settings(**{**base, **overrides})

    def args(self) -> list[str]:
        return ["--chroma-host", "127.0.0.1", "--chroma-port", str(self.port)]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = ChromaServer(tmp_path_factory.mktemp("chroma-server") / "data").start()
    yield srv
    srv.stop()


def run_cli(srv: ChromaServer, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """One "user": a separate partnerbot process talking to the server."""
    return subprocess.run([str(PARTNERBOT), *srv.args(), *args], capture_output=True, text=True,
                          timeout=CLI_TIMEOUT, env={**os.environ, **(env or {})})


def start_cli(srv: ChromaServer, *args: str) -> subprocess.Popen:
    return subprocess.Popen([str(PARTNERBOT), *srv.args(), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def chunk_keys(cfg) -> list[tuple[str, int]]:
    from partnerbot.store import open_store

    metas = open_store(cfg).current().get(include=["metadatas"])["metadatas"]
    return [(m["doc_path"], m["chunk_index"]) for m in metas]


def write_doc(folder: Path, name: str, word: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"# The {word} agreement\n\nThe {word} supplier keeps the escrow key and reports every quarter "
                    f"to the client's steering group about the {word} roadmap.\n")
    return path


def test_empty_server_auto_ingests_then_answers_and_reingest_is_idempotent(server, cli):
    from partnerbot.store import open_store, store_exists

    cfg = server.settings()
    assert not store_exists(cfg)  # no collection yet: commands must ingest first, not answer from nothing

    first = run_cli(server, "ask", "Who holds the A in RASCI, the client or the contractor?", "--json")
    assert first.returncode == 0, first.stderr
    assert f"No store at chroma://127.0.0.1:{server.port}/partnerbot: ingesting the built-in corpus" in first.stderr
    assert "Traceback" not in first.stderr
    data = json.loads(first.stdout)
    assert data["verdict"] == "client" and data["citations"] and not data["refused"]

    assert store_exists(cfg)
    store = open_store(cfg)
    before = store.info()
    assert before["chunks"] > 100 and before["notes"] > 40 and before["location"].startswith("chroma://")

    # A second user re-ingests: nothing is written, counts and generation stay put.
    code, out, err = cli(*server.args(), "ingest")
    assert code == 0, err
    assert "0 added, 0 replaced" in out and "0 chunks written" in out
    after = store.info()
    assert (after["chunks"], after["generation"]) == (before["chunks"], before["generation"])
    keys = chunk_keys(cfg)
    assert len(keys) == len(set(keys)) == after["chunks"]

    # search and docs work against the server too
    code, out, err = cli(*server.args(), "search", "What does an OLA cover?", "-k", "3", "--json")
    assert code == 0, err
    assert [row["rank"] for row in json.loads(out)] == [1, 2, 3]
    code, out, _ = cli(*server.args(), "docs")
    assert code == 0 and f"chroma://127.0.0.1:{server.port}/partnerbot: {after['chunks']} chunks" in out


def test_two_users_ingest_at_once_and_a_running_session_sees_both(server, tmp_path):
    from partnerbot.retrieval import get_retriever

    cfg = server.settings()
    run_cli(server, "ingest")  # the corpus, if the previous test did not run (no-op otherwise)
    retriever = get_retriever(cfg)  # a long-running session (the page) opened before the others write
    retriever.search("escrow key", 3)
    generation = retriever.store.generation()

    a = write_doc(tmp_path / "alice", "alice.md", "Quillomar")
    b = write_doc(tmp_path / "bob", "bob.md", "Vexaridge")
    users = [start_cli(server, "ingest", str(a)), start_cli(server, "ingest", str(b))]
    for user in users:
        out, err = user.communicate(timeout=CLI_TIMEOUT)
        assert user.returncode == 0, err
        assert "1 added" in out and "Traceback" not in err

    assert retriever.store.generation() >= generation + 2  # both ingests bumped it; nothing was lost
    for word, path in (("Quillomar", a), ("Vexaridge", b)):
        hits = retriever.search(f"{word} escrow roadmap", 3).passages
        assert hits[0].doc_path == str(path.resolve()), word
        assert hits[0].similarity > 0  # found by the dense index too, not only BM25
    keys = chunk_keys(cfg)
    assert len(keys) == len(set(keys))
    assert retriever.size == len(keys)

    # A third user removes Alice's document; the running session stops finding it.
    gone = run_cli(server, "ingest", "--remove", str(a))
    assert gone.returncode == 0, gone.stderr
    assert all(p.doc_path != str(a.resolve()) for p in retriever.search("Quillomar escrow roadmap", 5).passages)
    found = run_cli(server, "search", "Vexaridge roadmap", "-k", "1", "--json")
    assert found.returncode == 0 and json.loads(found.stdout)[0]["doc_path"] == str(b.resolve())


def test_server_going_away_gives_one_line_errors_and_the_session_recovers(tmp_path):
    from ingest import ingest_paths
    from partnerbot.retrieval import get_retriever

    srv = ChromaServer(tmp_path / "data").start()
    try:
        cfg = srv.settings(collection="outage")
        docs = [write_doc(tmp_path / "docs", f"d{i}.md", word) for i, word in enumerate(("Plorvex", "Zintaru", "Mebbick"))]
        assert ingest_paths(cfg, docs).added == 3
        retriever = get_retriever(cfg)
        before = [p.chunk_id for p in retriever.search("Zintaru escrow", 3).passages]
        assert before

        srv.stop(kill=True)  # crash, not a clean shutdown
        with pytest.raises(StoreError) as down:
            retriever.search("Zintaru escrow", 3)
        message = str(down.value)
        assert "Cannot reach the Chroma server at 127.0.0.1" in message and "\n" not in message
        with pytest.raises(StoreError, match="Cannot reach the Chroma server"):
            ingest_paths(cfg, [write_doc(tmp_path / "docs", "late.md", "Trobbit")])

        # Another user starting a command meanwhile: one line on stderr, exit 1, no traceback.
        user = run_cli(srv, "ask", "Who is accountable?", env={"PARTNERBOT_COLLECTION": "outage"})
        assert user.returncode == 1
        lines = user.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: Cannot reach the Chroma server"), user.stderr

        srv.start()  # same port, same --path
        after = [p.chunk_id for p in retriever.search("Zintaru escrow", 3).passages]
        assert after == before
        assert ingest_paths(cfg, docs).unchanged == 3  # the data survived the crash
    finally:
        srv.stop()


def test_old_schema_on_the_server_names_rebuild_and_rebuild_works(server, cli, monkeypatch, tmp_path):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    from partnerbot.store import SCHEMA_VERSION, open_store

    small = tmp_path / "corpus"
    (small / "totus").mkdir(parents=True)
    for note in ("author-conclusion.md", "context.md"):
        (small / "totus" / note).write_text((PROJECT_ROOT / "corpus" / "totus" / note).read_text())
    monkeypatch.setenv("PARTNERBOT_COLLECTION", "old-version")
    monkeypatch.setenv("PARTNERBOT_CORPUS_DIR", str(small))
    raw = chromadb.HttpClient(host="127.0.0.1", port=server.port, settings=ChromaSettings(anonymized_telemetry=False))
    raw.create_collection("old-version", metadata={"schema": SCHEMA_VERSION - 1, "generation": 3})

    code, out, err = cli(*server.args(), "search", "Who holds the veto?")
    assert code == 1
    # made by an older version: other schema and no embedding-function config of ours; either way one line
    assert "`partnerbot ingest --rebuild`" in err and f"chroma://127.0.0.1:{server.port}/old-version" in err
    assert err.count("\n") == 2 and "Traceback" not in err  # the auto-ingest notice, then the error

    code, out, err = cli(*server.args(), "ingest", "--rebuild")
    assert code == 0, err
    assert "2 added" in out
    store = open_store(server.settings(collection="old-version"))
    assert store.current().metadata["schema"] == SCHEMA_VERSION and store.info()["chunks"] > 2
