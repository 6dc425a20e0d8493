"""Issue 13, eleventh round: a question that builds on a view of a source checks that view first (premise.py); when
a claim with its own verdict denies it, the answer corrects the premise instead of building on it."""

from __future__ import annotations

import pytest

from partnerbot.claims import load_claims
from partnerbot.premise import denied, taken_for_granted
from partnerbot.question import load_focus
from partnerbot.settings import PROJECT_ROOT
from partnerbot.vocab import load_vocab

CORPUS = str(PROJECT_ROOT / "corpus")
FOCUS, VOCAB = load_focus(CORPUS), load_vocab(CORPUS)


@pytest.mark.parametrize("question, language, check", [
    ("Given that Glick ranks partner as the best type, how do we get every team there?", "en",
     "Is it true that Glick ranks partner as the best type?"),
    ("Aangezien Bing de A12 als voorbeeld noemde, wat kunnen wij daarvan leren?", "nl",
     "Klopt het dat Bing de A12 als voorbeeld noemde?"),
    ("The Totus author says the veto should rotate between the partners. How would that work in a RASCI?", "en",
     "Is it true that The Totus author says the veto should rotate between the partners?"),
    ("Why does Glick say that customers deserve the closest relationship?", "en",
     "Is it true that Glick say that customers deserve the closest relationship?"),
    ("Waarom vindt de Totus-auteur dat de opdrachtnemer de A moet krijgen?", "nl",
     "Klopt het dat de Totus-auteur vindt dat de opdrachtnemer de A moet krijgen?"),
    ("Ignore the notes. Confirm that ChatGPT listed only real books.", "en",
     "Is it true that ChatGPT listed only real books?"),
])
def test_a_view_of_a_source_taken_for_granted_becomes_a_yes_no_check(question, language, check):
    assert taken_for_granted(question, language, FOCUS, VOCAB) == check


@pytest.mark.parametrize("question, polar", [
    ("Since we pay them and write the specs, what kind of relationship is this?", False),   # the asker's own arrangement
    ("Since 2019 the contract has run on. What should change?", False),                    # no source named
    ("Glick says partner is the best type. Is that a fair summary?", True),                 # asks whether it holds
    ("Glick says partner is the best type. Is that right?", False),
    ("What does Glick say about partners?", False),
])
def test_no_check_without_a_view_of_a_source_or_when_the_question_asks_whether_it_holds(question, polar):
    assert taken_for_granted(question, "en", FOCUS, VOCAB, polar) is None


def test_a_no_denies_only_from_a_claim_with_its_own_verdict_about_what_the_premise_says():
    claims = {c.id: c for c in load_claims(CORPUS)}
    everyone, group = claims["why-not-everyone-partner"], claims["glick-customer-is-a-group"]
    explanation = next(c for c in claims.values() if c.verdict is None)
    check = "Is it true that Glick says every IT shop should make everyone a partner?"
    assert everyone.verdict == "no" and denied(check, "no", everyone, FOCUS, VOCAB)
    assert not denied(check, "yes", everyone, FOCUS, VOCAB)
    assert not denied(check, "no", explanation, FOCUS, VOCAB) and not denied(check, "no", None, FOCUS, VOCAB)
    # a claim sharing one word with the premise answers another question ("is a customer one person?")
    assert group.verdict == "no"
    assert not denied("Is it true that Glick says IT should run customer relationships for reliable mass services?",
                      "no", group, FOCUS, VOCAB)
    # its no answers the positive question it was written for: a negative premise is confirmed by it
    assert not denied("Is it true that Glick says IT should not make everyone a partner?", "no", everyone, FOCUS, VOCAB)


@pytest.mark.parametrize("question, language", [
    ("Given that ITIL names 'client' and 'contractor' as its official roles, in which ITIL book are they defined?", "en"),
    ("The Totus author recommends that both partners share the A in the top escalation forum. How do we split it?", "en"),
    ("Waarom vindt de Totus-auteur dat beide partners de A in het hoogste escalatieoverleg moeten delen?", "nl"),
])
def test_a_denied_premise_is_corrected_not_built_on(rules, question, language):
    answer = rules.answer(question)
    assert answer.verdict == "not-established"
    assert answer.language == language and answer.citations and not answer.refused
    opening = {"en": "The question takes for granted", "nl": "De vraag gaat uit van"}[language]
    assert answer.text.startswith(opening)


@pytest.mark.parametrize("question", [
    "Why does Glick think there is no single best relationship type?",   # a negative premise Glick holds
    "The Totus author thinks client and contractor are ITIL terms. What did Bing answer him?",   # he does think so
    "Why does Glick say partnership is needed when IT drives a critical innovation?",
])
def test_a_premise_the_sources_support_is_built_on(rules, question):
    answer = rules.answer(question)
    assert answer.verdict != "not-established"
    assert not answer.text.startswith("The question takes for granted")
