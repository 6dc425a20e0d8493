"""Scope: the rules answerer refuses what its sources cannot speak to (partnerbot/scope.py, focus.yaml practical)
and still answers questions that only look unusual."""

import pytest


@pytest.mark.parametrize("question, name", [
    ("Should we pick Zendesk or Freshdesk to log the escalations of our strategic partners?", "Zendesk"),
    ("Wat schrijft NEN 7510 voor aan leveranciers die onze partners hosten?", "NEN"),
    ("What did the COBIT 2019 framework change for supplier contracts?", "COBIT"),
])
def test_a_question_about_a_name_no_source_mentions_is_refused_and_says_which(rules, question, name):
    answer = rules.answer(question)
    assert answer.refused and not answer.citations
    assert name in answer.text


@pytest.mark.parametrize("question", [
    "Our vendor wants a 9% rise next year; which negotiation tactics work best against that?",
    "Hoe kan ik een raamovereenkomst met een leverancier tussentijds opzeggen?",
    "A client has not paid us for four months: should we hand it to a debt collection agency?",
    "What is the EU tender threshold for works contracts awarded by provinces?",
])
def test_practical_or_unfamiliar_questions_are_refused(rules, question):
    answer = rules.answer(question)
    assert answer.refused and not answer.citations


@pytest.mark.parametrize("question, source", [
    # an unknown name beside names the sources know: answered, so the premise can be corrected
    ("Give me the page numbers of Dyer and Kale's CEO's handbook in Harvard style, quickly please.", "literature/"),
    ("Waarom lopen zoveel strategische allianties stuk, en helpt een aparte alliantiefunctie?", "literature/"),
    # a company named as a party of the relationship: the question is about the roles
    ("Can Accenture be our contractor and our strategic partner at once?", "totus/"),
    # a question naming an author of the sources is in scope even when it names no topic
    ("Welke drie manieren om waarde te creëren noemen Doz en Hamel?", "literature/doz-hamel-1998"),
    # a plain modifier no source uses before a noun they do use: the noun is what is asked about
    ("What everyday example does Glick use to explain how a client differs from a customer?", "glick/clients"),
    # a phrase the question quotes is evidence however little else of the question its passage shares
    ("Who wrote 'take what we give you and like it'?", "glick/customers"),
    ("Wie schreef 'take what we give you and like it'?", "glick/customers"),
])
def test_unusual_in_scope_questions_are_answered(rules, question, source):
    answer = rules.answer(question)
    assert not answer.refused
    assert any(c.doc_id.startswith(source) for c in answer.citations), [c.doc_id for c in answer.citations]
