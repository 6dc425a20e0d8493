"""Deterministic follow-up rewriting: "and a supplier?" after "Can a contractor be a strategic partner?".

Three shapes, tried in order on a short question that leans on the previous user turn:
- a bare "why?" / "why not?" / "waarom?": the previous question plus the new words;
- a noun phrase ("and a supplier?", "what about Bing?", "en een leverancier?"): the previous question with its
  first concept of the same kind (party, relationship, chatbot, article) replaced by the new term, or the previous
  question with the phrase appended when nothing of that kind is there to replace;
- a question of its own ("and who holds the A?", "en wie heeft de A?"): kept, with the previous question's
  concept terms appended as context.
"""

from __future__ import annotations

import re

from .vocab import Vocab

_LEAD = re.compile(r"^\s*(and|but|or|so|then|also|what about|how about|and what about|en|maar|of|dus|ook|"
                   r"wat dan met|en wat als|wat als|hoe zit het met|en hoe zit het met|en wat met)\b[\s,]*", re.I)
_BARE_WHY = re.compile(r"^\s*(and\s+|en\s+)?(why|why not|how so|how come|waarom|waarom niet|hoezo)\s*[?.!]*\s*$", re.I)
_OWN_QUESTION = re.compile(r"^\s*(who|whom|what|which|why|how|when|where|can|could|is|are|does|do|did|should|must|may|"
                           r"was|were|has|have|wie|wat|welke|waarom|hoe|wanneer|waar|kan|kunnen|is|zijn|heeft|hebben|"
                           r"moet|mag|klopt|bestaat)\b", re.I)
_PRONOUN = re.compile(r"\b(it|that|this|they|them|he|she|his|her|its|their|het|dat|dit|die|ze|zij|hij|hem|haar|hun)\b",
                      re.I)
# Concepts that can stand in for each other in a follow-up ("and a supplier?" swaps a party for a party).
GROUPS = (frozenset({"client", "contractor", "customer", "supplier"}), frozenset({"partner", "strategic_partner"}),
          frozenset({"chatgpt", "bing"}), frozenset({"totus", "glick"}))
# Concepts naming a source or voice rather than a topic.
_SOURCES = frozenset({"totus", "glick", "chatgpt", "bing", "ai", "literature"})
MAX_FOLLOWUP_WORDS = 7


def last_user_question(turns: list[tuple[str, str]]) -> str | None:
    for role, content in reversed(turns):
        if role == "user" and content.strip():
            return content.strip()
    return None


def _group(concept: str) -> frozenset:
    return next((g for g in GROUPS if concept in g), frozenset({concept}))


def _spans(vocab: Vocab, text: str, concepts: set[str]) -> list[tuple[int, int, str]]:
    """(start, end, concept) of each first mention of the given concepts, in text order."""
    lowered = text.lower()
    found: dict[str, tuple[int, int]] = {}
    for concept, _lang, _term, regex in vocab.patterns:  # longest terms first
        if concept in concepts:
            match = regex.search(lowered)
            if match and (concept not in found or match.start() < found[concept][0]):
                found[concept] = match.span()
    return sorted((s, e, c) for c, (s, e) in found.items())


def rewrite(question: str, turns: list[tuple[str, str]], vocab: Vocab) -> str | None:
    """Return a standalone question when `question` leans on the previous user turn, else None."""
    previous = last_user_question(turns)
    if not previous or len(question.split()) > MAX_FOLLOWUP_WORDS:
        return None
    if _BARE_WHY.match(question):
        return f"{previous.rstrip()} {question.strip()}"
    new = vocab.concepts(question)
    led = bool(_LEAD.match(question))
    core = _LEAD.sub("", question, count=1).strip(" ?.!,")
    if not core or (new and not led):
        return None  # a standalone question ("What is RASCI?") or nothing left to work with
    old = vocab.concepts(previous)
    if _OWN_QUESTION.match(core):
        if not (led or _PRONOUN.search(core) or len(question.split()) <= 3):
            return None  # "Who won the match?" is a new question, not a follow-up
        context = [previous[s:e] for s, e, c in _spans(vocab, previous, set(old) - set(new))]
        if not context:
            return None
        return f"{core}? ({', '.join(context)})"
    topics = [c for c in old if c not in _SOURCES]
    for concept in new:
        candidates = {c for c in old if c in _group(concept) and c not in new}
        if not candidates and len(topics) == 1 and concept not in _SOURCES:
            candidates = set(topics)  # "What is a supplier?" + "And a partner?": the one topic is swapped
        spans = _spans(vocab, previous, candidates)
        if spans:
            start, end, _ = spans[0]
            term = next(((question[s:e]) for s, e, _c in _spans(vocab, question, {concept})), core)
            return previous[:start] + term + previous[end:]
    return f"{previous.rstrip()} ({core})"
