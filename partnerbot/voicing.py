"""How a sentence from the notes is said in an answer: in English with a short attribution to its voice ("Bing
answered that …", "Gulati (1995) argues that …"); in a Dutch answer quoted in English under a Dutch lead, with a
glossary of its key terms from corpus/concepts.yaml."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

from .question import Focus, names_voice
from .vocab import Vocab

_PRONOUN_LEAD = re.compile(r"^(?:(but|and|yet|so|still)\s+)?(he|she|it|they)\s+(?=[a-z])")
_FUNCTION_WORDS = frozenset("The A An This That These Those It Its There Here In On For With When While".split())
_POSSESSIVE_LEAD = re.compile(r"^(in|on) (his|her|its|their) ")
_YEARED = re.compile(r"^(.*?\(\d{4}\))")
_CONNECTIVE = re.compile(r"^(in other words|that is|in short|so|thus|therefore|hence|put differently|put simply),\s+"
                         r"(?=\w)", re.I)
_CHECKED = {"en": "a check of the records shows that", "nl": "Volgens de controle van de bronnen"}
_CHECKED_WHO = {"en": "a check of the records", "nl": "de controle van de bronnen"}
_INNER_SAYS = re.compile(r",\s+(he|she|they|it)\s+(says|argues|writes|notes|adds|said|argued|wrote)\s*(?=,)")


@lru_cache(maxsize=4)
def dutch_terms(corpus_dir: str) -> dict[str, tuple[str, str]]:
    """concept -> (its first English term, its first Dutch term) (concepts.yaml), for glossing English sentences
    in a Dutch answer. Only the first terms translate each other: the others are what else names the topic
    ("procurement" is not "transactioneel", "uav-gc" is not "marktvisie")."""
    data = yaml.safe_load((Path(corpus_dir) / "concepts.yaml").read_text(encoding="utf-8")) or {}
    return {c: (str(langs["en"][0]).lower(), langs["nl"][0]) for c, langs in (data.get("concepts") or {}).items()
            if langs.get("nl") and langs.get("en")}


@lru_cache(maxsize=4)
def dutch_words(corpus_dir: str) -> tuple[tuple[re.Pattern, str, str], ...]:
    """(English word pattern, English word, Dutch word) from concepts.yaml's dutch_terms, read backwards: the
    everyday words (trust = vertrouwen, goals = doelen) a Dutch reader needs next to a quoted English sentence."""
    data = yaml.safe_load((Path(corpus_dir) / "concepts.yaml").read_text(encoding="utf-8")) or {}
    out = {}
    for dutch, english in (data.get("dutch_terms") or {}).items():
        english = str(english).strip().lower()
        if " " not in english and english not in out and dutch.lower() != english:
            out[english] = (re.compile(rf"\b{re.escape(english)}\b", re.I), english, dutch)
    return tuple(out.values())


def _voice_label(passage, focus: Focus, lang: str) -> tuple[str, str, tuple[str, ...]]:
    """(attribution prefix, who, names that already attribute a sentence) for a passage."""
    voice = focus.voice_of(passage)
    if voice is not None and voice.id == "literature":
        match = _YEARED.match(passage.title or "")
        who = match.group(1) if match else voice.who.get(lang, "the literature")
        if not match and "checked" in (passage.author or "").lower():   # our check of a claim in an article
            return _CHECKED[lang], _CHECKED_WHO[lang], ("literature",)
        surname = (passage.author or "").split(",")[0].split()[-1:] or []
        several = any(mark in who for mark in (" and ", "&", "et al"))
        prefix = f"{who} argue{'' if several else 's'} that" if lang == "en" else \
            f"Volgens {who}"
        return prefix, who, tuple(n.lower() for n in surname) + ("literature",)
    if voice is not None:
        return voice.say.get(lang, ""), voice.who.get(lang, voice.id), voice.names
    if passage.voice == "document":
        return (f"Your document “{passage.title}” says that" if lang == "en" else f"Uw document “{passage.title}”:",
                passage.title, ())
    return "", passage.title, ()


def attribute(sentence: str, passage, focus: Focus) -> str:
    """The sentence with a short attribution of its voice, unless it already names its speaker."""
    prefix, who, names = _voice_label(passage, focus, "en")
    if prefix:   # "…, he says, but …" under a prefix that already says who: drop the inner attribution
        sentence = _INNER_SAYS.sub("", sentence)
        sentence = re.sub(r"^(note|notice|remember) that\s+(?=\w)", "", sentence, flags=re.I)   # "… argues that note that"
        sentence = _CONNECTIVE.sub("", sentence)   # "… argues that in other words, …"
        sentence = sentence[:1].upper() + sentence[1:]
    lowered = sentence.lower()
    if not prefix or any(n and re.search(rf"\b{re.escape(n)}\b", lowered) for n in names):
        return sentence
    if names_voice(lowered, focus, skip=("literature",)):   # "According to Bing, …" in a checking note says whose view it is itself
        return sentence
    pronoun = _PRONOUN_LEAD.match(lowered)
    if pronoun and pronoun.group(2) == "it" and getattr(passage, "voice", "") not in ("chatgpt", "bing", "literature"):
        pronoun = None   # "It is a group of people …" in Glick's note is a customer, not Glick
    if pronoun:   # "But he warns …" -> "But Glick warns …"
        subject = f"{pronoun.group(1).capitalize()} {who}" if pronoun.group(1) else f"{who[0].upper()}{who[1:]}"
        return f"{subject} {sentence[pronoun.end():]}"
    possessive = _POSSESSIVE_LEAD.match(lowered)
    if possessive:
        return f"{possessive.group(1).capitalize()} {who}'s " + sentence[possessive.end():]
    first = re.sub(r"['’]s$", "", sentence.split(" ", 1)[0])   # "Bing's 16 years …" starts with a name
    proper = first not in _FUNCTION_WORDS and (re.search(rf"[a-z,] {re.escape(first)}\b", passage.text or "")
                                               or len(first) > 1 and first.isupper() or first == "I")
    body = sentence if proper else sentence[0].lower() + sentence[1:]
    return f"{prefix[0].upper()}{prefix[1:]} {body}"


def in_dutch(chosen, citations, verdict, focus: Focus, vocab: Vocab, corpus_dir: str) -> str:
    """A composed answer in Dutch: its verdict, each voice's English sentences quoted under a Dutch lead, and a
    glossary of the key English terms they use (concepts.yaml)."""
    dutch = focus.dutch
    parts, last_who = [], None
    if verdict:
        _p, who, _n = _voice_label(chosen[0].passage, focus, "nl")
        parts.append(dutch.get("verdict_lead", "{verdict}.").format(
            verdict=dutch.get("verdicts", {}).get(verdict, verdict), who=who))
    glossed: dict[str, str] = {}
    terms = dutch_terms(corpus_dir)
    for s in chosen:
        _p, who, _n = _voice_label(s.passage, focus, "nl")
        if who != last_who:
            parts.append(dutch.get("quote_lead", "{who}:").format(who=who))
            last_who = who
        parts.append(f"“{s.sentence}” [{citations[s.passage.chunk_id].marker}]")
        for concept, term in english_terms(s.sentence, vocab):
            head, dutch_head = terms.get(concept, ("", ""))
            if term.lower().removesuffix("s") == head.removesuffix("s") and term not in glossed \
                    and dutch_head not in glossed.values():
                glossed[term] = dutch_head
        for rx, english, word in dutch_words(corpus_dir):
            if english not in glossed and word not in glossed.values() and rx.search(s.sentence):
                glossed[english] = word
    pairs = [f"{en} = {nl}" for en, nl in glossed.items() if en != nl.lower()]
    if pairs:
        parts.append(dutch.get("gloss", "{pairs}.").format(pairs="; ".join(pairs[:10])))
    return " ".join(parts)


def english_terms(sentence: str, vocab: Vocab) -> list[tuple[str, str]]:
    """(concept, English term) pairs a sentence uses, longest term first, none inside another."""
    lowered, taken, out = sentence.lower(), [], []
    for concept, lang, term, rx in vocab.patterns:
        if lang != "en" or any(c == concept for c, _t in out):
            continue
        match = rx.search(lowered)
        if match and not any(s < match.end() and match.start() < e for s, e in taken):
            taken.append(match.span())
            out.append((concept, term))
    return out
