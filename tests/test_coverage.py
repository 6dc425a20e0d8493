"""Issue 13, tenth round: a question that asks two things gets a sentence for the part the answer leaves out
(coverage.py), found by meaning rather than by shared words."""

from __future__ import annotations

from types import SimpleNamespace

from partnerbot.coverage import clauses, uncovered
from partnerbot.stance import Scored


def _scored(sentence: str, score: float = 1.0) -> Scored:
    return Scored(score, 0.5, sentence, SimpleNamespace(chunk_id=sentence[:10], voice="literature"), 0)


def _between(table: dict):
    """A stand-in for Meaning.between: cosines looked up by (clause keyword, sentence keyword)."""
    def between(text, sentences):
        key = next(k for k in table if k in text)
        return {s: max((v for w, v in table[key].items() if w in s), default=0.0) for s in sentences}
    return between


def test_a_question_splits_into_its_clauses_of_four_words_or_more():
    parts = clauses("We rely on a team inside the company, and also on an outside hardware vendor. What covers each one?")
    assert parts == ["We rely on a team inside the company", "on an outside hardware vendor", "What covers each one?"]
    assert clauses("Is a contractor a partner?") == ["Is a contractor a partner?"]


def test_the_part_no_said_sentence_answers_gets_the_candidate_that_does():
    said = ["An OLA is an agreement with another internal team."]
    vendor = _scored("Agreements with external suppliers are underpinning contracts.", 0.8)
    other = _scored("ITIL also defines a relationship manager.", 0.9)
    between = _between({"inside": {"OLA": 0.7, "external": 0.2, "manager": 0.1},
                        "vendor": {"OLA": 0.2, "external": 0.6, "manager": 0.1},
                        "each": {"OLA": 0.3, "external": 0.3, "manager": 0.2}})
    text = "We rely on a team inside the company, and also on an outside hardware vendor. What covers each one?"
    assert uncovered(text, said, [other, vendor], 0.5, between) == [vendor]
    # below the floor for the whole question it is not added; once said, nothing is
    assert uncovered(text, said, [other, vendor], 0.85, between) == []
    assert uncovered(text, said + [vendor.sentence], [other, vendor], 0.5, between) == []
    # a one-clause question, or no meaning model, adds nothing
    assert uncovered("Is a contractor a partner?", said, [vendor], 0.5, between) == []
    assert uncovered(text, said, [vendor], 0.5, None) == []


def test_a_two_part_question_is_answered_in_both_parts(rules):
    """The internal team's agreement and the outside vendor's are different ITIL terms; the answer names both,
    each sentence cited. Without the vendor clause the underpinning contract is not brought in."""
    both = rules.answer("Our helpdesk relies on the database team within our own organisation, and also on an "
                        "external software vendor. Which ITIL agreement applies to each?")
    assert "OLA" in both.text and "underpinning" in both.text.lower()
    assert all(f"[{c.marker}]" in both.text for c in both.citations)
    one = rules.answer("Our helpdesk relies on the database team within our own organisation. Which ITIL "
                       "agreement applies?")
    assert "OLA" in one.text and "underpinning" not in one.text.lower()


def test_a_polar_answer_whose_lead_only_introduces_takes_its_verdict_from_the_sentence_that_states_it(rules):
    """The best sentence says what Gulati studies, not what he found; the finding comes next. The verdict is read
    from the finding, and the finding leads the answer."""
    answer = rules.answer("Does having allied with the same firm before change what kind of contract companies "
                          "pick for their next alliance? I think Gulati looked at this.")
    assert answer.verdict == "yes"
    assert answer.text.startswith("Yes: Gulati (1995) finds that firms that have allied with each other before")
