"""Deterministic follow-up rewriting: "and a supplier?" after "Can a contractor be a strategic partner?"."""

from __future__ import annotations

import re

from .vocab import Vocab

_FOLLOWUP = re.compile(
    r"^\s*(and|but|what about|how about|or|so|then|en|maar|wat dan met|en wat als|wat als|hoe zit het met|of)\b"
    r"|^\s*(why|waarom|how so|hoezo|and why|en waarom)\s*\??\s*$", re.I)
_PARTIES = {"client", "contractor", "customer", "supplier"}
_RELATIONS = {"partner", "strategic_partner"}


def last_user_question(turns: list[tuple[str, str]]) -> str | None:
    for role, content in reversed(turns):
        if role == "user" and content.strip():
            return content.strip()
    return None


def _group(concept: str) -> set[str]:
    return _PARTIES if concept in _PARTIES else _RELATIONS if concept in _RELATIONS else {concept}


def _first_span(vocab: Vocab, text: str, concepts: set[str]) -> tuple[int, int] | None:
    lowered = text.lower()
    best = None
    for concept, _lang, _term, regex in vocab.patterns:
        if concept not in concepts:
            continue
        match = regex.search(lowered)
        if match and (best is None or match.start() < best[0]):
            best = match.span()
    return best


def rewrite(question: str, turns: list[tuple[str, str]], vocab: Vocab) -> str | None:
    """Return a standalone question when `question` leans on the previous user turn, else None."""
    previous = last_user_question(turns)
    if not previous:
        return None
    new = vocab.concepts(question)
    short = len(question.split()) <= 6
    if not (_FOLLOWUP.search(question) and short) and (new or not short):
        return None
    old = vocab.concepts(previous)
    core = re.sub(_FOLLOWUP, "", question).strip(" ?.!,")
    if not new:
        return f"{previous.rstrip()} {question.strip()}"
    # Replace the previous question's first concept of the same kind (party or relationship) with the new term.
    for concept in new:
        candidates = {c for c in old if c in _group(concept) and c not in new}
        span = _first_span(vocab, previous, candidates) if candidates else None
        if span:
            term_span = _first_span(vocab, question, {concept})
            term = question[term_span[0]:term_span[1]] if term_span else core
            return previous[:span[0]] + term + previous[span[1]:]
    return f"{previous.rstrip()} ({core})"
