"""How a sentence stands on a polar question: whether it takes a stance on it (states a verdict outright, speaks
for or against what is asked, negates it, keeps for some what is asked of all), the verdict its answering clause
states, and whether "for all?" is answered "it varies". Used by composition (compose.py) and by the verdicts a claim
gives questions it was not written for (verdicts.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .claims import NEGATIVE
from .lang import tokens
from .question import Focus, Question, last_asked

if TYPE_CHECKING:
    from .vocab import Vocab


@dataclass
class Scored:
    """A candidate sentence of a composed answer: its score, its share of the question's words, its passage and
    its position there."""
    score: float
    overlap: float
    sentence: str
    passage: object
    position: int


# ("nothing but partnership" and "none but" affirm: no turn there)
_TURN = re.compile(r"(?<!\bnothing )(?<!\bnone )\b(but|however|yet|although|though|maar|echter)\b", re.I)
CLAUSE = re.compile(r"[,;:]\s+|(?<!\bnothing)(?<!\bnone)\s+(?:but|however|though|although|whereas|while)\s+")


def takes_stance(question: Question, sentence: str, focus: Focus) -> bool:
    """A sentence that states a verdict on what a polar question asks: outright ("… : no."), for or against it
    ("entirely reasonable", "the wrong choice"), or keeping for some what the question asks about all of."""
    cues = focus.verdict_cues
    asked = last_asked(question.text)
    if any(cues.get(k) is not None and cues[k].search(sentence) for k in ("explicit", "against", "favourable")):
        return True
    words = set(question.words)
    if focus.negation.search(sentence) and len(words & set(tokens(sentence))) >= 2:
        return True   # "… but the contract does not disappear": a negation in a sentence about what the question asks
    universal = cues.get("universal") is not None and cues["universal"].search(asked)
    keeps_for_some = any(cues.get(k) is not None and cues[k].search(sentence) for k in ("restrictive", "varies"))
    return bool(universal and keeps_for_some)


def read_verdict(question: Question, lead: Scored, focus: Focus, vocab: Vocab | None = None) -> str | None:
    """yes / no / depends read from the clause of the leading sentence that answers the polar question: a verdict
    it states outright, a restriction ("only for the few") of what the question asks about all of, a negation."""
    if not question.polar or question.compares or len(question.voices) > 1 and question.answer_type == "contrast":
        return None   # one voice's sentence does not settle whether two voices agree
    words = set(question.words)
    asked = set(tokens(last_asked(question.text)))   # after a premise, the question sentence itself
    overlap = max(lead.overlap, len(asked & set(tokens(lead.sentence))) / max(1, len(asked)))
    # Dutch words seldom meet an English note's sentence; the question's concepts do
    if vocab is not None and question.language != "en" and getattr(lead.passage, "language", "en") == "en":
        concepts = set(question.concepts) - {c for v in focus.voices for c in v.concepts}
        overlap = max(overlap, len(concepts & set(vocab.concepts(lead.sentence))) / max(1, len(concepts)))
    cues = focus.verdict_cues
    flip = asks_the_bad_side(question.text, focus)
    explicit = cues.get("explicit") and cues["explicit"].search(lead.sentence)
    if explicit and overlap >= 0.1:
        said = (explicit.group("verdict") or explicit.group("lead")).lower()
        return ("no" if said in ("no", "nee") else "yes") if not flip else ("yes" if said in ("no", "nee") else "no")
    if overlap < (0.15 if takes_stance(question, lead.sentence, focus) else 0.25):
        return None
    # after "but" comes the point ("… can rely more on trust, but the contract does not disappear"): a clause that
    # follows a contrast and names something the question sentence asks about is the one that answers it; not in
    # "not A but B", where the negated clause answers whether A
    turn = _TURN.search(lead.sentence)
    if turn is not None and focus.negation.search(lead.sentence[:turn.start()]):
        turn = None

    def weight(c: str) -> tuple[bool, int]:
        after = turn is not None and lead.sentence.find(c) >= turn.start()
        return after and bool(asked & set(tokens(c))), _shared(words, c)
    clause = max(CLAUSE.split(lead.sentence), key=weight)
    negated = bool(focus.negation.search(clause))
    if cues.get("beyond") and cues.get("still") and cues["beyond"].search(question.text) and cues["still"].search(clause):
        negated = True
    # what the sentence says of the thing asked about: speaks against it, or calls it reasonable
    against, favourable = cues.get("against"), cues.get("favourable")
    if against and against.search(lead.sentence):
        negated = True
    elif favourable and favourable.search(lead.sentence):
        negated = False
    if cues.get("universal") and cues.get("restrictive") and cues["universal"].search(last_asked(question.text)) \
            and cues["restrictive"].search(lead.sentence) and not cues["universal"].search(lead.sentence):
        negated = True
    if cues.get("same") and cues.get("differs") and cues["same"].search(last_asked(question.text)) \
            and cues["differs"].search(lead.sentence):
        negated = True   # "just another word for …?" answered by what sets the two apart
    if unnamed_terms(last_asked(question.text), lead.sentence, focus):
        negated = True   # "does ITIL call them 'client' and 'contractor'?" - "ITIL speaks of provider and consumer"
    if flip:   # "is it a mistake to …?" is answered yes by a sentence that speaks against it
        negated = not negated
    if negated:
        return "no"
    if focus.hedge.search(clause) and re.search(r"\b(depend\w*|not always|not a given|sometimes|only (if|when))\b",
                                                 lead.sentence, re.I):
        return "depends"
    return "yes"


_PARTY_WORDS = frozenset({"client", "contractor", "customer", "supplier", "partner", "partnership", "strategic",
                          "opdrachtgever", "opdrachtnemer", "klant", "leverancier"})


def _shared(words: set, clause: str) -> int:
    """How much of the question a clause speaks of: its words (a shared stem of six letters counts: abolish,
    abolished), those that are not the parties counting double (what is asked of the parties decides)."""
    toks = set(tokens(clause))
    def meets(w: str) -> bool:
        return w in toks or len(w) >= 6 and any(len(t) >= 6 and t[:6] == w[:6] for t in toks)
    return sum(1 if w in _PARTY_WORDS else 2 for w in words if meets(w))


_QUOTED = re.compile(r"[\"“‘']([^\"”’']{2,40})[\"”’']")


def unnamed_terms(asked: str, sentence: str, focus: Focus) -> bool:
    """The question asks whether something is called by the terms it quotes ("does ITIL call them 'client' and
    'contractor'?") and the sentence answering it uses none of them: it names the thing otherwise."""
    naming = focus.verdict_cues.get("naming")
    quoted = [m.group(1).lower() for m in _QUOTED.finditer(asked)]
    return bool(naming and quoted and naming.search(asked)) and not any(t in sentence.lower() for t in quoted)


def asks_the_bad_side(text: str, focus: Focus) -> bool:
    """The question asks whether something is wrong, a mistake or a bad thing (not whether it is so): a sentence
    against it answers yes, one calling it reasonable answers no."""
    against = focus.verdict_cues.get("against")
    return bool(NEGATIVE.search(text)) or against is not None and bool(against.search(last_asked(text)))


def not_for_all(asked: str, sentences: list[str], focus: Focus) -> bool:
    """A question whether something holds for all, always or everyone ("one type for everyone?", "altijd?")
    answered by sentences that say it varies ("all three, each at different times", "not in every case")."""
    cues = focus.verdict_cues
    if not (cues.get("universal") and cues.get("varies")) or NEGATIVE.search(asked):
        return False
    if cues["varies"].search(asked):   # "all three, at different times, right?" already says it varies
        return False
    return bool(cues["universal"].search(asked)) and any(cues["varies"].search(s) for s in sentences)


def denying(asked: str, sentences: list[str], focus: Focus) -> str | None:
    """The first sentence with a clause that denies the contrary the question asks about ("does the contract
    disappear?" - "… but the contract does not disappear"), or None (also when the question asks no such thing)."""
    contrary = focus.verdict_cues.get("contrary")
    if contrary is None or not contrary.search(asked):
        return None
    return next((s for s in sentences if any(focus.negation.search(clause) and contrary.search(clause)
                                             for clause in CLAUSE.split(s))), None)
