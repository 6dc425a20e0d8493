"""Whether a question is one the sources can answer: plainly off-topic subjects, a what/which question about a
word no source uses, a name (a product, a standard, a company) the sources never mention, or a question most of
whose words they never use. The rules answerer refuses such questions rather than answer beside the point."""

from __future__ import annotations

import re

from .compose import PARTIES
from .lang import tokens
from .result import Answer
from .retrieval import Retriever
from .vocab import Vocab

# Topics plainly outside the sources; a question about them is refused even if it names a company in the corpus.
OFF_TOPIC = re.compile(
    r"\b(weather|forecast|rain|weerbericht|regen|recipe|recept|bake|bak|cook|koken|football|soccer|voetbal|champions league|"
    r"wedstrijd|election|elections|verkiezing\w*|shares?\b.*\bbuy|buy\b.*\bshares?|stock|stocks|aandelen|invest\w*|"
    r"beleggen|capital of|hoofdstad|headache|hoofdpijn|remedy|medicine|medicijn|python|javascript)\b|"
    r"\b(tell|write|give|make|vertel|schrijf|maak|geef)\b.{0,12}\b(joke|grap|poem|gedicht|mop)\b",
    re.I)
# What a "what/which …" question asks for follows the question word ("What VAT rate…", "Which CRM package…"
# in English questions). When no source uses that word, the sources cannot answer it, whatever concepts the
# question also names ("…to a client in Belgium"), so it is refused rather than answered beside the point.
_FOCUS = re.compile(r"^\W*(?:what|which|how much|how many)\s+([\w'-]+)(?:\s+([\w'-]+))?", re.I)
_FOCUS_STOP = frozenset("is are was were does do did can could should would will may might must has have had else "
                        "exactly really".split())
# After these the word was a verb with its object or clause ("What drives a partnership?", "What happens when…").
_AFTER_VERB = frozenset("""a an the this that these those who whom when where why how whether if it its his her their
our my your to in on at for with from by of about between most more less all every each some any no""".split())
# Concepts that make a question about relationships even when it also mentions an off-topic word.
CORE = frozenset({"client", "contractor", "customer", "supplier", "partner", "strategic_partner", "rasci", "sla_ola",
                   "series", "maturity", "range", "hierarchy", "coexist", "hybrid", "assignment"})
UNFAMILIAR_SHARE = 0.4   # share of unknown words that makes a question with no known topic out of scope
# A name in the question sentence: a capitalised word after the first, an acronym, a code with digits (ISO 44001,
# PRINCE2, 180k). Country and language words name no subject of their own.
_PROPER = re.compile(r"(?<=[\w,;:'\"(] )(?:[A-Z][\w&-]*[A-Z0-9][\w&-]*|[A-Z][a-z]+(?:[A-Z]\w*)?|(?=\w*\d)\w{4,})\b")
_PLACES = re.compile(r"^(dutch|holland|nederland\w*|netherlands|nl|english|engels\w*)$", re.I)


def off_topic_question(text: str, vocab: Vocab) -> bool:
    return bool(OFF_TOPIC.search(text)) and not CORE & set(vocab.concepts(text))


def unfamiliar(question: str, lang: str, retriever: Retriever) -> bool:
    """An English question most of whose words the sources never use ("What is the EU tender threshold
    for …?"): close passages share only its generic words. (Dutch words are mostly unknown to the English
    notes, so Dutch questions are not judged this way.)"""
    if lang != "en":
        return False
    words = [t for t in dict.fromkeys(tokens(question)) if len(t) > 2]
    unknown = [t for t in words if not retriever.knows(t)]
    return len(unknown) >= UNFAMILIAR_SHARE * max(1, len(words))


def unknown_focus(question: str, retriever: Retriever, vocab: Vocab) -> str | None:
    """The word a what/which question asks about, when no stored chunk uses it (nor the concept list)."""
    match = _FOCUS.match(question)
    word, after = (match.group(1), (match.group(2) or "").lower()) if match else ("", "")
    if not word or word.lower() in _FOCUS_STOP or after in _AFTER_VERB or word.lower().endswith("ed"):
        return None
    # a plain modifier before a known noun ("What everyday example …"): the noun is what is asked about
    if word.islower() and after and after not in _FOCUS_STOP and _known(after, retriever, vocab):
        return None
    known = retriever.knows(word) or vocab.concepts(word) or vocab.expand(word) != word
    return None if known else word


def _known(name: str, retriever: Retriever, vocab: Vocab) -> bool:
    """The sources use the name (or its singular), or one part of a compound ("IT-relaties")."""
    forms = (name, name.removesuffix("s"), *(part for part in name.split("-") if len(part) > 1))
    return any(retriever.knows(n) or vocab.concepts(n) for n in forms)


_PARTY = r"(clients?|contractors?|customers?|suppliers?|vendors?|partners?|opdrachtgevers?|opdrachtnemers?|klant(en)?|leveranciers?)"
_NAMED_PARTY_AFTER = re.compile(r"^\s+(\w+\s+){0,2}?(be|become|becomes|is|are|was|as|zijn|worden|wordt|als)\s+(\w+\s+){0,3}?" + _PARTY + r"\b",
                                re.I)
_NAMED_PARTY_BEFORE = re.compile(r"\b(our|their|a|the|onze|hun|een|de)\s+(\w+\s+)?" + _PARTY + r",?\s+$", re.I)
# "the supplier of our MRI scanners", "de leverancier van ons kantoorpapier": the name is what the party supplies
_SUPPLIED_BY_PARTY = re.compile(_PARTY + r"\s+(of|for|van|voor)\s+(\w+\s+){0,2}$", re.I)


def _as_party(text: str, match: re.Match) -> bool:
    """The name stands for a party of the relationship asked about ("Can Accenture be our contractor and our
    partner?", "our supplier Acme") or for what a party supplies ("the supplier of our MRI scanners"): the
    question is about the roles, which the sources cover."""
    before = text[:match.start()]
    return bool(_NAMED_PARTY_AFTER.match(text[match.end():]) or _NAMED_PARTY_BEFORE.search(before)
                or _SUPPLIED_BY_PARTY.search(before))


def unknown_name(asked: str, retriever: Retriever, vocab: Vocab) -> str | None:
    """A name the question sentence asks about that no source mentions ("Is Salesforce or HubSpot better …?",
    "What does ISO 44001 require …?"), or None. A sentence that also names something the sources know (Heijmans,
    Dyer and Kale) at least as often as unknown ones is answered: they can speak to that, or correct its premise."""
    matches = [m for m in _PROPER.finditer(asked) if not _PLACES.match(m.group(0)) and not _as_party(asked, m)]
    names: list[str] = []
    for n, m in enumerate(matches):   # a name of several words ("Wet DBA", "Microsoft Partner Network") is one
        if n and asked[matches[n - 1].end():m.start()] == " ":
            names[-1] += " " + m.group(0)
        else:
            names.append(m.group(0))
    unknown = [n for n in names if not _known(n, retriever, vocab)]
    # a known name is a proper name of the sources, not a capitalised party word ("the Senior Supplier")
    known = [n for n in names if n not in unknown and not set(vocab.concepts(n)) & set(PARTIES)]
    return unknown[0] if unknown and len(unknown) >= len(known) else None


def refusal(lang: str, injected: bool, mode: str, unknown: str | None = None) -> Answer:
    """The polite refusal, naming what the sources say nothing about when known."""
    if lang == "nl":
        text = (f"De bronnen zeggen niets over “{unknown}”, dus daarop kan ik geen antwoord geven. " if unknown
                else "De bronnen behandelen dit niet, dus daarop kan ik geen antwoord geven. ") + (
            "Ik beantwoord vragen over opdrachtgever en opdrachtnemer, klant en leverancier, partners en "
            "strategische partners, op basis van het Totus-artikel, de column van Byron Glick en geverifieerde "
            "literatuur.")
    else:
        text = (f"The sources say nothing about “{unknown}”, so I cannot answer this from them. " if unknown
                else "The sources do not cover this, so I cannot answer it from them. ") + (
            "I answer questions about clients and contractors, customers and suppliers, partners and strategic "
            "partners, based on the Totus Consultancy article, Byron Glick's column and verified literature.")
    if injected:
        text = ("Ik volg geen instructies op die in vragen of documenten staan, en ik deel mijn eigen instructies "
                "niet. " if lang == "nl" else "I don't follow instructions given inside questions or documents, "
                "and I don't share my instructions. ") + text
    return Answer(text=text, citations=[], mode=mode, verdict=None, language=lang, refused=True)
