"""Citation checking: parse [n] markers per sentence, keep only sentences a cited passage supports, renumber.

Deterministic and free of partnerbot imports: the caller passes the content-word tokenizer and, optionally, a
similarity function (embedding cosine). A cited passage supports a sentence when

    lexical share  = |content words of the sentence found in the passage| / |content words of the sentence|
                     >= threshold,                                                        or
    similarity(sentence, passage) >= cosine.

Sentences without markers, citing only numbers that were not given, or with no supporting cited passage are
dropped; markers of cited passages that do not support their sentence are removed from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Mapping

MARKER = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")
# "text. [1][2]" -> "text [1][2]." so the markers stay with the sentence they close
_TRAILING = re.compile(r"([.!?][\"”’')]*)((?:\s*\[\d+(?:\s*,\s*\d+)*\])+)")
_BOUNDARY = re.compile(r"(?<=[.!?])\s+(?=[\"“‘'(\[*•\-–0-9A-ZÀ-Þ])")
_ABBREVIATION = re.compile(r"(?:\b(?:e\.g|i\.e|[Mm]rs?|[Mm]s|[Dd]r|vs|cf|etc|pp?|bijv|o\.a|d\.w\.z)|\b[A-Z])\.$")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,;:!?])")


@dataclass
class Sentence:
    text: str                 # the sentence without its markers
    markers: list[int]        # as written, deduplicated, in order
    new_line: str = ""        # line break(s) written before it ("" within a paragraph)


@dataclass
class Check:
    sentence: Sentence
    supported_by: list[int] = field(default_factory=list)   # cited markers whose passage supports the sentence
    reason: str = ""                                         # why it was dropped ("" when kept)

    @property
    def kept(self) -> bool:
        return bool(self.supported_by)


@dataclass
class Verified:
    text: str                  # kept sentences with markers renumbered 1..m by first use
    sources: list[int]         # sources[i] = the original marker now numbered i + 1
    checks: list[Check]

    @property
    def dropped(self) -> list[Check]:
        return [c for c in self.checks if not c.kept]


def split_sentences(text: str) -> list[Sentence]:
    """Sentences with their [n] markers; lines (bullets, paragraphs) always end a sentence."""
    out: list[Sentence] = []
    pending_break = ""
    for line in re.split(r"(\n+)", text.strip()):
        if not line.strip():
            pending_break = "\n\n" if line.count("\n") > 1 else "\n"
            continue
        pieces: list[str] = []
        for piece in _BOUNDARY.split(_TRAILING.sub(r"\2\1", line.strip())):
            if pieces and _ABBREVIATION.search(pieces[-1]):
                pieces[-1] += " " + piece
            else:
                pieces.append(piece)
        for piece in pieces:
            markers = [int(n) for group in MARKER.findall(piece) for n in re.split(r"\s*,\s*", group)]
            body = _SPACE_BEFORE_PUNCT.sub(r"\1", MARKER.sub("", piece)).strip()
            if body:
                out.append(Sentence(body, list(dict.fromkeys(markers)), pending_break if out else ""))
                pending_break = ""
    return out


class SupportChecker:
    def __init__(self, words: Callable[[str], list[str]], threshold: float, cosine: float,
                 similarity: Callable[[str, str], float] | None = None,
                 forbidden: Callable[[str], bool] | None = None):
        self.words = words
        self.threshold = threshold
        self.cosine = cosine
        self.similarity = similarity
        self.forbidden = forbidden      # sentences never to keep, whatever they cite (e.g. repeated instructions)

    def lexical(self, sentence: str, passage: str) -> float:
        want = set(self.words(sentence))
        if not want:
            return 0.0
        return len(want & set(self.words(passage))) / len(want)

    def supports(self, sentence: str, passage: str) -> bool:
        if self.lexical(sentence, passage) >= self.threshold:
            return True
        return self.similarity is not None and self.similarity(sentence, passage) >= self.cosine

    def check(self, sentence: Sentence, passages: Mapping[int, str]) -> Check:
        if self.forbidden is not None and self.forbidden(sentence.text):
            return Check(sentence, reason="repeating the assistant's instructions")
        if not sentence.markers:
            return Check(sentence, reason="without a citation")
        known = [m for m in sentence.markers if m in passages]
        if not known:
            return Check(sentence, reason="citing a passage number that was not given")
        supported = [m for m in known if self.supports(sentence.text, passages[m])]
        return Check(sentence, supported, "" if supported else "not supported by the passage it cites")

    def verify(self, text: str, passages: Mapping[int, str]) -> Verified:
        """Check every sentence of `text` against `passages` (marker -> passage text) and renumber the kept ones."""
        checks = [self.check(s, passages) for s in split_sentences(text)]
        sources: list[int] = []
        parts: list[str] = []
        line_break = ""   # a dropped sentence's line break passes to the next kept one
        for check in checks:
            if not check.kept:
                line_break = line_break or check.sentence.new_line
                continue
            numbers = []
            for marker in check.supported_by:
                if marker not in sources:
                    sources.append(marker)
                numbers.append(sources.index(marker) + 1)
            rendered = check.sentence.text + " " + "".join(f"[{n}]" for n in numbers)
            joiner = check.sentence.new_line or line_break or " "
            parts.append(rendered if not parts else joiner + rendered)
            line_break = ""
        return Verified("".join(parts), sources, checks)
