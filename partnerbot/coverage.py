"""The parts of a question an answer leaves unanswered, found by meaning.

A question often asks two things at once ("my service desk depends on a team inside the company, and on an
outside vendor: which agreement covers each?", "what is the relational view, and what use is it when …?"). An
answer led by the best sentence for the question as a whole tends to answer its first part only. Each clause of
the question is compared in meaning with the answer's sentences and with the passages' candidates; a clause that
some candidate answers clearly better than anything said gets that candidate."""

from __future__ import annotations

import re
from typing import Callable

from .stance import Scored

# a clause ends at punctuation or at a coordinating word that three more words of the same clause follow (not the
# "and" of "between an SLA and an OLA, and …")
_JOIN = r"(?:and also|and|but|or|en ook|en|maar|of)\s+"
_CLAUSE = re.compile(rf"[,;:?!.]\s+(?:{_JOIN})?|\s+{_JOIN}(?=(?:[^\s,;:?!.]+\s+){3})", re.I)
MIN_WORDS = 4       # shorter clauses ("so what's the catch") carry too little meaning to compare
MARGIN = 0.06       # how much closer in meaning a candidate must be to a clause than the answer's best sentence
POOL = 20           # candidates considered: the best ones for the question as a whole


def clauses(text: str) -> list[str]:
    return [c.strip() for c in _CLAUSE.split(text) if c and len(c.split()) >= MIN_WORDS]


def uncovered(text: str, said: list[str], scored: list[Scored], floor: float,
              between: Callable[[str, list[str]], dict] | None, limit: int = 1) -> list[Scored]:
    """Up to limit candidates (scored at least floor for the whole question), each answering a clause of the
    question that none of the said sentences answers as well, by MARGIN."""
    parts = clauses(text)
    pool = [s for s in scored if s.score >= floor][:POOL]
    if between is None or len(parts) < 2 or not pool or not said:
        return []
    said = list(said)
    added: list[Scored] = []
    for part in parts:
        cosine = between(part, said + [s.sentence for s in pool])
        have = max(cosine[s] for s in said)
        best = max((s for s in pool if s.sentence not in said), key=lambda s: cosine[s.sentence], default=None)
        if best is not None and cosine[best.sentence] - have >= MARGIN:
            added.append(best)
            said.append(best.sentence)
            if len(added) >= limit:
                break
    return added
