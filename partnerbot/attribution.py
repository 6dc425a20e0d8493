"""A view the question ascribes to one voice on a topic that voice never speaks of.

"Glick argues that the client must always keep the A in the RACI model. Why?" takes for granted that Glick said
so; his passages never mention RA(S)CI (the Totus author's footnote does). The answer then opens by saying the
ascription is not established, and goes on with what the sources do say. A voice's topics are the concepts
(corpus/concepts.yaml) its passages mention, collected once per store generation."""

from __future__ import annotations

import re

from .claims import VERDICT_LEADS
from .compose import PARTIES
from .lang import sentences
from .question import Focus, Question, Voice
from .vocab import Vocab

NAME_GAP = 60   # characters between a voice's name and the verb that ascribes a view to it ("Glick, in his column, argues")

_THAT = re.compile(r"(?:\s+[\w'-]+){0,4}?\s+(?:that|dat)\b", re.I)
_ACCORDING = re.compile(r"\b(?:according to|in the (?:view|eyes) of|volgens|naar de mening van)\s+$", re.I)
_SUBJECT = re.compile(r"^\s*(?:the |de |het )?[\w-]*\s*$", re.I)   # the voice opens the sentence, as its subject
_ANY_LEAD = re.compile(r"^(Not established|Niet vastgesteld|Yes, with nuance|Ja, met nuance|Yes|No|Ja|Nee)[.:]\s*")
_POSSESSIVE = re.compile(r"^(?:'s|’s|s)\b")
_ASKER = re.compile(r"\b(?:I|my|we|our|us|ik|mijn|wij|we|ons|onze|please|alsjeblieft|alstublieft|graag)\b", re.I)

# "Was it ChatGPT that …?", "was that Glick talking about himself?", "Was het Bing die …?": who said it is checked
_WHO_CHECK = re.compile(r"\b(?:was|wasn't|is|isn't)\s+(?:it|that|this|het|dat|dit)\s+(?:really\s+|actually\s+|echt\s+|nou\s+)?",
                        re.I)
_ARTICLE_ONLY = re.compile(r"^(?:(?:a|an|the|de|het|een)\s+)?$")   # before the voice's name: "a reader", "de auteur"
WAS = {"en": "it was {who}.", "nl": "dat was {who}."}

OPENING = {
    "en": "{lead}: the sources do not show {who} saying this; {who}'s passages never discuss {term}.",
    "nl": "{lead}: de bronnen laten niet zien dat {who} dit zegt; {who} bespreekt {term} nergens.",
}


def voice_topics(passages, focus: Focus, vocab: Vocab) -> dict[str, frozenset[str]]:
    """voice id -> the concepts its passages mention."""
    topics: dict[str, set[str]] = {v.id: set() for v in focus.voices}
    for passage in passages:
        found = set(vocab.concepts(passage.text))
        for voice in focus.voices:
            if voice.speaks(passage):
                topics[voice.id] |= found
    return {vid: frozenset(t) for vid, t in topics.items()}


def _named_at(sentence: str, voice: Voice) -> int | None:
    """Where the sentence first names the voice (by a name or a pattern of focus.yaml), or None."""
    lowered = sentence.lower()
    spots = [m.end() for rx in voice.patterns for m in rx.finditer(lowered)]
    spots += [m.end() for n in voice.names if n for m in re.finditer(rf"\b{re.escape(n)}\b", lowered)]
    return min(spots) if spots else None


def ascribed_views(q: Question, focus: Focus, vocab: Vocab) -> tuple[Voice, list[tuple[str, str]]] | None:
    """(voice, [(concept, term)]) for a view the question ascribes to a voice it names in a that-clause ("Glick
    argues that …", "Bing told the author that …"), or in a statement citing it or with it as subject when it is
    the only voice named; up to the asker's own words; None when there is none."""
    cue = focus.verdict_cues.get("attributes")
    if cue is None:
        return None
    for vid in q.voices:
        voice = focus.voice(vid)
        if voice is not None and voice.id != "literature":
            views = _views(q.text, voice, cue, vocab, single=len(q.voices) == 1)
            if views is not None:
                return views
    return None


def _views(text: str, voice: Voice, cue: re.Pattern, vocab: Vocab, single: bool):
    """ascribed_views for one voice; among several voices only a view after an ascribing verb counts."""
    for sentence in sentences(text):
        at = _named_at(sentence, voice)
        view = _according(sentence, voice, at)
        if view is not None:   # "According to Glick, the client must keep the A." (a statement, not a question)
            said = sorted(set(vocab.concepts(view)) - set(PARTIES) - set(voice.concepts))
            if said:
                return voice, [(concept, _term(view, concept, vocab)) for concept in said]
            continue
        verb = cue.search(sentence, at) if at is not None else None
        clause = _THAT.match(sentence, verb.end()) if verb is not None and verb.start() - at <= NAME_GAP else None
        if clause is not None:
            view = _ASKER.split(sentence[clause.end():])[0]
        elif single and at is not None and _SUBJECT.match(sentence[:at]) and not sentence.rstrip().endswith("?") \
                and not _POSSESSIVE.match(sentence[at:]):
            view = _ASKER.split(sentence[at:])[0]   # "Glick uses the A12 project as his example." states what he does
        else:
            continue
        said = sorted(set(vocab.concepts(view)) - set(PARTIES) - set(voice.concepts))
        if said:
            return voice, [(concept, _term(view, concept, vocab)) for concept in said]
    return None


def _according(sentence: str, voice: Voice, at: int | None) -> str | None:
    """The view of a statement that cites the voice as its source ("According to Glick, …", "Volgens Bing …"):
    the rest of the sentence, up to the asker's own words; None for a question or another kind of sentence."""
    if at is None or sentence.rstrip().endswith("?"):
        return None
    lowered = sentence.lower()
    start = next((m.start() for n in (*voice.names, voice.id) if n
                  for m in re.finditer(rf"\b{re.escape(n.lower())}\b", lowered) if m.end() == at), None)
    cue = _ACCORDING.search(sentence[:start]) if start is not None else None
    if cue is None:
        return None
    rest = sentence[:cue.start()] + " " + sentence[at:].lstrip(" ,")
    return _ASKER.split(rest)[0]


def misattributed(views: tuple[Voice, list[tuple[str, str]]], topics: dict[str, frozenset[str]]):
    """(voice, concept, term) for the first concept of the ascribed view that the voice's passages never mention
    and another voice's do (topics: voice_topics); None when the voice speaks of all of them."""
    voice, said = views
    for concept, term in said:
        if concept not in topics.get(voice.id, ()) and any(concept in t for vid, t in topics.items() if vid != voice.id):
            return voice, concept, term
    return None


def _term(text: str, concept: str, vocab: Vocab) -> str:
    """The words of the text that name the concept, as written ("RACI-model"), else its first English term."""
    lowered = text.lower()
    for c, _lang, _word, rx in vocab.patterns:
        match = rx.search(lowered) if c == concept else None
        if match:
            return text[match.start():match.end()]
    return vocab.english.get(concept, concept.replace("_", " "))


def opening(voice: Voice, term: str, lang: str, verdict: str = "not-established") -> str:
    """The sentence that opens the answer: the ascription is not established (to a yes/no question: no)."""
    leads = VERDICT_LEADS.get(lang, VERDICT_LEADS["en"])
    return OPENING.get(lang, OPENING["en"]).format(lead=leads[verdict], who=voice.who.get(lang, voice.id), term=term)


def reopened(result, ascribed: tuple[Voice, str, str], polar: bool) -> None:
    """The answer opened by the misattribution: "Glick writes that … Correct?" is answered no, "… Why?" builds on
    something not established; the answer's own verdict lead goes (the opening gives the verdict)."""
    result.verdict = "no" if polar else "not-established"
    rest = _ANY_LEAD.sub("", result.text)
    result.text = f"{opening(ascribed[0], ascribed[2], result.language, result.verdict)} {rest[:1].upper()}{rest[1:]}"


def checked_speaker(asked: str, focus: Focus) -> Voice | None:
    """The voice a question checks as the speaker of something ("Was it a reader, not Glick, who …?"), or None."""
    for match in _WHO_CHECK.finditer(asked):
        rest = asked[match.end():match.end() + 40].lower()
        for voice in focus.voices:
            if voice.id == "literature":
                continue
            starts = [m.start() for rx in voice.patterns for m in rx.finditer(rest)]
            # (a possessive too: "is that Glick's own view?", "is dat Glicks eigen standpunt?")
            starts += [m.start() for n in voice.names if n for m in re.finditer(rf"\b{re.escape(n)}(?:'s|’s|s)?\b", rest)]
            if starts and _ARTICLE_ONLY.match(rest[:min(starts)]):   # "is that what Glick argued?" checks the view
                return voice
    return None


def speaker_answered(result, checked: Voice, focus: Focus) -> None:
    """The answer to "was it X who said …?", found without preferring X: yes when the passage it leads with speaks
    in X's voice, else no, naming the voice it does speak in; left as it is when that is the literature."""
    speaker = focus.voice_of(result.citations[0]) if result.citations else None
    if speaker is None or speaker.id == "literature":   # a checking note: the voice its first sentence names first
        first = sentences(_ANY_LEAD.sub("", result.text))[:1]
        named = sorted((at, v.id, v) for v in focus.voices if v.id != "literature" and first
                       for at in [_named_at(first[0], v)] if at is not None)
        speaker = named[0][2] if named else None
    if speaker is None:
        return
    lang = result.language if result.language in WAS else "en"
    leads = VERDICT_LEADS.get(lang, VERDICT_LEADS["en"])
    result.verdict = "yes" if speaker.id == checked.id else "no"
    opening = f"{leads['yes']}." if result.verdict == "yes" else \
        f"{leads['no']}: {WAS[lang].format(who=speaker.who.get(lang, speaker.id))}"
    rest = _ANY_LEAD.sub("", result.text)
    result.text = f"{opening} {rest[:1].upper()}{rest[1:]}"


class Ascriptions:
    """ascriptions(q) -> (voice, concept, term) when the question ascribes a view to a voice whose passages never
    discuss its topic; the voices' topics are collected once per store generation, and only when a question
    ascribes a view at all (collecting them takes ~1 s)."""

    def __init__(self, retriever, focus: Focus, vocab: Vocab):
        self.retriever, self.focus, self.vocab = retriever, focus, vocab
        self._topics: tuple[int, dict] = (-2, {})   # (store generation, voice -> concepts), replaced whole

    def __call__(self, q: Question):
        views = ascribed_views(q, self.focus, self.vocab)
        if views is None:
            return None
        index = self.retriever.refresh()
        if self._topics[0] != index.generation:
            passages = [p for doc in sorted(index.by_doc) for p in self.retriever.note_passages(doc)]
            self._topics = (index.generation, voice_topics(passages, self.focus, self.vocab))
        return misattributed(views, self._topics[1])
