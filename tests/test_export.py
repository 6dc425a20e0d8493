"""Conversation export (Markdown, JSON) and the escaping that keeps document text from rendering as markup."""

from __future__ import annotations

import html
import json
import re

import pytest
from markdown_it import MarkdownIt

from partnerbot.answer import Answer, Citation
from partnerbot.export import (MARKDOWN_INLINE, corpus_label, escape_markdown, history, mode_label, to_dict, to_json,
                               to_markdown, voice_badge)
from partnerbot.settings import get_settings

NASTY = [
    "<script>alert('x')</script> and <img src=x onerror=\"alert(1)\">",
    "[click me](javascript:alert(2)) ![pixel](http://127.0.0.1/p.png) <https://example.org>",
    "# Heading\n- item\n1. first\n> quote\n---\n| a | b |\n|---|---|",
    "*bold* _em_ `code` $x^2$ :red[colour] :material/home: &lt;b&gt; &amp; \\ backslash",
    "Plain text: the client (opdrachtgever) keeps the veto.",
]
QUESTIONS = ["Can a contractor be a strategic partner?", "And a supplier?"]
RENDER = MarkdownIt("commonmark")   # CommonMark with raw HTML enabled: the strictest test of escaping


@pytest.fixture(scope="module")
def conversation(corpus_settings):
    """Two real turns from the rules answerer, the second a follow-up that leans on the first."""
    from partnerbot.rules import RulesAnswerer

    rules = RulesAnswerer(corpus_settings)
    first = rules.answer(QUESTIONS[0])
    second = rules.answer(QUESTIONS[1], history([(QUESTIONS[0], first)]))
    return [(QUESTIONS[0], first), (QUESTIONS[1], second)]


def hostile_answer() -> Answer:
    passage = "\n".join(NASTY)
    citation = Citation(marker=1, chunk_id="c1", doc_path="/uploads/evil.md", title="<b>Evil</b> [doc](javascript:x)",
                        source_title="evil.md", author="your document", voice="document", text=passage, score=1.0,
                        caveat="<i>trust me</i>")
    return Answer(text=NASTY[0] + " [1]", citations=[citation], notices=["<img src=y onerror=alert(3)>"],
                  rewritten_question="<script>q</script>")


@pytest.mark.parametrize("text", NASTY)
def test_escaped_text_renders_literally(text):
    rendered = RENDER.render(escape_markdown(text))
    assert re.fullmatch(r"<p>(.*)</p>\n", rendered, re.S), rendered     # one paragraph, no other elements
    assert html.unescape(rendered[3:-5]) == text


def test_history_alternates_user_and_assistant(conversation):
    turns = history(conversation)
    assert [t["role"] for t in turns] == ["user", "assistant", "user", "assistant"]
    answers = [answer.text for _question, answer in conversation]
    assert [t["content"] for t in turns] == [QUESTIONS[0], answers[0], QUESTIONS[1], answers[1]]
    assert history([]) == []


def test_json_export_holds_every_turn_and_citation(conversation):
    data = json.loads(to_json(conversation, {"mode": "offline rules answerer"}))
    assert data["partnerbot_export"] == 1 and data["meta"] == {"mode": "offline rules answerer"}
    assert data["turns"] == [answer.to_dict(question) for question, answer in conversation]
    first = data["turns"][0]
    assert first["question"] == QUESTIONS[0] and first["citations"]
    assert {"marker", "title", "source_title", "author", "voice", "text", "caveat"} <= set(first["citations"][0])
    assert data["turns"][1]["rewritten_question"]
    assert to_dict([])["turns"] == []


def test_markdown_export_reads_as_a_transcript(conversation):
    text = to_markdown(conversation, {"mode": "offline rules answerer", "corpus": "48 notes"})
    assert text.startswith("# partnerbot conversation\n")
    assert "mode: offline rules answerer" in text and "corpus: 48 notes" in text
    for number, (question, answer) in enumerate(conversation, 1):
        assert f"## {number}. {escape_markdown(question, MARKDOWN_INLINE)}" in text
        assert escape_markdown(answer.text, MARKDOWN_INLINE) in text
        for c in answer.citations:
            assert f"{c.marker}. **{escape_markdown(c.title, MARKDOWN_INLINE)}** ({voice_badge(c.voice)})" in text
            first_line = c.text.strip().splitlines()[0].strip()
            assert f"   > {escape_markdown(first_line, MARKDOWN_INLINE)}" in text
            if c.caveat:
                assert f"*Caveat: {escape_markdown(c.caveat, MARKDOWN_INLINE)}*" in text
    assert f"*Understood as: {escape_markdown(conversation[1][1].rewritten_question, MARKDOWN_INLINE)}*" in text
    rendered = RENDER.render(text)
    assert rendered.count("<h2>") == 2 and "<blockquote>" in rendered


def test_exports_of_hostile_documents_carry_no_markup():
    answer = hostile_answer()
    exported = to_markdown([("<b>hi</b>", answer)])
    rendered = RENDER.render(exported)
    tags = set(re.findall(r"<([a-z0-9]+)", rendered))
    assert tags <= {"h1", "h2", "p", "em", "strong", "ol", "li", "blockquote", "hr", "h3", "ul"}, tags
    for literal in ("<script>alert('x')</script>", "onerror", "javascript:x", "<i>trust me</i>", "<script>q</script>"):
        assert literal in html.unescape(rendered)
    assert json.loads(to_json([("q", answer)]))["turns"][0]["citations"][0]["text"] == "\n".join(NASTY)


def test_mode_label_names_model_and_host_never_the_key(tmp_path):
    assert mode_label(get_settings(store=tmp_path)) == "offline rules answerer"
    settings = get_settings(store=tmp_path, openai_api_key="sk-secret-123", llm_model="gpt-test",
                            llm_base_url="http://user:pw@llm.internal:8080/v1")
    label = mode_label(settings)
    assert label == "LLM gpt-test at llm.internal"
    assert "secret" not in label and "pw" not in label
    default_host = get_settings(store=tmp_path, openai_api_key="sk-secret-123")
    assert mode_label(default_host) == "LLM gpt-4o-mini at the OpenAI API"
    assert mode_label(get_settings(store=tmp_path, openai_api_key="sk-x", mode="rules")) == "offline rules answerer"


def test_corpus_label():
    assert corpus_label({"notes": 48, "chunks": 140, "last_ingest": "2025-01-02T03:04:05+00:00"}) == \
        "48 notes, 140 chunks, last ingest 2025-01-02 03:04 UTC"
    assert corpus_label({"notes": 1, "chunks": 2, "last_ingest": "2025-01-02T05:04:05+02:00"}).endswith("03:04 UTC")
    assert corpus_label({"notes": 1, "chunks": 2, "last_ingest": "yesterday"}).endswith("last ingest yesterday")
    assert corpus_label({"notes": 0, "chunks": 0, "last_ingest": None}) == "0 notes, 0 chunks"


def test_voice_badges_cover_every_voice():
    from ingest.loaders import VOICES

    assert [voice_badge(v) for v in VOICES] == ["author", "ChatGPT", "Bing", "reader", "literature", "your document"]
