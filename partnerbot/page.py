"""The Streamlit page's logic (kept out of app.py so it is importable and testable)."""

from __future__ import annotations


def render() -> None:
    import streamlit as st

    from .answer import get_answerer
    from .settings import get_settings

    st.set_page_config(page_title="partnerbot", page_icon="🤝")
    st.title("partnerbot")

    @st.cache_resource(show_spinner="Loading the model and the store…")
    def answerer():
        from ingest import ingest_corpus
        from .store import store_exists

        cfg = get_settings()
        if not store_exists(cfg):
            ingest_corpus(cfg)
        return get_answerer(cfg)

    bot = answerer()
    history = st.session_state.setdefault("history", [])
    for turn in history:
        with st.chat_message(turn["role"]):
            st.markdown(turn["content"])
    if question := st.chat_input("Ask about clients, contractors, suppliers and partners"):
        with st.chat_message("user"):
            st.markdown(question)
        result = bot.answer(question, history)
        with st.chat_message("assistant"):
            st.markdown(result.text)
            for c in result.citations:
                st.caption(f"[{c.marker}] {c.title} — {c.source_title} ({c.voice})")
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": result.text}]
