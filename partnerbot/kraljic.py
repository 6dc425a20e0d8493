"""Where a described purchase sits in Kraljic's portfolio ("a cheap sensor only two firms make": low impact on
profit, high supply risk, a bottleneck item), and whether the supplier of it warrants a partnership. Each item the
description names is placed on both axes from the cues in corpus/focus.yaml (situation.kraljic); an item placed on
only one axis is left out."""

from __future__ import annotations

import re
from functools import lru_cache

from .question import Focus, Question

_SEGMENTS = re.compile(r"[;:.]\s+|\s+(?:and|en)\s+(?=(?:a|an|the|een|de|het|our|onze|ons)\s)", re.I)
_ITEM_END = re.compile(r"\s*(?:\(|,|\bdie\b|\bdat\b|\bthat\b|\bwhich\b|\bwaarvan\b|\bthrough\b|\bvia\b|\bfrom\b)", re.I)
_ARTICLE = re.compile(r"^(?:we\s+\w+\s+)?(?:a|an|the|een|de|het)\s+", re.I)


@lru_cache(maxsize=64)
def _rx(pattern: str) -> re.Pattern:
    return re.compile(pattern, re.I)


def _item(segment: str) -> str:
    """The words naming the item: the segment up to its first clause or bracket, without its article."""
    name = _ITEM_END.split(segment, maxsplit=1)[0].strip()
    return _ARTICLE.sub("", name).strip() or segment.strip()


def placed_items(text: str, spec: dict) -> list[tuple[str, str]]:
    """(item words, quadrant) for each part of a description placed on both of Kraljic's axes; a purchase with
    a low supply risk and no cue on its impact ("three interchangeable suppliers") is placed as low_risk: a
    leverage or a non-critical item, neither of which warrants a partnership."""
    out = []
    for segment in _SEGMENTS.split(text):
        levels = {}
        for axis in ("risk", "impact"):
            high, low = (_rx(spec[f"{axis}_{lvl}"]).search(segment) for lvl in ("high", "low"))
            levels[axis] = "high" if high and not low else "low" if low and not high else None
        if None not in levels.values():
            out.append((_item(segment), spec["quadrants"][f"{levels['impact']}_impact_{levels['risk']}_risk"]))
        elif levels == {"risk": "low", "impact": None} and _rx(spec["purchase"]).search(segment):
            out.append((_item(_rx(spec["purchase"]).split(segment, maxsplit=1)[-1]), "low_risk"))
    return out


def kraljic_lead(question: Question, focus: Focus, lang: str) -> tuple[list[tuple[str, dict]], str | None] | None:
    """The sentences that place each described purchase in Kraljic's portfolio, with the note section they cite,
    and the verdict on whether a partnership fits (yes only for a strategic item); None when nothing is placed."""
    spec = focus.situation.get("kraljic")
    if not spec:
        return None
    items = placed_items(question.text, spec)
    if not items:
        return None
    cite = spec.get("cite") or {}
    out = [(spec["place"][lang].format(item=item, **spec["labels"][quadrant][lang]), cite) for item, quadrant in items[:3]]
    out += [(spec["why"][lang], spec.get("why_cite") or cite)]
    quadrants = {quadrant for _item, quadrant in items}
    verdict = ("yes" if quadrants == {"strategic"} else "no") if len(quadrants) == 1 else None
    return out, verdict
