"""A claim's answer completed for what the question asks and the claim leaves out: when the question names a
topic concept (RA(S)CI, escalation, governance …) that none of the claim's sentences names, the first sentence
naming it of the claim that best answers that concept is added after the claim's own sentences."""

from __future__ import annotations

from .claims import Claim
from .question import Focus, Question
from .vocab import Vocab

_SAID: dict = {}   # (vocab id, sentence) -> its concepts: claim sentences repeat across questions


def concepts_of(text: str, vocab: Vocab) -> frozenset:
    key = (id(vocab), text)
    if key not in _SAID:
        if len(_SAID) > 20_000:
            _SAID.clear()
        _SAID[key] = frozenset(vocab.concepts(text))
    return _SAID[key]


PARTIES = frozenset({"client", "contractor", "customer", "supplier", "partner", "strategic_partner"})
MAX_ADDED = 1


def uncovered(q: Question, claim: Claim, vocab: Vocab, focus: Focus) -> list[str]:
    """Topic concepts of the question that no sentence of the claim names (parties and voices do not count)."""
    voiced = {c for v in focus.voices for c in v.concepts} | {v.id for v in focus.voices}
    said = {c for item in claim.sentences["en"] for c in concepts_of(item["say"], vocab)}
    return [c for c in q.concepts if c not in PARTIES and c not in voiced and c not in claim.neutral
            and c not in said and c not in claim.concepts]


def covering_sentences(q: Question, claim: Claim, claims: tuple[Claim, ...], vocab: Vocab, focus: Focus,
                       match, lang: str) -> list[tuple[dict, dict]]:
    """(English item, item in `lang`) of the sentences that cover the question's uncovered concepts."""
    missing = uncovered(q, claim, vocab, focus)[:MAX_ADDED]
    if not missing:
        return []
    out = []
    voiced = [c for c in q.concepts if any(c in v.concepts for v in focus.voices)]
    for concept in missing:
        other = match(" ".join(q.words), [concept] + voiced, ["definition"])
        if other is None or other.id == claim.id:
            continue
        use = lang if lang in other.sentences else "en"
        for english, item in zip(other.sentences["en"], other.sentences[use]):
            if concept in concepts_of(english["say"], vocab):
                out.append((english, item))
                break
    return out
