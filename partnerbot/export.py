"""A conversation as Markdown or JSON, citations included. Pure functions: the page and the CLI both use them.

A conversation is a sequence of (question, Answer) pairs. Document text is untrusted (users upload their own
files), so everything that came from a document or an answer is Markdown-escaped before it is rendered.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Iterable, Sequence
from urllib.parse import urlparse

from .answer import Answer, resolve_mode
from .settings import Settings

EXPORT_VERSION = 1
Exchange = tuple[str, Answer]

# Short labels for the voice badge on a source card (and in exports).
VOICE_BADGES = {"author": "author", "chatgpt": "ChatGPT", "bing": "Bing", "reader": "reader",
                "literature": "literature", "document": "your document"}

# Every ASCII punctuation character CommonMark lets us backslash-escape that can start markup: HTML tags,
# links and images, emphasis, code, headings and lists, tables, LaTeX ($) and Streamlit directives (:red[...]).
MARKDOWN_ALL = frozenset("\\`*_{}[]()<>#+-.!|~$&:=")
# The ones that matter inside running text of an exported file (keeps the raw .md readable).
MARKDOWN_INLINE = frozenset("\\`*_[]<>|$&~")


def escape_markdown(text: object, chars: frozenset = MARKDOWN_ALL) -> str:
    """Text that renders literally in Markdown: no HTML, links, images or formatting survive."""
    return "".join("\\" + ch if ch in chars else ch for ch in str(text or ""))


def voice_badge(voice: str) -> str:
    return VOICE_BADGES.get(voice, voice or "source")


def mode_label(settings: Settings) -> str:
    """How answers are made, for people: the offline rules answerer, or the LLM's model and host (never the key)."""
    if resolve_mode(settings) == "rules":
        return "offline rules answerer"
    host = urlparse(settings.llm_base_url).hostname if settings.llm_base_url else None
    return f"LLM {settings.llm_model} at {host or 'the OpenAI API'}"


def corpus_label(info: dict) -> str:
    """'48 notes, 140 chunks, last ingest 2025-01-02 03:04 UTC' from Store.info()."""
    text = f"{info.get('notes', 0)} notes, {info.get('chunks', 0)} chunks"
    when = info.get("last_ingest")
    if when:
        try:
            when = datetime.fromisoformat(when).astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        except (TypeError, ValueError):
            pass  # show whatever the store recorded
        text += f", last ingest {when}"
    return text


def history(exchanges: Iterable[Exchange]) -> list[dict]:
    """The conversation as the answerers' history: [{"role": "user"|"assistant", "content": str}, ...]."""
    return [turn for question, answer in exchanges
            for turn in ({"role": "user", "content": question}, {"role": "assistant", "content": answer.text})]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def to_dict(exchanges: Iterable[Exchange], meta: dict | None = None) -> dict:
    """The JSON export as a dict: version, time, meta (mode, corpus...) and one entry per turn."""
    return {"partnerbot_export": EXPORT_VERSION, "exported_at": _now(), "meta": dict(meta or {}),
            "turns": [answer.to_dict(question) for question, answer in exchanges]}


def to_json(exchanges: Iterable[Exchange], meta: dict | None = None) -> str:
    return json.dumps(to_dict(exchanges, meta), ensure_ascii=False, indent=2)


def _quote(text: str) -> list[str]:
    lines = [escape_markdown(line.strip(), MARKDOWN_INLINE) for line in str(text).strip().splitlines()]
    return ["> " + line if line else ">" for line in lines]


def to_markdown(exchanges: Sequence[Exchange], meta: dict | None = None) -> str:
    """A readable transcript: each question, its answer, notices, verdict and numbered sources with passages."""
    esc = lambda value: escape_markdown(value, MARKDOWN_INLINE)  # noqa: E731
    out = ["# partnerbot conversation", ""]
    facts = [f"exported {_now()}"] + [f"{key}: {esc(value)}" for key, value in (meta or {}).items() if value]
    out += [" · ".join(facts), ""]
    for number, (question, answer) in enumerate(exchanges, 1):
        out += [f"## {number}. {esc(question)}", ""]
        if answer.rewritten_question:
            out += [f"*Understood as: {esc(answer.rewritten_question)}*", ""]
        out += [f"**Note:** {esc(notice)}\n" for notice in answer.notices]
        out += [esc(answer.text), ""]
        details = [f"mode: {answer.mode}"] + ([f"verdict: {answer.verdict}"] if answer.verdict else [])
        out += [f"*{' · '.join(details)}*", ""]
        if answer.citations:
            out += ["**Sources**", ""]
        for c in answer.citations:
            where = " · ".join(esc(x) for x in (c.source_title, c.author, c.section) if x)
            out += [f"{c.marker}. **{esc(c.title)}** ({voice_badge(c.voice)}) — {where}", ""]
            out += ["   " + line for line in _quote(c.text)] + [""]
            if c.caveat:
                out += [f"   *Caveat: {esc(c.caveat)}*", ""]
    return "\n".join(out).rstrip() + "\n"
