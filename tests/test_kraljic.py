"""Kraljic placement of described purchases (partnerbot/kraljic.py, corpus/focus.yaml situation.kraljic)."""

import pytest

from partnerbot.kraljic import placed_items
from partnerbot.question import load_focus


@pytest.fixture(scope="module")
def spec(corpus_settings):
    return load_focus(str(corpus_settings.corpus_dir)).situation["kraljic"]


def test_each_described_item_is_placed_on_both_axes(spec):
    text = ("Wij kopen twee dingen: kantoorartikelen (goedkoop, overal verkrijgbaar) en een chip die maar twee "
            "producenten maken en die cruciaal is voor de marge van ons product.")
    assert placed_items(text, spec) == [("kantoorartikelen", "non_critical"), ("chip", "strategic")]


def test_an_item_placed_on_one_axis_only_is_left_out(spec):
    assert placed_items("We buy a cheap cable for every desk.", spec) == []


@pytest.mark.parametrize("question, kind, verdict", [
    ("We buy a cheap valve that only one firm in Europe makes. Should we build a partnership with its maker?",
     "bottleneck item", "no"),
    ("Our main component is expensive and only two manufacturers can supply it. Should we partner with one of "
     "them?", "strategic item", "yes"),
])
def test_a_described_purchase_gets_its_quadrant_and_whether_to_partner(rules, question, kind, verdict):
    answer = rules.answer(question)
    assert kind in answer.text and answer.verdict == verdict
    assert {c.doc_id for c in answer.citations} >= {"literature/kraljic-1983"}


def test_a_purchase_with_low_supply_risk_alone_is_leverage_or_non_critical(spec):
    text = "We buy printer toner and office paper through a yearly price tender, three interchangeable suppliers."
    assert placed_items(text, spec) == [("printer toner and office paper", "low_risk")]
    # the same cue without a purchase, and a scarce supply without an impact, place nothing
    assert placed_items("Are customer and client interchangeable words?", spec) == []
    assert placed_items("We buy a part that only one firm makes.", spec) == []


def test_a_pitch_for_partnership_on_a_low_risk_purchase_is_declined_with_kraljic(rules):
    answer = rules.answer("We buy office furniture from several suppliers through a price tender. One of them now "
                          "proposes a strategic partnership. Should we accept?")
    assert answer.verdict == "no" and "leverage or a non-critical item" in answer.text
    assert {c.doc_id for c in answer.citations} >= {"literature/kraljic-1983"}
