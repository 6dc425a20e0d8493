"""citations.py: marker parsing per sentence, support checks, dropping and renumbering."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from partnerbot.citations import Source, SupportChecker, split_sentences
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
    assert [s.text for s in sentences] == ["Partners share risks, e.g. Joint ventures do.", "A bullet without a stop",
                                           "Last one."]
    assert [s.prefix for s in sentences] == ["", "- ", ""]
    assert [s.new_line for s in sentences] == ["", "\n\n", "\n"]


def test_a_numbered_item_is_one_sentence_with_its_number():
    sentences = split_sentences("The stages are:\n1. **Supplier–customer**: single transactions [2].\n2. Partnership: shared risks [3].")
    assert [(s.prefix, s.text, s.markers) for s in sentences] == [
        ("", "The stages are:", []), ("1. ", "**Supplier–customer**: single transactions.", [2]),
        ("2. ", "Partnership: shared risks.", [3])]


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
    from partnerbot.support import Judge

    judge = Judge(corpus_settings, retriever.vocab, LLMAnswerer(corpus_settings)._similarity(), "en")
    check = SupportChecker(tokens, corpus_settings.support_threshold, corpus_settings.support_cosine, judge=judge)
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


# --- what careful models write around cited sentences ------------------------------------------------------

def test_a_bare_verdict_stays_as_the_lead_of_the_supported_sentence_after_it():
    text = "No. The contractor carries out the assignment for payment [2]."
    assert checker().verify(text, PASSAGES).text == "No. The contractor carries out the assignment for payment. [1]"
    dutch = checker().verify("Nee. The contractor carries out the assignment for payment [2].", PASSAGES)
    assert dutch.text.startswith("Nee. The contractor")
    # a verdict with nothing supported after it is a claim of its own: it goes
    alone = checker().verify("Yes, but not automatically. Partners always sign ten-year contracts [3].", PASSAGES)
    assert alone.text == "" and len(alone.dropped) == 2


def test_a_list_keeps_its_numbers_and_its_lead_in():
    text = ("The client and the contractor have different roles:\n"
            "1. The client sets the objectives [1].\n2. The contractor carries out the assignment [2].\n"
            "3. Partners always sign ten-year contracts [3].")
    result = checker().verify(text, PASSAGES)
    assert result.text == ("The client and the contractor have different roles:\n1. The client sets the objectives. [1]\n"
                           "2. The contractor carries out the assignment. [2]")


def test_a_lead_in_that_adds_a_claim_of_its_own_is_dropped():
    text = "Lawyers disagree strongly about this:\n1. The client sets the objectives [1]."
    assert checker().verify(text, PASSAGES).text == "1. The client sets the objectives. [1]"


BOTS = {1: Source("Bing (attributed) claimed that a client and a contractor can be strategic partners when they "
                  "share a long-term vision.", voice="bing"),
        2: Source("The author concludes that client and contractor are a separate dimension.", voice="author")}


def test_a_closing_caveat_about_cited_chatbot_answers_stays():
    text = ("Bing claimed that a client and a contractor can be strategic partners [1]. "
            "Note that this is a quoted chatbot answer, not established fact.")
    assert checker().verify(text, BOTS).text.endswith("[1] Note that this is a quoted chatbot answer, not established fact.")
    # without a chatbot passage cited, or with a claim inside, it is just an uncited sentence
    assert "Note" not in checker().verify("The author concludes that client and contractor are a separate dimension [2]. "
                                          "Note that this is a quoted chatbot answer, not established fact.", BOTS).text
    assert "cheaper" not in checker().verify("Bing claimed that a client and a contractor can be strategic partners [1]. "
                                             "Note that Bing is cheaper than ChatGPT.", BOTS).text


def test_a_chatbot_claim_stated_as_fact_gets_its_attribution():
    text = "A client and a contractor can be strategic partners when they share a long-term vision [1]."
    assert checker().verify(text, BOTS).text == ("Bing answered that a client and a contractor can be strategic "
                                                 "partners when they share a long-term vision. [1]")
    attributed = "Bing claimed that a client and a contractor can be strategic partners [1]."
    assert checker().verify(attributed, BOTS).text == "Bing claimed that a client and a contractor can be strategic partners. [1]"
    dutch = SupportChecker(tokens, 0.6, 0.75, judge=lambda s, src: True, language="nl")
    assert dutch.verify("Een opdrachtnemer kan strategisch partner zijn [1].", BOTS).text == (
        "Bing antwoordde: Een opdrachtnemer kan strategisch partner zijn. [1]")
