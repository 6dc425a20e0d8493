"""Issue 13, third round: answers completed for the question's own subject words (complete.py), questions that
offer parties to choose between, and described arrangements placed on Glick's range with the type as verdict."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from partnerbot.complete import _best_unsaid, wanted_words
from partnerbot.question import understand
from partnerbot.rules import detect_intents
from partnerbot.stance import Scored


def _q(rules, text):
    return understand(text, rules.vocab, rules.focus, detect_intents(text))


def _sentences(text: str) -> list[str]:
    return re.findall(r"[^\]]*?\[\d+\]", text)


def test_wanted_words_are_the_questions_rare_subject_words_not_its_framing(rules):
    q = _q(rules, "What did ChatGPT say about the difference, according to the author?")
    assert wanted_words(q, [], rules.focus, rules.vocab, rules.retriever.rarity) == {}
    q = _q(rules, "Does a DBFM contract with Rijkswaterstaat make the builder a partner?")
    wanted = wanted_words(q, [], rules.focus, rules.vocab, rules.retriever.rarity)
    assert {"dbfm", "rijkswaterstaat"} <= set(wanted)
    said = ["Rijkswaterstaat uses DBFM contracts."]
    assert not {"dbfm", "rijkswaterstaat"} & set(wanted_words(q, said, rules.focus, rules.vocab,
                                                              rules.retriever.rarity))


def test_an_answer_gets_a_cited_sentence_for_the_subject_word_it_leaves_out(rules):
    """A described situation (answered from focus.yaml's situation sentences, which never name DBFM) that names a
    contract form gets the passage sentence about that form, cited, after its own sentences."""
    question = ("We are a consortium with a twenty-year DBFM contract for a motorway; the agency sets the "
                "requirements and pays for availability. Are we strategic partners?")
    answer = rules.answer(question)
    sentences = _sentences(answer.text)
    assert "DBFM" not in sentences[0] and any("DBFM" in s for s in sentences[1:])
    markers = {int(m) for m in re.findall(r"\[(\d+)\]", answer.text)}
    assert markers == {c.marker for c in answer.citations}
    assert any(c.doc_id.startswith("literature/") for c in answer.citations)


def test_a_claim_answer_to_a_question_it_fully_covers_is_not_padded(rules):
    """The canonical question of a claim that names everything it asks gets just the claim's sentences."""
    claim = next(c for c in rules.claims if c.id == "define-rasci")
    question = next(q for q in claim.questions if rules.vocab.language(q) == "en")
    answer = rules.answer(question)
    assert answer.claim_id == "define-rasci"
    assert len(_sentences(answer.text)) == len(claim.sentences["en"])


@pytest.mark.parametrize("text, choice", [
    ("In Glick's terms, are the units our customers, our clients or our partners?", True),
    ("So are we partners or just the contractor?", True),
    ("Zijn dat volgens Glick customers of clients?", True),
    ("Zijn we partners of gewoon opdrachtnemer?", True),
    ("Is it possible for a party to be both the contractor and a strategic partner of the same client?", False),
    ("Can a contractor be a strategic partner?", False),
])
def test_a_question_offering_parties_asks_which_not_yes_or_no(rules, text, choice):
    q = _q(rules, text)
    assert q.asks_choice is choice
    if choice:
        assert not q.asks_yes_no


@pytest.mark.parametrize("question, kind", [
    ("Our data team makes reports for every department, each designed around that department's own questions. "
     "Using Glick's types, are the departments our customers, our clients or our partners?", "client"),
    ("We sell one standard HR app to hundreds of firms and we alone decide the roadmap and the price. In Glick's "
     "terms, customers or clients?", "customer"),
    ("Wij verkopen een standaard app aan honderden bedrijven en wij bepalen de prijs. Zijn dat volgens Glick "
     "customers of clients?", "customer"),
    ("With the cardiology unit we are building a completely new monitoring system; nobody knows yet what it should "
     "look like and we discover what works as we go. What is that relationship in Glick's terms?", "partner"),
])
def test_a_described_arrangement_asked_in_glicks_terms_gets_the_type_as_verdict(rules, question, kind):
    answer = rules.answer(question)
    assert answer.verdict == kind and not answer.refused
    assert any(c.doc_id.startswith("glick/") for c in answer.citations)
    lead = _sentences(answer.text)[0].lower()   # the answer leads with the type it places the arrangement in
    assert any(name in lead for name in {"customer": ("customer", "klantrelatie"), "client": ("client", "cliënt"),
                                         "partner": ("partner",)}[kind])


@pytest.mark.parametrize("asked, lead", [
    ("In Glick's terms, are those firms our clients?", "No: "),
    ("In Glick's terms, are those firms our partners rather than just customers?", ""),
    ("In Glick's terms, are those firms customers to us?", "Yes: "),
    ("Our sales team calls those firms our partners. In Glick's terms, is that right?", "No: "),
])
def test_a_yes_no_question_about_one_glick_type_is_answered_yes_or_no(rules, asked, lead):
    """Yes or no about the one type a question names, none when it weighs several; the lead names the type the
    arrangement is placed in (customer), which is the verdict unless the question names another type: that is a
    no (what others call it is asked about the type, so the type stays the verdict)."""
    answer = rules.answer("We sell one standard HR app to hundreds of firms and we alone decide the roadmap and the "
                          f"price. {asked}")
    first = _sentences(answer.text)[0]
    assert answer.verdict == ("no" if asked.endswith("our clients?") else "customer") and "customer" in first
    assert first.startswith(lead) and (lead or not first.startswith(("Yes", "No")))


@pytest.mark.parametrize("asked, verdict", [
    ("Our new CFO wants to treat those firms as partners from now on. Would Glick back that approach?", "no"),
    ("We plan to keep serving them as customers. Would Glick support that?", "yes"),
    ("Onze directeur wil die bedrijven voortaan als partners behandelen. Is dat verstandig volgens Glick?", "no"),
])
def test_a_proposed_approach_is_answered_yes_or_no_not_with_a_type(rules, asked, verdict):
    """A described arrangement asked whether an approach fits names no type in its question sentence: the verdict
    is yes or no (the lead still names the type it is placed in)."""
    answer = rules.answer("We sell one standard HR app to hundreds of firms and we alone decide the roadmap and the "
                          f"price. {asked}")
    assert answer.verdict == verdict
    assert "customer" in _sentences(answer.text)[0].lower() or "klant" in _sentences(answer.text)[0].lower()


@pytest.mark.parametrize("question, verdict", [
    ("Isn't it simply impossible to be a company's contractor and its strategic partner at once?", "no"),
    ("Are the contractor role and a strategic partnership mutually exclusive?", "no"),
    ("Once we become partners, does the partnership replace the client and contractor roles?", "no"),
    # the claim itself says the roles "do not disappear": asked whether they disappear, no
    ("Verdwijnt het contract tussen opdrachtgever en opdrachtnemer zodra ze strategische partners worden?", "no"),
    ("Can a contractor be a strategic partner?", "yes-with-nuance"),
])
def test_a_question_asking_whether_the_contrary_holds_gets_the_verdict_turned_round(rules, question, verdict):
    answer = rules.answer(question)
    assert answer.verdict == verdict
    leads = {"no": ("No.", "Nee."), "yes-with-nuance": ("Yes, with nuance.",)}
    assert answer.text.startswith(leads[verdict])


@pytest.mark.parametrize("question, first, second", [
    ("How do ChatGPT and Bing differ on whether a contractor can be a strategic partner?", "ChatGPT", "Bing"),
    ("Waarin verschillen Bing en ChatGPT over opdrachtnemers als strategische partner?", "Bing", "ChatGPT"),
])
def test_a_comparison_of_voices_hears_each_voice_in_the_order_named(rules, question, first, second):
    answer = rules.answer(question)
    voices = {c.voice for c in answer.citations}
    assert {"chatgpt", "bing"} <= voices, answer.text
    assert answer.text.index(first) < answer.text.index(second)


def test_both_articles_names_the_totus_author_and_glick_not_the_literature(rules):
    q = _q(rules, "Do both articles mean the same thing by 'partner'?")
    assert q.voices == ["author", "glick"] and "literature" not in q.concepts and q.compares
    answer = rules.answer("Do both articles mean the same thing by 'partner'?")
    docs = {c.doc_id.split("/")[0] for c in answer.citations}
    assert {"totus", "glick"} <= docs


@pytest.mark.parametrize("question", [
    "How can a contractor add real value as a partner while the client stays accountable?",
    "Why can a contractor be a strategic partner?",
    "Hoe kan een opdrachtnemer echt waarde toevoegen als partner?",
])
def test_how_and_why_questions_get_an_explanation_not_a_verdict(rules, question):
    answer = rules.answer(question)
    assert answer.verdict is None and not answer.refused
    assert not re.match(r"(Yes|No|Ja|Nee)\b", answer.text)


def test_everyday_words_of_a_question_never_call_for_another_sentence(rules):
    """Only subject words (names, acronyms, quoted and concept-map terms) do; 'move', 'warn', 'deserve' do not."""
    q = _q(rules, "Should a firm try to move all its customers up over time, and what does Bensaou warn about?")
    wanted = wanted_words(q, [], rules.focus, rules.vocab, rules.retriever.rarity)
    assert not {"move", "warn", "firm", "time"} & set(wanted)
    assert "bensaou" in wanted


def test_a_described_arrangement_that_names_no_party_word_is_still_placed(rules):
    """'the same firm', 'where does that sit in the series?': the signals place it on the Totus series."""
    answer = rules.answer("We have bought our labels from the same firm for nine years. Every spring we renegotiate "
                          "prices and volumes; otherwise it is orders and invoices. Where does that sit in the Totus "
                          "author's series?")
    assert "stage 2" in answer.text and any(c.doc_id == "totus/four-stage-series" for c in answer.citations)


def test_a_question_asking_what_to_do_gets_the_advice_a_source_gives(rules):
    """The hierarchy claim says what happened; asked how to deal with it, the answer adds a passage's advice."""
    question = ("At my client people argue about the hierarchy between client and contractor. How should we deal "
                "with that, according to the Totus author?")
    assert _q(rules, question).answer_type == "advice"
    answer = rules.answer(question)
    advice = rules.focus.type_cues["advice"]
    assert any(advice.search(s) for s in _sentences(answer.text)) and "RA(S)CI" in answer.text


def test_a_yes_no_question_followed_by_another_question_still_gets_its_verdict(rules):
    """'Did ChatGPT give sources? And what happened next?' asks yes or no first; 'do they mean the same? how do
    they differ?' compares, and one claim's sentence does not settle that."""
    q = _q(rules, "Did ChatGPT give any scholarly sources for its literature answer? And what did it advise instead?")
    assert q.polar
    compared = rules.answer("Do the Totus post and Glick's column mean the same thing by 'client'? How do they differ?")
    assert compared.verdict is None


def test_what_sets_them_apart_is_a_contrast_not_a_question_about_other_types(rules):
    q = _q(rules, "In a nutshell, what sets Glick's customers, clients and partners apart from one another?")
    assert "contrast" in q.intents
    assert rules.answer("In a nutshell, what sets Glick's customers, clients and partners apart from one "
                        "another?").claim_id != "glick-other-relationship-types"
    assert rules.answer("Does Glick mention relationship types apart from customers, clients and partners?"
                        ).claim_id == "glick-other-relationship-types"


def test_a_quoted_source_sentence_comes_with_its_neighbour(rules):
    """Issue 13, fifth round: a question that quotes a source ("… one customer at a time. How does he …?") gets that
    sentence and the one next to it (here the one before: the quote closes its passage), each cited."""
    from partnerbot.complete import echoed

    answer = rules.answer("Glick says good customer service happens one customer at a time. How does he reconcile "
                          "that with running a viable business?")
    assert "over and over" in answer.text and "group of people" in answer.text
    assert ", he says," not in answer.text   # the prefix says who; the inner attribution goes
    assert echoed("he said one customer at a time, right?", "Service goes to one customer at a time, he says.")
    assert not echoed("is a customer at a time", "One customer at the time.")


@pytest.mark.parametrize("question, verdict", [
    ("Maakt de UAV-GC de opdrachtnemer tot partner?", "no"),
    ("Are the parties to a design and construct contract under the UAV-GC strategic partners?", "no"),
    ("Can a design and construct contractor also be a strategic partner?", "yes-with-nuance"),
])
def test_more_responsibility_is_no_partnership_yet_and_does_not_rule_one_out(rules, question, verdict):
    """The UAV-GC claim says more contractor responsibility is not the same thing as a strategic partnership: asked
    whether it is (or makes) one, no; asked whether the contractor can also be one, yes with nuance."""
    answer = rules.answer(question)
    assert answer.verdict == verdict
    assert "literature/uav-gc-2005" in {c.doc_id for c in answer.citations}


@pytest.mark.parametrize("question, verdict", [
    ("I was hired three years ago as project lead by a water board and they now call me their partner. Does the "
     "water board still hold the final responsibility in the author's RA(S)CI view?", "yes"),
    ("We are the contractor on a long IT deal and we now plan jointly with the client. Do we get the veto in the "
     "escalation forum now?", "no"),
    ("Our contractor and we now share risks on two services. Does the contractor get the final say?", "no"),
    ("We are the contractor and plan jointly with our client now. Do we share the veto with the client from now on?",
     "no"),
])
def test_asked_about_the_final_say_in_a_described_arrangement_the_client_keeps_it(rules, question, verdict):
    answer = rules.answer(question)
    assert answer.verdict == verdict and "veto" in answer.text
    assert "totus/author-conclusion" in {c.doc_id for c in answer.citations}


def test_a_question_taking_a_wrong_book_attribution_for_granted_is_corrected(rules):
    answer = rules.answer("For my report I want to cite Partnering: The New Face of Leadership by D. Quinn Mills. "
                          "Which publisher and year should I give?")
    assert answer.verdict == "not-established" and "Segil" in answer.text


def test_the_best_passage_sentence_joins_an_answer_only_when_it_says_something_new_and_is_no_chatbots():
    best = "Agreements with external suppliers are called underpinning contracts in ITIL."
    scored = [Scored(3.0, 0.5, best, SimpleNamespace(voice="literature"), 0),
              Scored(2.0, 0.4, "A second sentence that is not the best one.", SimpleNamespace(voice="author"), 1)]
    said = ["An OLA is an agreement between the IT provider and another team of the same organisation."]
    assert [s.sentence for s in _best_unsaid(scored, said)] == [best]
    assert _best_unsaid(scored, said + ["ITIL calls agreements with external suppliers underpinning contracts."]) == []
    scored[0].passage = SimpleNamespace(voice="bing")   # a quoted chatbot's sentence would read as a fact
    assert _best_unsaid(scored, said) == []


@pytest.mark.parametrize("question, verdict, role", [
    ("Consultant here. A ministry hired me for a year to write a data strategy to their requirements, and I bill "
     "them monthly. They keep calling me their partner. Am I a partner, or just the contractor?", "contractor",
     "you carry out the work"),
    ("We signed a 15-year design-build-maintain contract with a builder; they only get paid when the bridge is "
     "open and meets the agreed standards. Is the builder our strategic partner, or the contractor?", "contractor",
     "the other party carries out the work"),
])
def test_a_described_arrangement_names_the_role_in_every_voice(rules, question, verdict, role):
    """'me' speaks of the asker, hiring in the active voice, working to the other party's requirements, billing and
    being paid place the roles; a contract's name ("design-build-…") is not something the asker does."""
    answer = rules.answer(question)
    assert answer.verdict == verdict and role in _sentences(answer.text)[0]


def test_a_dutch_description_of_a_standard_offer_to_hundreds_is_glicks_customer(rules):
    answer = rules.answer("Wij leveren standaard kantoorstoelen aan een paar honderd bedrijven; welke modellen we "
                          "voeren en wat ze kosten, bepalen wij. Wat voor relatie is dat volgens Glick?")
    assert answer.verdict == "customer" and "klantrelatie" in answer.text


def test_a_series_asked_of_glick_alone_is_his_range(rules):
    answer = rules.answer("Is Glick's line-up of customer, client and partner meant as a ladder every IT shop should climb?")
    assert answer.claim_id == "glick-not-maturity-model" and answer.verdict == "no"


def test_buying_from_whichever_supplier_is_cheapest_is_low_supply_risk(rules):
    answer = rules.answer("We order toner from whichever vendor offers the lowest price each month. Our CFO wants "
                          "to make that vendor a strategic partner. Does the purchasing literature agree?")
    assert answer.verdict == "no" and "Kraljic" in answer.text and "low supply risk" in answer.text


def test_a_near_best_sentence_of_another_passage_joins_the_best_one_when_it_too_says_something_new():
    best = "Agreements with external suppliers are called underpinning contracts in ITIL."
    near = "Bing glossed the provider as contractor and the customer as client."
    same = "Underpinning contracts support the service levels agreed with the customer."
    one, other = SimpleNamespace(voice="literature"), SimpleNamespace(voice="author")
    said = ["An OLA is an agreement between the IT provider and another team of the same organisation."]
    scored = [Scored(3.0, 0.5, best, one, 0), Scored(2.9, 0.5, same, one, 1), Scored(2.8, 0.4, near, other, 0)]
    assert [s.sentence for s in _best_unsaid(scored, said)] == [best, near]
    scored[2].score = 1.0   # far below the best: it answers something else
    assert [s.sentence for s in _best_unsaid(scored, said)] == [best]


def test_a_question_naming_an_author_of_the_literature_is_answered_from_that_authors_note(rules):
    """"Someone mumbled 'Gulati'": the literature overview names no Gulati; his note answers, and a question whether
    research bears the view out gets a yes from it."""
    answer = rules.answer("Is there actual research behind the feeling that the more often you work with the same "
                          "firm, the lighter the contracts get? Someone at work mumbled 'Gulati' at me.")
    assert answer.citations[0].doc_id == "literature/gulati-1995" and "Gulati" in answer.text
    assert answer.verdict == "yes"


@pytest.mark.parametrize("question, verdict", [
    ("Bing said trust and reciprocity decide whether a client-contractor relationship can become a partnership. Is "
     "there real research backing that up?", "yes"),
    ("Is there research showing that every supplier should become a strategic partner?", "no"),
])
def test_asked_whether_research_bears_a_view_out_the_literature_answers(rules, question, verdict):
    answer = rules.answer(question)
    assert answer.verdict == verdict
    assert any(c.doc_id.startswith("literature/") for c in answer.citations)


def test_a_question_asking_how_long_gets_the_sentence_that_dates_what_it_names(rules):
    """The A12 claim dates the contract's signing (2010), not the construction the question asks about: the
    checked record's sentence that does is added, and never a date a chatbot gave."""
    answer = rules.answer("How long did construction of the A12 Lunetten–Veenendaal widening take?")
    assert answer.claim_id == "a12-example"
    assert "May 2011 to March 2013" in answer.text
    assert "According to Bing" not in answer.text
