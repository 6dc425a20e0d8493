"""The chat page through Streamlit's AppTest: answers with source cards, examples, uploads, export, errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from partnerbot.export import MARKDOWN_INLINE, corpus_label, escape_markdown, history, voice_badge
from partnerbot.page import EXAMPLES, safe_upload_name, save_upload
from partnerbot.settings import PROJECT_ROOT, get_settings

APP = str(PROJECT_ROOT / "app.py")
FIRST_RUN = 180      # seconds: the first run of a process loads the embedding model
RUN = 60
QUESTION = "Can a contractor be a strategic partner?"
CRANE_DOC = b"""# Harbour crane upkeep

Kranenbouw lubricates the harbour cranes every six weeks under the upkeep agreement with the port.

<script>alert('x')</script> <img src=x onerror="alert(1)"> [click](javascript:alert(2))
"""
CRANE_QUESTION = "How often are the harbour cranes lubricated?"


@pytest.fixture
def page(monkeypatch, tmp_path, corpus_settings):
    """An AppTest of app.py on the session's read-only corpus store."""
    monkeypatch.setenv("PARTNERBOT_STORE", str(corpus_settings.store))
    monkeypatch.setenv("PARTNERBOT_UPLOAD_DIR", str(tmp_path / "uploads"))
    at = AppTest.from_file(APP, default_timeout=RUN)
    at.run(timeout=FIRST_RUN)
    assert not at.exception and not at.error, [e.value for e in at.error]
    return at


@pytest.fixture
def own_store(monkeypatch, tmp_path, corpus_settings):
    """Settings of a writable copy of the corpus store (uploads change it), set in the page's environment."""
    store = tmp_path / "store"
    shutil.copytree(corpus_settings.store, store)
    monkeypatch.setenv("PARTNERBOT_STORE", str(store))
    monkeypatch.setenv("PARTNERBOT_UPLOAD_DIR", str(tmp_path / "uploads"))
    return get_settings()


@pytest.fixture
def downloads(monkeypatch):
    """The bytes behind every download button, by media file id (AppTest keeps media in memory)."""
    saved: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def recording(self, path_or_data, mimetype, kind, filename=None):
        file_id = original(self, path_or_data, mimetype, kind, filename)
        saved[file_id] = path_or_data
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", recording)
    return saved


def texts(elements) -> list[str]:
    return [e.value for e in elements]


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def sidebar_button(at: AppTest, label: str):
    return next(b for b in at.sidebar.button if b.label == label)


def upload(at: AppTest, *files: tuple[str, bytes]) -> AppTest:
    uploader = at.sidebar.file_uploader[0]
    for name, data in files:
        uploader.upload(name, data, "application/octet-stream")
    sidebar_button(at, "Add documents").click().run()
    assert not at.exception, at.exception
    return at


def assert_answer_shown(at: AppTest, expected) -> None:
    """The answer's text, one card per citation (title, voice badge, source line, passage) and each caveat."""
    main = texts(at.main.markdown)
    assert escape_markdown(expected.text) in main
    captions = texts(at.main.caption)
    warnings = texts(at.main.warning)
    for c in expected.citations:
        title = next(m for m in main if m.startswith(f"**\\[{c.marker}\\] {escape_markdown(c.title)}**"))
        assert f"-badge[{escape_markdown(voice_badge(c.voice))}]" in title
        assert escape_markdown(c.text) in main
        assert any(escape_markdown(c.source_title) in line and escape_markdown(c.author) in line for line in captions)
        if c.caveat:
            assert f"Caveat: {escape_markdown(c.caveat)}" in warnings


# --- asking -----------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_ask_shows_answer_mode_corpus_and_source_cards(page, rules, corpus_settings):
    from partnerbot.store import open_store

    status = texts(page.main.caption)[0]
    assert "offline rules answerer" in status
    assert escape_markdown(corpus_label(open_store(corpus_settings).info())) in status
    ask(page, QUESTION)
    expected = rules.answer(QUESTION)
    assert expected.citations and any(c.caveat for c in expected.citations)
    assert texts(page.chat_message[0].markdown) == [escape_markdown(QUESTION)]
    assert_answer_shown(page, expected)
    assert f"verdict\\: {escape_markdown(expected.verdict)}" in " ".join(texts(page.main.caption))
    assert not page.error


@pytest.mark.slow
def test_follow_up_uses_history_and_shows_interpretation(page, rules):
    ask(page, QUESTION)
    ask(page, "And a supplier?")
    first = rules.answer(QUESTION)
    expected = rules.answer("And a supplier?", history([(QUESTION, first)]))
    assert expected.rewritten_question
    assert f"Understood as: {escape_markdown(expected.rewritten_question)}" in texts(page.main.caption)
    assert_answer_shown(page, expected)
    assert len(page.chat_message) == 4          # both turns stay on the page


@pytest.mark.slow
@pytest.mark.parametrize("number", [1, 5])     # one English, one Dutch example
def test_clicking_an_example_asks_it(page, rules, number):
    page.button(key=f"example-{number}").click().run()
    assert not page.exception
    assert texts(page.chat_message[0].markdown) == [escape_markdown(EXAMPLES[number])]
    assert_answer_shown(page, rules.answer(EXAMPLES[number]))


def test_examples_cover_english_and_dutch():
    from partnerbot.vocab import load_vocab

    vocab = load_vocab(str(get_settings().corpus_dir))
    assert {vocab.language(q) for q in EXAMPLES} == {"en", "nl"}


# --- uploads ----------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_uploaded_document_is_cited_escaped_and_removable(own_store, tmp_path):
    from ingest import list_documents

    at = AppTest.from_file(APP, default_timeout=RUN)
    at.run(timeout=FIRST_RUN)
    upload(at, ("../../etc/crane-notes.md", CRANE_DOC))
    assert texts(at.sidebar.success) == [f"Added {escape_markdown('../../etc/crane-notes.md')}"]
    saved = list((tmp_path / "uploads").glob("*/*"))
    owner = at.session_state.owner       # private to this session: saved in its own folder, kept in the store
    assert [(p.parent.name, p.name) for p in saved] == [(owner, "crane-notes.md")]
    assert not (tmp_path.parent / "etc").exists()
    docs = list_documents(own_store, owner=owner)
    assert [d["source_title"] for d in docs] == ["../../etc/crane-notes.md"] and list_documents(own_store) == []

    ask(at, CRANE_QUESTION)
    cards = [m for m in texts(at.main.markdown) if ":red-badge[your document]" in m]
    assert cards and "Harbour crane upkeep" in cards[0]
    shown = " ".join(texts(at.main.markdown))
    assert "Kranenbouw lubricates" in shown
    # Document text is shown as text: the tags arrive escaped, and no element may render HTML.
    assert "\\<script\\>" in shown and "\\<img src\\=x onerror\\=" in shown and "\\[click\\]\\(javascript" in shown
    assert "<script>" not in shown.replace("\\<script\\>", "") and "<img" not in shown.replace("\\<img", "")
    assert not any(m.proto.allow_html for m in at.markdown)
    assert all("Kranenbouw" not in h.proto.body for h in at.get("html"))

    sidebar_button(at, "Remove").click().run()
    assert not at.exception
    assert texts(at.sidebar.success) == [f"Removed {escape_markdown('../../etc/crane-notes.md')} \\(1 chunk\\)\\."]
    assert list_documents(own_store, owner=owner) == [] and not saved[0].exists()
    assert not [b for b in at.sidebar.button if b.label == "Remove"]
    ask(at, CRANE_QUESTION)
    assert len(at.chat_message) == 4 and not [m for m in texts(at.chat_message[-1].markdown) if "your document" in m]


@pytest.mark.slow
def test_a_document_the_cli_ingests_is_cited_by_the_running_page(own_store, tmp_path):
    """The lecturer's page is up; a colleague runs `partnerbot ingest` in another terminal. The next question
    on the page finds the new document, with no restart (embedded store, two processes)."""
    import os
    import subprocess

    at = AppTest.from_file(APP, default_timeout=RUN)
    at.run(timeout=FIRST_RUN)
    ask(at, CRANE_QUESTION)
    assert not [m for m in texts(at.chat_message[-1].markdown) if "your document" in m]

    doc = tmp_path / "crane-notes.md"
    doc.write_bytes(CRANE_DOC)
    proc = subprocess.run([str(PROJECT_ROOT / ".venv" / "bin" / "partnerbot"), "ingest", str(doc)],
                          capture_output=True, text=True, timeout=300, env=dict(os.environ))
    assert proc.returncode == 0 and "1 added" in proc.stdout, proc.stderr
    ask(at, CRANE_QUESTION)
    cards = [m for m in texts(at.chat_message[-1].markdown) if ":red-badge[your document]" in m]
    assert cards and "Harbour crane upkeep" in cards[0]
    assert "Kranenbouw lubricates" in " ".join(texts(at.chat_message[-1].markdown))


@pytest.mark.slow
def test_unsupported_and_empty_uploads_show_clear_errors(own_store, tmp_path):
    from ingest import list_documents

    at = AppTest.from_file(APP, default_timeout=RUN)
    at.run(timeout=FIRST_RUN)
    upload(at, ("slides.pptx", b"PK\x03\x04 not a document we read"), ("empty.md", b""), ("blank.txt", b"  \n\n "))
    errors = texts(at.sidebar.error)
    assert len(errors) == 3
    assert "slides\\.pptx" in errors[0] and "Unsupported file type" in errors[0] and "\\.md" in errors[0]
    assert errors[1].startswith("empty\\.md") and "no text to ingest" in errors[1]
    assert errors[2].startswith("blank\\.txt") and "no text to ingest" in errors[2]
    assert not at.sidebar.success and list_documents(own_store) == []
    assert list_documents(own_store, owner=at.session_state.owner) == []
    assert not [p for p in (tmp_path / "uploads").rglob("*") if p.is_file()]      # failed uploads are not kept


@pytest.mark.slow
def test_add_without_files_asks_for_one(page):
    sidebar_button(page, "Add documents").click().run()
    assert texts(page.sidebar.warning) == ["Choose one or more files first."]


@pytest.mark.parametrize("name, expected", [
    ("../../etc/passwd.md", "passwd.md"),
    ("..\\..\\windows\\evil.txt", "evil.txt"),
    ("/absolute/path/notes.pdf", "notes.pdf"),
    (".hidden.md", "hidden.md"),
    ("Offerte (versie 2) ü.md", "Offerte_versie_2_ü.md"),
    ("..", "upload"),
])
def test_safe_upload_name(name, expected):
    assert safe_upload_name(name) == expected


def test_save_upload_stays_inside_upload_dir(tmp_path):
    settings = get_settings(store=tmp_path / "store", upload_dir=tmp_path / "uploads")
    for name in ("../../etc/passwd.md", "/etc/passwd.md", "a/../../../b.md", "x" * 300 + ".md"):
        path = save_upload(settings, name, b"text")
        assert path.parent == (tmp_path / "uploads").resolve() and path.read_bytes() == b"text"
        assert path.suffix == ".md"
    assert not (tmp_path / "etc").exists()


# --- export, errors, presenter ----------------------------------------------------------------------------

@pytest.mark.slow
def test_export_buttons_hold_the_conversation_with_citations(page, rules, downloads):
    buttons = {b.label: b for b in page.get("download_button")}
    assert set(buttons) == {"Download as Markdown", "Download as JSON"}
    assert all(b.proto.disabled for b in buttons.values())     # nothing to export yet
    ask(page, QUESTION)
    ask(page, EXAMPLES[5])
    buttons = {b.label: b for b in page.get("download_button")}
    assert not any(b.proto.disabled for b in buttons.values())
    content = {label: downloads[Path(b.proto.url).stem].decode() for label, b in buttons.items()}
    first, second = rules.answer(QUESTION), rules.answer(EXAMPLES[5], history([(QUESTION, rules.answer(QUESTION))]))

    data = json.loads(content["Download as JSON"])
    assert [t["question"] for t in data["turns"]] == [QUESTION, EXAMPLES[5]]
    assert [t["answer"] for t in data["turns"]] == [first.text, second.text]
    assert [[c["chunk_id"] for c in t["citations"]] for t in data["turns"]] == \
        [[c.chunk_id for c in a.citations] for a in (first, second)]
    assert data["meta"]["mode"] == "offline rules answerer"

    markdown = content["Download as Markdown"]
    assert f"## 1. {QUESTION}" in markdown and f"## 2. {EXAMPLES[5]}" in markdown
    for c in first.citations + second.citations:
        assert f"{c.marker}. **{escape_markdown(c.title, MARKDOWN_INLINE)}**" in markdown
    assert "Caveat:" in markdown


@pytest.mark.slow
def test_store_error_is_one_line_not_a_traceback(monkeypatch, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("PARTNERBOT_STORE", str(blocker / "store"))
    at = AppTest.from_file(APP, default_timeout=RUN)
    at.run(timeout=FIRST_RUN)
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert "Cannot create the store folder" in message and "\n" not in message and "Traceback" not in message
    assert not at.chat_input      # nothing to ask without a store


@pytest.mark.slow
def test_answer_error_is_one_line_and_leaves_the_conversation(monkeypatch, page):
    monkeypatch.setenv("PARTNERBOT_MAX_QUESTION_CHARS", "30")
    # The answerer is cached per settings: the new limit makes a new one, on the same store.
    ask(page, "Can a contractor be a strategic partner in a long-running maintenance contract?")
    assert len(page.main.error) == 1
    message = page.main.error[0].value
    assert "characters long" in message and "PARTNERBOT\\_MAX\\_QUESTION\\_CHARS" in message and "\n" not in message
    assert all(b.proto.disabled for b in page.get("download_button"))
    ask(page, "Who holds the veto?")
    assert not page.main.error and len(page.chat_message) == 2


@pytest.mark.slow
def test_presenter_mode_enlarges_text_and_minimises_the_sidebar(page):
    assert not page.get("html") and page.sidebar.file_uploader
    page.toggle(key="presenter").set_value(True).run()
    css = " ".join(h.proto.body for h in page.get("html"))
    assert "font-size" in css
    assert not page.sidebar.file_uploader and "Your documents" not in texts(page.sidebar.subheader)
    assert any("Presenter mode" in c for c in texts(page.sidebar.caption))
    ask(page, QUESTION)
    assert page.main.markdown and not page.error
    page.toggle(key="presenter").set_value(False).run()
    assert page.sidebar.file_uploader and not page.get("html")


@pytest.mark.slow
def test_presenter_mode_from_the_address(monkeypatch, corpus_settings):
    monkeypatch.setenv("PARTNERBOT_STORE", str(corpus_settings.store))
    at = AppTest.from_file(APP, default_timeout=RUN)
    at.query_params["presenter"] = "1"
    at.run(timeout=FIRST_RUN)
    assert at.toggle(key="presenter").value is True and not at.sidebar.file_uploader


# --- LLM mode against the loopback fake OpenAI server ---------------------------------------------------------

@pytest.fixture
def fake_llm(monkeypatch, corpus_settings):
    pytest.importorskip("partnerbot.llm")
    fake_openai = pytest.importorskip("fake_openai")
    with fake_openai.FakeOpenAI() as fake:
        monkeypatch.setenv("PARTNERBOT_STORE", str(corpus_settings.store))
        monkeypatch.setenv("PARTNERBOT_LLM_BASE_URL", fake.base_url)
        monkeypatch.setenv("PARTNERBOT_LLM_MODEL", "fake-model")
        monkeypatch.setenv("PARTNERBOT_LLM_MAX_RETRIES", "0")
        monkeypatch.setenv("PARTNERBOT_LLM_TIMEOUT", "3")
        monkeypatch.setenv("PARTNERBOT_LLM_MAX_WAIT", "6")
        yield fake_openai, fake


def cite_first_passage(payload: dict) -> str:
    """A model reply that states the first sentence of passage 1 and cites it."""
    from fake_openai import PASSAGE_RX

    user = "\n".join(m["content"] for m in payload["messages"] if m["role"] == "user")
    number, _attrs, text = PASSAGE_RX.findall(user)[0]
    return text.split(". ")[0].strip().rstrip(".") + f". [{number}]"


@pytest.mark.slow
def test_llm_mode_streams_a_verified_answer_with_cards(fake_llm):
    fake_openai, fake = fake_llm
    fake.add(fake_openai.Reply(cite_first_passage, chunk_size=5))
    at = AppTest.from_file(APP, default_timeout=RUN)
    at.run(timeout=FIRST_RUN)
    assert "LLM fake\\-model at 127\\.0\\.0\\.1" in texts(at.main.caption)[0]
    ask(at, QUESTION)
    assert len(fake.requests) == 1 and fake.requests[0].json["stream"] is True
    reply = texts(at.chat_message[-1].markdown)
    sent = cite_first_passage(fake.requests[0].json)
    assert escape_markdown(sent.rsplit(" [", 1)[0]) in reply[0]
    assert reply[1].startswith("**\\[1\\] ") and not at.main.info and not at.error
    assert "mode\\: llm" in texts(at.chat_message[-1].caption)


@pytest.mark.slow
@pytest.mark.parametrize("reply", ["error", "slow"])
def test_failing_or_slow_llm_falls_back_with_a_notice(fake_llm, rules, reply):
    fake_openai, fake = fake_llm
    scripted = fake_openai.Reply(status=500, body='{"error": {"message": "boom"}}') if reply == "error" \
        else fake_openai.Reply("Too late. [1]", delay=30)
    fake.add(*[scripted] * 4)
    at = AppTest.from_file(APP, default_timeout=RUN)
    at.run(timeout=FIRST_RUN)
    ask(at, QUESTION)
    notices = texts(at.chat_message[-1].info)
    assert len(notices) == 1 and "offline rules answer" in notices[0]
    assert escape_markdown(rules.answer(QUESTION).text) in texts(at.chat_message[-1].markdown)
    assert any("mode\\: rules\\-fallback" in c for c in texts(at.chat_message[-1].caption))


def test_the_uploaders_limit_is_the_ingest_limit():
    """Streamlit prints its maxUploadSize under the uploader; it must be the size ingest accepts."""
    import tomllib

    from partnerbot.settings import Settings

    config = tomllib.loads((PROJECT_ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == Settings.model_fields["max_file_mb"].default
