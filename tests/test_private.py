"""Private uploads at the store level: owners, scoped search (BM25 and dense, exact and HNSW, embedded and
server), removal, expiry and purge; workspace codes and the admin token; the server-mode ingest lease."""

from __future__ import annotations

import hmac
import threading
import time
import uuid
from pathlib import Path

import pytest

from partnerbot.errors import InputError, StoreError
from partnerbot.settings import get_settings
from partnerbot.workspaces import is_admin, new_workspace_code, session_owner, workspace_owner

A, B = "s-" + "a" * 32, "w-" + "b" * 32
SHARED_DOC = "# Harbour rules\n\nThe harbour master assigns berths to ships every morning and keeps the berth register.\n"
A_DOC = "# Crane upkeep\n\nKranenbouw lubricates the zorblax cranes every six weeks under the upkeep agreement.\n"
B_DOC = "# Tug contract\n\nThe quindle tugboat operator tows container ships into the harbour at night.\n"


@pytest.fixture(scope="module")
def chroma(tmp_path_factory):
    from test_server import ChromaServer

    srv = ChromaServer(tmp_path_factory.mktemp("private-server") / "data").start()
    yield srv
    srv.stop()


@pytest.fixture(params=["embedded", pytest.param("server", marks=[pytest.mark.slow, pytest.mark.server])])
def where(request, tmp_path):
    """Settings for an empty store of this test's own: an embedded folder, or a fresh collection on a server."""
    if request.param == "embedded":
        return lambda **kw: get_settings(store=tmp_path / "store", upload_dir=tmp_path / "uploads", **kw)
    srv = request.getfixturevalue("chroma")
    name = "t" + uuid.uuid4().hex[:12]
    return lambda **kw: srv.settings(collection=name, upload_dir=tmp_path / "uploads", **kw)


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder / name


def fill(cfg, tmp_path: Path) -> dict[str, str]:
    """One shared document and one private document each for owners A and B; returns their doc_paths."""
    from ingest import ingest_paths

    shared = write(tmp_path / "shared", "harbour.md", SHARED_DOC)
    a = write(tmp_path / "uploads" / A, "crane.md", A_DOC)
    b = write(tmp_path / "uploads" / B, "tug.md", B_DOC)
    assert ingest_paths(cfg, [shared]).added == 1
    assert ingest_paths(cfg, [a], owner=A).added == 1
    assert ingest_paths(cfg, [b], owner=B).added == 1
    return {"shared": str(shared.resolve()), "A": str(a.resolve()), "B": str(b.resolve())}


def paths_found(retriever, query: str, owner: str | None) -> set[str]:
    return {p.doc_path for p in retriever.search(query, k=50, owner=owner).passages}


@pytest.mark.parametrize("exact", [True, False], ids=["exact", "hnsw"])
def test_each_owner_searches_the_shared_store_and_only_its_own_private_documents(where, tmp_path, exact):
    from partnerbot.retrieval import OwnerRetriever, get_retriever

    cfg = where(exact_search_max=50_000 if exact else 0)
    docs = fill(cfg, tmp_path)
    retriever = get_retriever(cfg)
    assert retriever.refresh(force=True) and retriever.exact is exact
    for query in ("zorblax cranes lubricated", "quindle tugboat at night", "Who assigns berths in the harbour?",
                  "How often is the equipment greased?"):   # the last shares no word with A's document: dense only
        assert paths_found(retriever, query, A) <= {docs["shared"], docs["A"]}
        assert paths_found(retriever, query, B) <= {docs["shared"], docs["B"]}
        assert paths_found(retriever, query, None) <= {docs["shared"]}
    assert retriever.search("zorblax cranes lubricated", owner=A).passages[0].doc_path == docs["A"]
    assert retriever.search("How often is the equipment greased?", owner=A).passages[0].doc_path == docs["A"]
    assert retriever.search("quindle tugboat", owner=B).passages[0].doc_path == docs["B"]
    # BM25 alone, as search uses it: the other owner's rows score nothing
    index = retriever.refresh()
    for owner, mine, theirs in ((A, docs["A"], docs["B"]), (B, docs["B"], docs["A"])):
        mask = retriever.allowed(index, owner)
        rows = retriever._bm25_ranks(index, ["zorblax", "quindle", "harbour"], 10, mask, owner)
        found = {index.metas[r]["doc_path"] for r, _ in rows}
        assert mine in found and theirs not in found

    # words, whole notes and the settings-scoped view follow the same rule
    assert retriever.knows("zorblax", owner=A) and not retriever.knows("zorblax", owner=B)
    assert not retriever.knows("zorblax") and retriever.knows("berths")
    assert retriever.note_passages("user/crane.md", owner=A) and not retriever.note_passages("user/crane.md", owner=B)
    scoped = get_retriever(cfg.model_copy(update={"workspace": A}))
    assert isinstance(scoped, OwnerRetriever) and scoped.base is retriever
    assert docs["A"] in {p.doc_path for p in scoped.search("zorblax cranes", k=50).passages}
    assert get_retriever(cfg) is retriever   # the CLI, batch and eval: the shared store only


def test_another_owners_upload_changes_nobody_elses_ranking_or_word_rarity(where, tmp_path):
    """BM25's word weights and the rarity answers use come from the rows an owner may see, so one user's upload
    leaves every other user's scores exactly as they were (before, IDF counted every owner's rows)."""
    from ingest import ingest_paths
    from partnerbot.retrieval import get_retriever

    cfg = where()
    texts = [SHARED_DOC, "# Pilots\n\nA harbour pilot boards ships at the harbour entrance and guides them in.\n",
             "# Fees\n\nPort fees are charged per ship for each day it lies at the quay.\n"]
    ingest_paths(cfg, [write(tmp_path / "shared", f"doc{i}.md", text) for i, text in enumerate(texts)])
    retriever = get_retriever(cfg)
    words = ["harbour", "ships", "berths", "zorblax"]

    def seen(owner):
        index = retriever.refresh()
        lexical = retriever._bm25_ranks(index, words, 10, retriever.allowed(index, owner), owner)
        search = retriever.search("Which ships enter the harbour?", owner=owner).passages
        return ([(index.metas[r]["doc_path"], s) for r, s in lexical], retriever.rarity(words, owner=owner),
                [(p.doc_path, p.score) for p in search])

    before = seen(None)
    ingest_paths(cfg, [write(tmp_path / "uploads" / A, "crane.md", A_DOC)], owner=A)
    assert seen(None) == before
    with_a = seen(A)
    assert "zorblax" in with_a[1] and "zorblax" not in before[1]
    flood = B_DOC + "Ships enter the harbour all night; the harbour is full of ships and harbour berths.\n"
    ingest_paths(cfg, [write(tmp_path / "uploads" / B, "tug.md", flood)], owner=B)
    assert seen(None) == before and seen(A) == with_a
    assert retriever.rarity(["harbour"], owner=B)["harbour"] < before[1]["harbour"]   # B sees its own upload


def test_owners_list_and_remove_only_their_own_documents(where, tmp_path):
    from ingest import list_documents, remove_document

    cfg = where()
    docs = fill(cfg, tmp_path)
    assert [d["doc_path"] for d in list_documents(cfg)] == [docs["shared"]]
    assert [d["doc_path"] for d in list_documents(cfg, owner=A)] == [docs["A"]]
    assert [d["doc_path"] for d in list_documents(cfg, owner=B)] == [docs["B"]]
    assert list_documents(cfg, owner=A)[0]["expires"] > time.time() + 23 * 3600

    assert remove_document(cfg, docs["A"], owner=B) == 0      # B cannot remove A's document…
    assert remove_document(cfg, docs["A"]) == 0               # …nor can a shared-store removal
    assert remove_document(cfg, docs["shared"], owner=A) == 0  # and an owner cannot remove a shared one
    assert [d["doc_path"] for d in list_documents(cfg, owner=A)] == [docs["A"]]
    assert [d["doc_path"] for d in list_documents(cfg)] == [docs["shared"]]
    assert remove_document(cfg, docs["A"], owner=A) == 1
    assert list_documents(cfg, owner=A) == [] and len(list_documents(cfg, owner=B)) == 1


def test_private_documents_expire_then_are_purged_without_touching_the_shared_store(where, tmp_path):
    from ingest import ingest_paths, list_documents, purge_expired
    from partnerbot.retrieval import get_retriever
    from partnerbot.store import open_store

    cfg = where(private_ttl_hours=2 / 3600)   # two seconds
    docs = fill(cfg, tmp_path)
    shared_before = open_store(cfg).get_all(include=["documents"], where={"kind": "user"})
    retriever = get_retriever(cfg)
    assert docs["A"] in paths_found(retriever, "zorblax cranes", A)
    assert purge_expired(cfg).removed == 0            # nothing has expired yet
    time.sleep(2.5)
    # expired: no longer searched or listed, even before the purge runs
    assert docs["A"] not in paths_found(retriever, "zorblax cranes", A)
    assert list_documents(cfg, owner=A) == []
    late = write(tmp_path / "uploads" / A, "late.md", A_DOC.replace("Crane upkeep", "Late crane note"))
    ingest_paths(cfg, [late], owner=A)                # added now: not expired yet

    report = purge_expired(cfg)
    assert report.removed == 2 and report.chunks_deleted == 2
    assert not Path(docs["A"]).exists() and not Path(docs["B"]).exists() and late.exists()
    assert not Path(docs["B"]).parent.exists()        # B's upload folder is gone with its last document
    store = open_store(cfg)
    assert store.get_all(include=["documents"], where={"kind": "user"}) == shared_before
    assert {m["doc_path"] for m in store.get_all(include=["metadatas"], where={"kind": "private"})["metadatas"]} \
        == {str(late.resolve())}
    assert docs["shared"] in paths_found(retriever, "Who assigns berths?", None)


def test_workspace_codes_and_session_owners():
    assert workspace_owner("Course-101-spring") == workspace_owner(" Course-101-spring ")
    assert workspace_owner("Course-101-spring") != workspace_owner("Course-101-autumn")
    assert "Course" not in workspace_owner("Course-101-spring")     # the store never holds the code
    for bad in ("", "short", "has space in it", "x" * 65, "../../etc/passwd"):
        with pytest.raises(InputError, match="8 to 64 letters"):
            workspace_owner(bad)
    code = new_workspace_code()
    assert len(code) >= 12 and workspace_owner(code).startswith("w-")
    assert session_owner() != session_owner() and len(session_owner()) == 34


def test_admin_token_is_compared_in_constant_time(monkeypatch):
    calls = []
    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: calls.append((a, b)) or real(a, b))
    assert not is_admin(get_settings(), "anything")                      # no token configured: nobody is admin
    cfg = get_settings(admin_token="lecturer-secret-42")
    assert not is_admin(cfg, "") and not is_admin(cfg, None)
    assert not is_admin(cfg, "lecturer-secret-41") and not is_admin(cfg, "lecturer-secret-42 ")
    assert is_admin(cfg, "lecturer-secret-42")
    assert len(calls) == 3 and all(isinstance(a, bytes) for a, _ in calls)
    assert "lecturer-secret-42" not in repr(cfg) and "lecturer-secret-42" not in cfg.model_dump_json()


# --- the ingest lease (server mode) ---------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.server
def test_the_lease_lets_one_ingest_in_at_a_time(chroma):
    from partnerbot.locking import Lease

    cfg = chroma.settings(collection="lease" + uuid.uuid4().hex[:8], ingest_lease_seconds=3)
    inside, overlaps, spans = [0], [], []
    guard = threading.Lock()

    def work(n: int) -> None:
        with Lease(cfg):
            with guard:
                inside[0] += 1
                overlaps.append(inside[0])
            start = time.monotonic()
            time.sleep(0.3 if n % 2 else 4)      # the long ones outlive the lease's ttl: renewal keeps it
            spans.append((start, time.monotonic()))
            with guard:
                inside[0] -= 1

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(spans) == 4 and max(overlaps) == 1
    spans.sort()
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:]))
    assert Lease(cfg).current() is None            # released


@pytest.mark.slow
@pytest.mark.server
def test_a_crashed_holders_lease_lapses_and_a_live_one_makes_others_wait(chroma):
    from partnerbot.locking import Lease

    cfg = chroma.settings(collection="lease" + uuid.uuid4().hex[:8], ingest_lease_seconds=2, ingest_wait_seconds=1.5)
    crashed = Lease(cfg)
    crashed.collection().add(ids=["ingest"], embeddings=[[1.0, 0.0]],
                             metadatas=[{"holder": "elsewhere:1:dead", "expires": time.time() - 1, "since": 0.0}])
    with Lease(cfg) as mine:                        # the lapsed record is cleared and ours taken
        assert Lease(cfg).current()["holder"] == mine.holder
        started = time.monotonic()
        with pytest.raises(StoreError) as caught:
            with Lease(cfg):
                pass
        message = str(caught.value)
        assert time.monotonic() - started >= 1.5
        assert mine.holder in message and "wait for it and try again" in message and "\n" not in message
    assert Lease(cfg).current() is None


# --- the page: two sessions, a workspace, the admin (Streamlit AppTest) ----------------------------------

CRANE_DOC = b"# Harbour crane upkeep\n\nKranenbouw lubricates the harbour cranes every six weeks under the upkeep agreement.\n"
CRANE_QUESTION = "How often are the harbour cranes lubricated?"
TUG_DOC = b"# Tug contract\n\nThe Sleepdienst tugboat operator tows container ships into the harbour at night.\n"


def session(query: dict | None = None, clean: bool = True):
    """A new browser session of the page (AppTest), on the store and uploads the page fixture set."""
    from streamlit.testing.v1 import AppTest
    from test_page import APP, FIRST_RUN, RUN

    at = AppTest.from_file(APP, default_timeout=RUN)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run(timeout=FIRST_RUN)
    assert not at.exception and (not clean or not at.error), [e.value for e in at.error]
    return at


def cites_document(at) -> bool:
    from test_page import texts

    return any(":red-badge[your document]" in m for m in texts(at.chat_message[-1].markdown))


def sidebar_text(at) -> str:
    from test_page import texts

    return " ".join(texts(at.sidebar.markdown) + texts(at.sidebar.caption)).replace("\\", "")  # unescaped


@pytest.fixture
def page_store(monkeypatch, tmp_path, corpus_settings):
    import shutil

    store = tmp_path / "store"
    shutil.copytree(corpus_settings.store, store)
    monkeypatch.setenv("PARTNERBOT_STORE", str(store))
    monkeypatch.setenv("PARTNERBOT_UPLOAD_DIR", str(tmp_path / "uploads"))
    return get_settings()


@pytest.mark.slow
def test_two_page_sessions_never_see_each_others_uploads(page_store):
    from ingest import list_documents
    from test_page import ask, upload

    a, b = session(), session()
    assert a.session_state.owner != b.session_state.owner
    assert "private to this browser session" in " ".join(m.value for m in a.main.caption)
    upload(a, ("crane-notes.md", CRANE_DOC))
    assert cites_document(ask(a, CRANE_QUESTION))
    assert "crane-notes.md" in sidebar_text(a) and [x for x in a.sidebar.button if x.label == "Remove"]

    b.run()
    assert not cites_document(ask(b, CRANE_QUESTION))          # B's answer cannot cite A's upload…
    assert "crane-notes.md" not in sidebar_text(b)               # …B does not see it…
    assert not [x for x in b.sidebar.button if x.label == "Remove"]   # …and cannot remove it
    upload(b, ("tug.md", TUG_DOC))
    a.run()
    assert "tug.md" not in sidebar_text(a) and "crane-notes.md" in sidebar_text(a)
    assert [d["source_title"] for d in list_documents(page_store, owner=a.session_state.owner)] == ["crane-notes.md"]
    assert [d["source_title"] for d in list_documents(page_store, owner=b.session_state.owner)] == ["tug.md"]
    assert list_documents(page_store) == []                      # nothing reached the shared store
    # the command line (shared store only) does not find private uploads either
    from partnerbot.answer import get_answerer

    assert not any(c.voice == "document" for c in get_answerer(page_store, "rules").answer(CRANE_QUESTION).citations)


@pytest.mark.slow
def test_a_workspace_code_shares_uploads_with_whoever_opens_it(page_store):
    from test_page import ask, sidebar_button, upload

    code = "course-101-harbour"
    a = session({"workspace": code})
    assert a.session_state.workspace_code == code and "Open: `course-101-harbour`" in sidebar_text(a)
    upload(a, ("crane-notes.md", CRANE_DOC))
    b = session()
    b.sidebar.text_input(key="workspace-code-input").input(code)
    sidebar_button(b, "Open").click().run()
    assert b.query_params["workspace"] == [code] or b.query_params["workspace"] == code
    assert "crane-notes.md" in sidebar_text(b) and cites_document(ask(b, CRANE_QUESTION))
    outsider = session()
    assert not cites_document(ask(outsider, CRANE_QUESTION)) and "crane-notes.md" not in sidebar_text(outsider)
    sidebar_button(b, "Leave the workspace").click().run()
    assert "crane-notes.md" not in sidebar_text(b) and not cites_document(ask(b, CRANE_QUESTION))
    bad = session({"workspace": "short"}, clean=False)
    assert bad.session_state.workspace_code is None
    assert any("8 to 64 letters" in e.value for e in bad.sidebar.error)


@pytest.mark.slow
def test_only_an_admin_changes_the_shared_store_from_the_page(page_store, monkeypatch):
    from ingest import list_documents
    from test_page import ask, sidebar_button, texts, upload

    visitor = session()
    assert "command line" in sidebar_text(visitor) and not visitor.sidebar.radio   # no admin token configured
    monkeypatch.setenv("PARTNERBOT_ADMIN_TOKEN", "lecturer-secret-42")
    admin, visitor = session(), session()
    assert not admin.sidebar.radio                                # not yet unlocked: uploads are private only
    admin.sidebar.text_input(key="admin-token-input").input("guess-1234")
    sidebar_button(admin, "Unlock admin mode").click().run()
    assert "That is not the admin token" in " ".join(texts(admin.sidebar.error)) and not admin.sidebar.radio
    admin.sidebar.text_input(key="admin-token-input").input("lecturer-secret-42")
    sidebar_button(admin, "Unlock admin mode").click().run()
    assert not admin.exception and admin.session_state.admin is True
    assert "admin: may change the shared store" in " ".join(m.value for m in admin.main.caption).replace("\\", "")
    admin.sidebar.radio(key="upload-target").set_value("The shared store (everyone)")
    upload(admin, ("crane-notes.md", CRANE_DOC))
    assert texts(admin.sidebar.success) == ["Added crane\\-notes\\.md to the shared store"]
    assert [d["source_title"] for d in list_documents(page_store)] == ["crane-notes.md"]

    visitor.run()                                                 # a visitor's answers now cite it…
    assert cites_document(ask(visitor, CRANE_QUESTION)) and "crane-notes.md" in sidebar_text(visitor)
    assert not [x for x in visitor.sidebar.button if x.label == "Remove"]   # …but cannot remove it
    admin.run()
    sidebar_button(admin, "Remove").click().run()
    assert list_documents(page_store) == [] and not cites_document(ask(visitor, CRANE_QUESTION))
