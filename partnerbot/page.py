"""The Streamlit chat page (app.py only calls render()).

The embedding model, store and answerer are created once per process (st.cache_resource, and the store's own
per-process cache); a first run without a store ingests the built-in corpus. Everything that came from a
document or an answer is rendered through escape_markdown, never as HTML: uploads are untrusted text.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Callable, Iterable, Iterator

import streamlit as st

from .answer import Answer, get_answerer
from .cards import PRESENTER_CSS, shown_errors, source_card
from .errors import PartnerbotError
from .export import corpus_label, history, mode_label, to_json, to_markdown
from .export import escape_markdown as esc
from .settings import Settings, get_settings
from .uploads import add_uploads, purge_now_and_then, remove_upload, safe_upload_name, save_upload  # noqa: F401
from .access import admin_panel, scope_label, session_owner_id, workspace_panel
from .workspaces import is_admin

EXAMPLES = (
    "Can a contractor be a strategic partner?",
    "Who holds final responsibility?",
    "What are the four stages?",
    "Is Glick's range a maturity model?",
    "Kan een opdrachtnemer een strategische partner zijn?",
    "Wie heeft de eindverantwoordelijkheid?",
)


# --- page -----------------------------------------------------------------------------------------------

@st.cache_resource(show_spinner=False)
def _answerer(key: str, _settings: Settings):
    """One answerer (model, store, retriever) per process and settings."""
    return get_answerer(_settings)


def load_answerer(settings: Settings):
    from .store import store_exists

    if not store_exists(settings):
        from ingest import ingest_corpus

        # Idempotent under the store's write lock: a second session arriving meanwhile finds it all unchanged.
        with st.spinner("First run: ingesting the built-in corpus (about half a minute)…"):
            ingest_corpus(settings)
    with st.spinner("Loading the model and the store…"):
        return _answerer(settings.model_dump_json(), settings)


def session_answerer(settings: Settings, owner: str):
    """This session's answerer: the same model, store and retriever as every session of the process, seen
    through the session's owner (settings.workspace)."""
    state = st.session_state
    scoped = settings.model_copy(update={"workspace": owner})
    key = scoped.model_dump_json()
    if state.get("answerer_key") != key:
        state.answerer, state.answerer_key = get_answerer(scoped), key
    return state.answerer


def count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _queue(question: str) -> None:
    st.session_state.queued = question


def _clear() -> None:
    st.session_state.exchanges = []


def render() -> None:
    state = st.session_state
    if "presenter" not in state:
        state.presenter = st.query_params.get("presenter", "").lower() in ("1", "true", "yes", "on")
    presenter = state.presenter
    st.set_page_config(page_title="partnerbot", page_icon="🤝",
                       initial_sidebar_state="collapsed" if presenter else "expanded")
    if presenter:
        st.html(PRESENTER_CSS)
    state.setdefault("exchanges", [])
    head, switch = st.columns([3, 1], vertical_alignment="bottom")
    head.title("partnerbot")
    switch.toggle("Presenter", key="presenter",
                  help="Presenter mode: larger text and a collapsed sidebar, for a projector.")

    settings = info = answerer = None
    with shown_errors():
        settings = get_settings()
        load_answerer(settings)
        answerer = session_answerer(settings, session_owner_id())
        purge_now_and_then(settings)
        from .store import open_store

        info = open_store(settings).info()
        st.caption(f"Answers by the {esc(mode_label(settings))} · corpus: {esc(corpus_label(info))} · "
                   f"{esc(scope_label(settings))}")
    from .explore import explore_page

    st.page_link(explore_page(), label="Relationship explorer: the articles as pictures; place your own relationship")
    if answerer is None:
        return

    with st.expander("Example questions", expanded=not state.exchanges):
        columns = st.columns(2)
        for number, example in enumerate(EXAMPLES):
            columns[number % 2].button(example, key=f"example-{number}", on_click=_queue, args=(example,),
                                       width="stretch")
    for question, result in state.exchanges:
        with st.chat_message("user"):
            st.markdown(esc(question))
        with st.chat_message("assistant"):
            show_answer(result)
    typed = st.chat_input("Ask a question in English or Dutch")
    question = typed or state.pop("queued", None)
    if question:
        ask(answerer, question)
    with st.sidebar:
        sidebar(settings, info, presenter)


def ask(answerer, question: str) -> None:
    """Answer one question under the conversation so far: streamed when the answerer streams, else at once."""
    state = st.session_state
    with st.chat_message("user"):
        st.markdown(esc(question))
    with st.chat_message("assistant"), shown_errors():
        turns = history(state.exchanges)
        if hasattr(answerer, "stream"):
            result = _streamed(answerer.stream(question, turns))
        else:
            with st.spinner("Looking it up…"):
                result = answerer.answer(question, turns)
            show_answer(result)
        state.exchanges.append((question, result))


def _streamed(pieces: Iterable[str | Answer]) -> Answer:
    """Show text pieces as they arrive, then replace them by the final (verified or fallback) answer."""
    final: list[Answer] = []

    def text() -> Iterator[str]:
        for piece in pieces:
            if isinstance(piece, Answer):
                final.append(piece)
            else:
                yield esc(piece)

    placeholder = st.empty()
    with placeholder.container(), st.spinner("Looking it up…"):
        st.write_stream(text())
    if not final:
        raise PartnerbotError("The answer stream ended without an answer: ask again, or set PARTNERBOT_MODE=rules.")
    with placeholder.container():
        show_answer(final[-1])
    return final[-1]


def show_answer(result: Answer) -> None:
    if result.rewritten_question:
        st.caption(f"Understood as: {esc(result.rewritten_question)}")
    for notice in result.notices:
        st.info(esc(notice), icon="ℹ️")
    st.markdown(esc(result.text))
    details = [f"mode: {result.mode}"] + ([f"verdict: {result.verdict}"] if result.verdict else [])
    st.caption(esc(" · ".join(details)))
    for citation in result.citations:
        source_card(citation)


def sidebar(settings: Settings, info: dict, presenter: bool) -> None:
    state = st.session_state
    st.subheader("Status")
    st.markdown(f"**Answers:** {esc(mode_label(settings))}")
    st.markdown(f"**Corpus:** {esc(corpus_label(info))}")
    st.caption(f"Store: {esc(info['location'])}")
    st.markdown(f"**Documents:** {esc(scope_label(settings))}")

    st.subheader("Conversation")
    meta = {"mode": mode_label(settings), "corpus": corpus_label(info)}
    empty = not state.exchanges
    st.download_button("Download as Markdown", data=to_markdown(state.exchanges, meta), key="export-md",
                       file_name="partnerbot-conversation.md", mime="text/markdown", disabled=empty, on_click="ignore")
    st.download_button("Download as JSON", data=to_json(state.exchanges, meta), key="export-json",
                       file_name="partnerbot-conversation.json", mime="application/json", disabled=empty,
                       on_click="ignore")
    st.button("Clear the conversation", key="clear", on_click=_clear, disabled=empty)

    if presenter:
        st.caption("Presenter mode hides document uploads; switch it off to add or remove documents.")
        return
    with shown_errors():
        documents(settings)
    with shown_errors():
        workspace_panel(settings)
    with shown_errors():
        admin_panel(settings)


def documents(settings: Settings) -> None:
    """Upload form (with progress and per-file errors), this session's documents, each removable, and the
    shared documents (removable by an admin only)."""
    from ingest import list_documents

    state = st.session_state
    owner = session_owner_id()
    st.subheader("Your documents")
    with st.form("upload", clear_on_submit=True, border=False):
        files = st.file_uploader("Add .md, .txt, .pdf or .html files; your answers can then cite them",
                                 accept_multiple_files=True, key="uploads",
                                 help=f"Up to {settings.max_file_mb:g} MB per file (PARTNERBOT_MAX_FILE_MB).")
        target = st.radio("Add to", SHARED_CHOICES, key="upload-target", horizontal=True) if state.get("admin") else None
        submitted = st.form_submit_button("Add documents")
    if submitted and not files:
        st.warning("Choose one or more files first.")
    elif submitted:
        shared = target == SHARED_CHOICES[1] and is_admin(settings, state.get("admin_offered"))
        _ingest_uploads(settings, files, None if shared else owner)
    for kind, message in state.pop("document_notes", []):
        (st.success if kind == "success" else st.error)(esc(message))
    mine = list_documents(settings, owner=owner)
    st.caption(f"Only {'this workspace' if state.get('workspace_code') else 'this browser session'} sees these; "
               f"each is deleted {settings.private_ttl_hours:g} h after its upload." if mine
               else "No documents of your own yet. Only you will see what you add here.")
    for doc in mine:
        _document_row(settings, doc, owner, "remove-")
    shared_docs = list_documents(settings)
    if shared_docs:
        st.subheader("Shared documents")
        st.caption("Every answer on this deployment may cite these." + ("" if state.get("admin") else
                   " Only an admin (or the command line) adds or removes them."))
        for doc in shared_docs:
            _document_row(settings, doc, None, "remove-shared-", removable=bool(state.get("admin")))


SHARED_CHOICES = ("My documents (private)", "The shared store (everyone)")


def _document_row(settings: Settings, doc: dict, owner: str | None, prefix: str, removable: bool = True) -> None:
    label = doc["source_title"] or doc["title"]
    until = (f" · until {time.strftime('%d %b %H:%M', time.localtime(doc['expires']))}"
             if doc.get("expires") else "")
    st.markdown(f"**{esc(label)}**  \n{esc(doc['title'])} · {count(doc['chunks'], 'chunk')}{esc(until)}")
    if removable:
        key = prefix + hashlib.sha1(doc["doc_path"].encode()).hexdigest()[:12]
        st.button("Remove", key=key, icon=":material/delete:", on_click=_remove,
                  args=(settings, doc["doc_path"], label, owner))


def _ingest_uploads(settings: Settings, files, owner: str | None) -> None:
    where = "your documents" if owner else "the shared store"
    with st.status(f"Adding {count(len(files), 'document')} to {where}…", expanded=True) as status:
        bar = st.progress(0.0)

        def progress(done: int, total: int, name: str) -> None:
            bar.progress(done / total, text=f"Reading and embedding {esc(name)}" if name else "Done")

        added, errors = add_uploads(settings, [(f.name, f.getvalue()) for f in files], progress, owner)
        label = f"Added {count(len(added), 'document')}" + (f"; {len(errors)} could not be added" if errors else "")
        status.update(label=label, state="error" if errors else "complete", expanded=False)
    for line in errors:
        st.error(esc(line))
    for name in added:
        st.success(f"Added {esc(name)}" + ("" if owner else " to the shared store"))


def _remove(settings: Settings, doc_path: str, label: str, owner: str | None) -> None:
    state = st.session_state
    try:
        if owner is None and not is_admin(settings, state.get("admin_offered")):  # checked again at the action
            raise PartnerbotError("Only an admin removes shared documents: unlock admin mode first.")
        deleted = remove_upload(settings, doc_path, owner)
        note = ("success", f"Removed {label} ({count(deleted, 'chunk')}).")
    except PartnerbotError as exc:
        note = ("error", str(exc))
    state.document_notes = [note]
