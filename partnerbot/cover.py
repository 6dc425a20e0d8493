"""A claim's answer completed for what the question asks and the claim leaves out: when the question names a
topic concept (RA(S)CI, escalation, governance …) that none of the claim's sentences names, the first sentence
naming it of the claim that best answers that concept is added after the claim's own sentences."""

from __future__ import annotations

from .claims import Claim
from .question import Focus, Question
from .vocab import Vocab

PARTIES = frozenset({"client", "contractor", "customer", "supplier", "partner", "strategic_partner"})
MAX_ADDED = 1


def uncovered(q: Question, claim: Claim, vocab: Vocab, focus: Focus) -> list[str]:
    """Topic concepts of the question that no sentence of the claim names (parties and voices do not count)."""
    voiced = {c for v in focus.voices for c in v.concepts} | {v.id for v in focus.voices}
    said = {c for item in claim.sentences["en"] for c in vocab.concepts(item["say"])}
    return [c for c in q.concepts if c not in PARTIES and c not in voiced and c not in claim.neutral
            and c not in said and c not in claim.concepts]


def covering_sentences(q: Question, claim: Claim, claims: tuple[Claim, ...], vocab: Vocab, focus: Focus,
                       match, lang: str) -> list[tuple[dict, dict]]:
    """(English item, item in `lang`) of the sentences that cover the question's uncovered concepts."""
    out = []
    voiced = [c for c in q.concepts if any(c in v.concepts for v in focus.voices)]
    for concept in uncovered(q, claim, vocab, focus)[:MAX_ADDED]:
        other = match(" ".join(q.words), [concept] + voiced, ["definition"])
        if other is None or other.id == claim.id:
            continue
        use = lang if lang in other.sentences else "en"
        for english, item in zip(other.sentences["en"], other.sentences[use]):
            if concept in vocab.concepts(english["say"]):
                out.append((english, item))
                break
    return out
