"""Citation checking: parse [n] markers per sentence, keep only sentences a cited passage supports, renumber.

Deterministic and free of partnerbot imports: the caller passes how to judge support (partnerbot/support.py
judges across English and Dutch; a plain word-share + cosine judge is built in for simple use). Sentences
without markers, citing only numbers that were not given, or with no supporting cited passage are dropped;
markers of cited passages that do not support their sentence are removed from it. What careful models write
around their cited sentences is kept when it adds no claim of its own:

- a bare verdict lead ("No." / "Yes, but not automatically." / "Nee.") directly followed by a kept sentence;
- a list lead-in ending in ":" directly followed by a kept list item, most of its words found in the cited
  passages;
- list items keep their numbering or bullet ("1. ", "- ");
- a closing caveat or attribution about the quoted chatbot answers ("These are quoted chatbot answers, not
  established fact."), when the answer cites such a passage.

A sentence whose only support is a chatbot's quoted answer (voice chatgpt/bing) must say whose claim it is;
one that states it as plain fact is given the attribution ("Bing answered that …").
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
_LIST_ITEM = re.compile(r"^((?:\d{1,2}[.)]|[-*•–])\s+)")
# A verdict with nothing else in it: a lead, not a claim of its own.
_VERDICT = re.compile(
    r"^\W*(yes|no|nope|not (exactly|quite|really|necessarily|automatically|always)|partly|it depends|depends|"
    r"ja|nee|niet (precies|helemaal|echt|per se|noodzakelijk|automatisch|altijd|vanzelf)|deels|gedeeltelijk|"
    r"dat hangt ervan af|het hangt ervan af|the client|the contractor|de opdrachtgever|de opdrachtnemer)"
    r"(\s*[,;:–-]?\s*(but|though|with (a )?nuance|in principle|maar|met nuance|in principe)?\s*"
    r"(not (always|automatically|necessarily)|niet (altijd|automatisch|vanzelf|per se))?)?\W*$", re.I)
CHATBOT_VOICES = {"chatgpt": "ChatGPT", "bing": "Bing"}
_CHATBOT_NAMED = re.compile(r"\b(chatgpt|bing|chatbots?|the (ai|bot|model)s?|de (ai|bot)|ai[- ](answers?|tools?|"
                            r"chatbots?)|it (answered|replied|said|claimed)|(zij|hij) (antwoordde|zei|stelde))\b", re.I)
# Words a caveat or attribution about quoted chatbot answers is made of (English and Dutch).
_CAVEAT_WORDS = frozenset("""
note notes noted keep mind bear please remember treat treated these those this that such both answers answer answered
reply replies replied quoted quote quotes quotation chatbot chatbots chatgpt bing ai generated claims claim claimed
statement statements fact facts established verified verify unverified check checked checking should must be not
only rather than a an the is are was were as of to in on and or it its for by with from opinions opinion views view sources source reliable reliability evidence taken face value caution
careful cited citing own word words what they say said their its
let op dit dat deze die zijn geen vaststaande feiten feit geciteerde geciteerd antwoorden antwoord chatbot chatbots
beweringen bewering geverifieerd gecontroleerd controleren controleer bron bronnen betrouwbaar niet als maar slechts
meningen mening ze zij wat zeggen zei behandel behandelen voorzichtig een het de is zijn van en of om te in op
voor door met uit hun
""".split())


@dataclass
class Source:
    """A cited passage as the check sees it."""
    text: str
    voice: str = ""
    language: str = "en"


@dataclass
class Sentence:
    text: str                 # the sentence without its markers or list prefix
    markers: list[int]        # as written, deduplicated, in order
    new_line: str = ""        # line break(s) written before it ("" within a paragraph)
    prefix: str = ""          # "1. " or "- " when it starts a list item


@dataclass
class Check:
    sentence: Sentence
    supported_by: list[int] = field(default_factory=list)   # cited markers whose passage supports the sentence
    reason: str = ""                                         # why it was dropped ("" when kept)
    kept_as: str = ""                                        # "lead" | "caveat" for marker-less sentences kept
    attributed: str = ""                                     # "Bing answered that …" prefix added

    @property
    def kept(self) -> bool:
        return bool(self.supported_by or self.kept_as)


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
        line = line.strip()
        item = _LIST_ITEM.match(line)
        prefix = item.group(1) if item else ""
        pieces: list[str] = []
        for piece in _BOUNDARY.split(_TRAILING.sub(r"\2\1", line[len(prefix):])):
            if pieces and _ABBREVIATION.search(pieces[-1]):
                pieces[-1] += " " + piece
            else:
                pieces.append(piece)
        for piece in pieces:
            markers = [int(n) for group in MARKER.findall(piece) for n in re.split(r"\s*,\s*", group)]
            body = _SPACE_BEFORE_PUNCT.sub(r"\1", MARKER.sub("", piece)).strip()
            if body:
                out.append(Sentence(body, list(dict.fromkeys(markers)), pending_break if out else "", prefix))
                pending_break, prefix = "", ""
    return out


def word_share(words: Callable[[str], list[str]], sentence: str, passage: str) -> float:
    """Share of the sentence's content words that occur in the passage (0..1)."""
    want = set(words(sentence))
    if not want:
        return 0.0
    return len(want & set(words(passage))) / len(want)


class SupportChecker:
    """judge(sentence, source) -> bool decides support. Without one: word share >= threshold, or
    similarity(sentence, passage text) >= cosine."""

    def __init__(self, words: Callable[[str], list[str]], threshold: float, cosine: float,
                 similarity: Callable[[str, str], float] | None = None,
                 forbidden: Callable[[str], bool] | None = None,
                 judge: Callable[[str, Source], bool] | None = None, language: str = "en"):
        self.words = words
        self.threshold = threshold
        self.cosine = cosine
        self.similarity = similarity
        self.forbidden = forbidden      # sentences never to keep, whatever they cite (e.g. repeated instructions)
        self.judge = judge
        self.language = language        # of the answer: the attribution it gets is written in it

    def lexical(self, sentence: str, passage: str) -> float:
        return word_share(self.words, sentence, passage)

    def supports(self, sentence: str, passage: str | Source) -> bool:
        source = passage if isinstance(passage, Source) else Source(passage)
        if self.judge is not None:
            return self.judge(sentence, source)
        if self.lexical(sentence, source.text) >= self.threshold:
            return True
        return self.similarity is not None and self.similarity(sentence, source.text) >= self.cosine

    def check(self, sentence: Sentence, passages: Mapping[int, Source]) -> Check:
        if self.forbidden is not None and self.forbidden(sentence.text):
            return Check(sentence, reason="repeating the assistant's instructions")
        if not sentence.markers:
            return Check(sentence, reason="without a citation")
        known = [m for m in sentence.markers if m in passages]
        if not known:
            return Check(sentence, reason="citing a passage number that was not given")
        if len(set(self.words(sentence.text))) < 2:  # "Yes [1]." or a heading: no claim a passage could support
            return Check(sentence, reason="too short to carry a claim")
        supported = [m for m in known if self.supports(sentence.text, passages[m])]
        return Check(sentence, supported, "" if supported else "not supported by the passage it cites")

    def verify(self, text: str, passages: Mapping[int, str | Source]) -> Verified:
        """Check every sentence of `text` against `passages` (marker -> passage) and renumber the kept ones."""
        sources = {n: p if isinstance(p, Source) else Source(p) for n, p in passages.items()}
        checks = [self.check(s, sources) for s in split_sentences(text)]
        self._attribute(checks, sources)
        self._keep_framing(checks, sources)
        return _render(checks)

    # --- what careful models write around their cited sentences -------------------------------------------
    def _attribute(self, checks: list[Check], sources: Mapping[int, Source]) -> None:
        """A kept sentence resting only on chatbot answers, that does not say so, gets the attribution."""
        for check in checks:
            voices = [sources[m].voice for m in check.supported_by]
            if not voices or not all(v in CHATBOT_VOICES for v in voices) or _CHATBOT_NAMED.search(check.sentence.text):
                continue
            names = " and ".join(CHATBOT_VOICES[v] for v in dict.fromkeys(voices))
            if self.language == "nl":
                check.attributed = f"{names.replace(' and ', ' en ')} antwoordde: "
            else:
                check.attributed = f"{names} answered that "

    def _keep_framing(self, checks: list[Check], sources: Mapping[int, Source]) -> None:
        cited = [sources[m] for c in checks for m in c.supported_by]
        cited_words = set(self.words(" ".join(s.text for s in cited)))
        chatbot_cited = {s.voice for s in cited if s.voice in CHATBOT_VOICES}
        for i, check in enumerate(checks):
            s = check.sentence
            if check.kept or (self.forbidden is not None and self.forbidden(s.text)):
                continue
            following = checks[i + 1] if i + 1 < len(checks) else None
            if following is not None and following.kept and not following.sentence.new_line:
                if _VERDICT.match(s.text):  # with or without a marker: "No." and "No [2]." lead alike
                    check.kept_as, check.reason = "lead", ""
                    continue
            if s.markers:
                continue
            if (following is not None and following.kept and following.sentence.prefix and s.text.endswith(":")
                    and len(s.text.split()) <= 20 and _share(set(self.words(s.text)), cited_words | _CAVEAT_WORDS) >= 0.5):
                check.kept_as, check.reason = "lead", ""
                continue
            if chatbot_cited and self._is_caveat(s.text, chatbot_cited):
                check.kept_as, check.reason = "caveat", ""

    def _is_caveat(self, text: str, chatbot_cited: set[str]) -> bool:
        """Only attributes or qualifies the cited chatbot answers: names them (or 'chatbot') and adds no word
        beyond the vocabulary of such caveats."""
        lowered = text.lower()
        named = {v for v in CHATBOT_VOICES if v in lowered}
        if named - chatbot_cited or not (named or re.search(r"\b(chatbots?|ai)\b", lowered)):
            return False
        return not (set(re.findall(r"[a-zà-ÿ]+", lowered)) - _CAVEAT_WORDS)


def _render(checks: list[Check]) -> Verified:
    sources: list[int] = []
    parts: list[str] = []
    line_break = ""   # a dropped sentence's line break passes to the next kept one
    lead = ""         # a verdict or list lead-in waiting for its sentence
    for check in checks:
        if not check.kept:
            line_break = line_break or check.sentence.new_line
            continue
        s = check.sentence
        joiner = s.new_line or line_break or " "
        if check.kept_as == "lead":
            lead += (joiner if parts or lead else "") + s.prefix + s.text
            line_break = ""
            continue
        numbers = []
        for marker in check.supported_by:
            if marker not in sources:
                sources.append(marker)
            numbers.append(sources.index(marker) + 1)
        body = s.text
        if check.attributed:
            body = check.attributed + (body[0].lower() + body[1:] if _lower_ok(body) and not check.attributed.endswith(": ") else body)
        rendered = s.prefix + body + (" " + "".join(f"[{n}]" for n in numbers) if numbers else "")
        if lead:  # the lead already carries the break before it
            parts.append(lead + (s.new_line or " ") + rendered)
            lead = ""
        else:
            parts.append(rendered if not parts else joiner + rendered)
        line_break = ""
    return Verified("".join(parts), sources, checks)


def _share(words: set[str], known: set[str]) -> float:
    return len(words & known) / len(words) if words else 1.0


def _lower_ok(text: str) -> bool:
    """The first word may be lower-cased after "X answered that": not a name or an acronym."""
    first = text.split()[0] if text.split() else ""
    return first.lower() in {
        "the", "a", "an", "it", "this", "that", "there", "client", "contractor", "partners", "partnership",
        "strategic", "both", "when", "if", "being", "such", "most", "many", "in", "for", "some", "one"}
