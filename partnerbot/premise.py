"""What a question takes for granted about a source, asked as a yes/no question of its own.

"Given that ITIL defines 'client' and 'contractor' as its roles, where …?", "The Totus author recommends a shared
veto. How do we set it up?", "Waarom vindt de Totus-auteur dat …?", "Just confirm that Glick calls …": each builds
on a view of a source. `taken_for_granted` turns that view into "Is it true that …?"; the answerer asks it first and,
when a claim stating its own verdict answers no, corrects the premise instead of building on it (rules.py).
"""

from __future__ import annotations

import re

from .claims import POLAR_VERDICTS, Claim
from .lang import sentences, tokens
from .question import Focus, asked_voices
from .result import Answer
from .verdicts import IMPLIED_OVERLAP, WH_START
from .vocab import Vocab

CHECK = {"en": "Is it true that {}?", "nl": "Klopt het dat {}?"}
_NO_LEAD = re.compile(r"^(No|Nee)\b[.:,]?\s*")
_CHECK_WORDS = frozenset(tokens(" ".join(CHECK.values())))
CORRECTION = {"en": "The question takes for granted what the sources do not support.",
              "nl": "De vraag gaat uit van iets wat de bronnen niet ondersteunen."}
# the asker's own arrangement ("since we pay them, …") is a description to place, not a view to check
_OWN = re.compile(r"\b(we|our|us|i|my|me|wij|ons|onze|ik|mijn|mij)\b", re.I)
# a named work, author or framework ("Heijmans", "ITIL", "the A12") makes a premise a view of a source too
_SOURCE = re.compile(r"(?<=\S )[A-Z][a-z]{3,}\b|\b[A-Z]{3,}\b|\b[A-Z]\d+\b")
# "Why does the Totus author think that …?" / "Waarom vindt de Totus-auteur dat …?"
_WHY_EN = re.compile(r"^\s*why (?:does|did|do|would) (?P<who>.+?) (?P<verb>\w+) (?:that )?(?P<what>.+?)\?*\s*$", re.I)
_WHY_NL = re.compile(r"^\s*waarom (?P<verb>\w+) (?P<who>.+?) (?:dan )?dat (?P<what>.+?)\?*\s*$", re.I)


def taken_for_granted(text: str, language: str, focus: Focus, vocab: Vocab, polar: bool = False) -> str | None:
    """The yes/no question checking what the question takes for granted about a source, or None: a leading
    "given that / since / aangezien" clause, a request to confirm something, a statement before the question
    sentence, or the that-clause of "why does X think that …?"; only a view ascribed to a source counts, and only
    in a question that asks something else than yes or no (a yes/no question after a statement asks about it)."""
    cues = focus.verdict_cues
    said = sentences(text)
    if not said or not said[-1].endswith("?") and not (cues.get("confirm") and cues["confirm"].search(text)):
        return None
    asked = said[-1]
    if polar or any(cues.get(k) is not None and cues[k].search(asked) for k in ("verify", "someone_right")):
        return None   # "… . Is that a fair summary?" already asks whether the statement holds
    found = _premise(said, asked, cues, lambda s: bool(asked_voices(s, vocab, focus)[0]))
    if found is None or _OWN.search(found) or not (asked_voices(found, vocab, focus)[0] or _SOURCE.search(found)):
        return None
    return CHECK.get(language, CHECK["en"]).format(found.rstrip(" .?!"))


def _premise(said: list[str], asked: str, cues: dict, voiced) -> str | None:
    premise, confirm, attributes = cues.get("premise"), cues.get("confirm"), cues.get("attributes")
    if premise is not None:
        match = premise.search(asked)
        if match is not None and "," in asked[match.end():]:
            return asked[match.end():].split(",")[0]
    if confirm is not None:
        match = confirm.search(" ".join(said))
        if match is not None:
            return " ".join(said)[match.end():]
    if attributes is None:
        return None
    stated = [s for s in said[:-1] if not s.endswith("?") and (attributes.search(s) or voiced(s))]
    if stated:
        return stated[-1]
    why = _WHY_EN.match(asked) or _WHY_NL.match(asked)
    verb = why.group("verb") if why is not None else ""
    if why is not None and any(cue is not None and (cue.search(verb) or cue.search(verb + "s"))
                               for cue in (attributes, cues.get("reported"))):
        joiner = " dat " if why.re is _WHY_NL else " that "
        return f"{why.group('who')} {why.group('verb')}{joiner}{why.group('what')}"
    return None


def denied(check: str, verdict: str | None, claim: Claim | None, focus: Focus, vocab: Vocab) -> bool:
    """True when the answer to the check denies the premise: a claim with a yes/no verdict of its own, about what
    the premise says (its questions and first sentence share IMPLIED_OVERLAP of the premise's words), says no. A
    negative premise ("why does Glick think there is no best type?") is confirmed, not denied, by a claim's no to
    the positive question it was written for ("is there a best type?")."""
    if verdict != "no" or claim is None or claim.verdict not in POLAR_VERDICTS:
        return False
    words = set(tokens(vocab.expand(check))) - _CHECK_WORDS
    about = [*claim.questions, *(claim.sentences[lang][0]["say"] for lang in claim.sentences)]
    if len(words & set(tokens(" ".join(about)))) < IMPLIED_OVERLAP * len(words):
        return False   # a claim matched on one shared word answers another question
    polar = [q for q in claim.questions if not WH_START.match(q)]   # the questions its verdict answers
    return not (focus.negation.search(check) and not any(focus.negation.search(q) for q in polar))


def corrected(check: str, checked: Answer, claim: Claim | None, focus: Focus, vocab: Vocab, speaks) -> Answer | None:
    """The answer to the check, reworded to correct the premise, when it denies it; else None.
    speaks(voices): whether the claim leads in one of those voices. "The blogger reckons client/contractor is ITIL
    jargon. Where …?": he does; a claim that ITIL has other words denies what he reckons, not that he reckons it.
    A view ascribed to a voice is denied only in that voice."""
    if not denied(check, checked.verdict, claim, focus, vocab):
        return None
    voices = asked_voices(check, vocab, focus)[0]
    ascribes = any(focus.verdict_cues.get(k) is not None and focus.verdict_cues[k].search(check)
                   for k in ("attributes", "reported"))
    if voices and ascribes and not speaks(voices):
        return None
    rest = _NO_LEAD.sub("", checked.text)
    checked.text = f"{CORRECTION.get(checked.language, CORRECTION['en'])} {rest[:1].upper()}{rest[1:]}"
    checked.verdict = "not-established"
    return checked
