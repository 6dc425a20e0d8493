"""citations.py: marker parsing per sentence, support checks, dropping and renumbering."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from partnerbot.citations import SupportChecker, split_sentences
from partnerbot.retrieval import tokens
from partnerbot.settings import PROJECT_ROOT, get_settings

PASSAGES = {
    1: "The client commissions the assignment, sets its objectives and judges the result.",
    2: "The contractor carries out the assignment in return for payment.",
    3: "A strategic partnership means sharing risks and pooling knowledge between equal organisations.",
}


def checker(similarity=None) -> SupportChecker:
    cfg = get_settings()
    return SupportChecker(tokens, cfg.support_threshold, cfg.support_cosine, similarity)


def test_citations_imports_nothing_of_ours():
    tree = ast.parse((PROJECT_ROOT / "partnerbot" / "citations.py").read_text(encoding="utf-8"))
    imported = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert imported and not [m for m in imported if m.startswith(("partnerbot", "ingest", "."))]


def test_markers_belong_to_their_sentence_before_or_after_the_full_stop():
    sentences = split_sentences("The client sets objectives [1]. The contractor is paid. [2][3] "
                                "Both matter [1, 3]! Is that all?")
    assert [(s.text, s.markers) for s in sentences] == [
        ("The client sets objectives.", [1]), ("The contractor is paid.", [2, 3]),
        ("Both matter!", [1, 3]), ("Is that all?", [])]


def test_abbreviations_and_lines():
    sentences = split_sentences("Partners share risks, e.g. Joint ventures do [3].\n\n- A bullet without a stop [2]\nLast one [1].")
    assert [s.text for s in sentences] == ["Partners share risks, e.g. Joint ventures do.", "- A bullet without a stop",
                                           "Last one."]
    assert [s.new_line for s in sentences] == ["", "\n\n", "\n"]


def test_supported_sentences_are_kept_and_renumbered_by_first_use():
    text = "The contractor carries out the assignment for payment [2]. The client sets the objectives [1]."
    result = checker().verify(text, PASSAGES)
    assert result.text == ("The contractor carries out the assignment for payment. [1] "
                           "The client sets the objectives. [2]")
    assert result.sources == [2, 1]
    assert result.dropped == []


def test_uncited_unknown_and_unsupported_sentences_are_dropped():
    text = ("The client judges the result [1]. Partners always sign ten-year contracts [3]. "
            "The contractor is paid [9]. Everyone agrees on this.")
    result = checker().verify(text, PASSAGES)
    assert result.text == "The client judges the result. [1]"
    reasons = {c.sentence.text: c.reason for c in result.dropped}
    assert reasons == {"Partners always sign ten-year contracts.": "not supported by the passage it cites",
                       "The contractor is paid.": "citing a passage number that was not given",
                       "Everyone agrees on this.": "without a citation"}


def test_only_supporting_markers_stay_on_a_kept_sentence():
    result = checker().verify("The contractor carries out the assignment for payment [3][2][7].", PASSAGES)
    assert result.text == "The contractor carries out the assignment for payment. [1]"
    assert result.sources == [2]


def test_similarity_counts_as_support_when_words_differ():
    paraphrase = "Whoever performs the work gets paid for it [2]."
    assert checker().verify(paraphrase, PASSAGES).text == ""
    cfg = get_settings()
    close = checker(lambda a, b: cfg.support_cosine if "contractor" in b else 0.0)
    assert close.verify(paraphrase, PASSAGES).text == "Whoever performs the work gets paid for it. [1]"
    far = checker(lambda a, b: cfg.support_cosine - 0.01)
    assert far.verify(paraphrase, PASSAGES).text == ""


def test_a_dropped_sentence_keeps_its_paragraph_break():
    text = "The client judges the result [1].\n\nUnsupported claim about nothing [1]. The contractor carries out the assignment [2]."
    assert checker().verify(text, PASSAGES).text == ("The client judges the result. [1]\n\n"
                                                     "The contractor carries out the assignment. [2]")


@pytest.mark.slow
def test_default_thresholds_separate_supported_from_invented_sentences(corpus_settings):
    """Calibration on real corpus passages with the real embedder: faithful restatements pass, invented
    on-topic claims (which share the domain's words) do not."""
    from partnerbot.llm import LLMAnswerer
    from partnerbot.retrieval import get_retriever

    retriever = get_retriever(corpus_settings)

    def section(note: str, heading: str) -> str:
        return next(p.text for p in retriever.note_passages(note) if heading in p.section)

    becoming = section("totus/chatgpt-first-answer", "can become a strategic partner")
    wariness = section("totus/author-conclusion", "Reservations")
    check = SupportChecker(tokens, corpus_settings.support_threshold, corpus_settings.support_cosine,
                           LLMAnswerer(corpus_settings)._similarity())
    faithful = {"ChatGPT answered that a contractor can become a strategic partner, but not automatically.": becoming,
                "So being a contractor does not by itself make a party a strategic partner.": becoming,
                "The Totus author notes that people in practice are wary of the term strategic partner.": wariness}
    invented = {"ChatGPT claimed contractors are never trusted with confidential information.": becoming,
                "ChatGPT said strategic partnerships are always written into a formal contract with equity.": becoming,
                "The author concludes that the word partner is overused and mostly marketing.": wariness,
                "The author insists that every contractor must hold shares in its client's company.": wariness}
    for sentence, passage in faithful.items():
        assert check.supports(sentence, passage), sentence
    for sentence, passage in invented.items():
        assert not check.supports(sentence, passage), sentence
