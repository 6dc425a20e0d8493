"""The rules answerer's claims (corpus/claims.yaml): loading, matching a question, and the lexical support of a
sentence by a passage."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from .errors import ConfigError
from .lang import sentences, tokens

# Questions that ask about the negative ("was it wrong?", "is it fabricated?") flip a claim's yes/no verdict.
NEGATIVE = re.compile(r"\b(wrong|incorrect|false|fabricated|fake|made up|invented|mistaken|error|fout|onjuist|"
                      r"verzonnen|nep|vergist|downsides?|drawbacks?|disadvantages?|pitfalls?|nadeel|nadelen|keerzijde)\b",
                      re.I)
_DOUBTS = re.compile(r"\b(really|actually|truly|in fact|echt|werkelijk|eigenlijk|wel degelijk)\b", re.I)
POLAR_VERDICTS = {"yes", "no", "yes-with-nuance", "depends", "not-established"}
# A yes/no claim's first sentence may open with its verdict; it is kept apart and said only to yes/no questions,
# rendered from the verdict actually given (a question about the negative flips it).
_LEAD = re.compile(r"^(Yes, with nuance|Yes|No|Ja, met nuance|Ja|Nee)\s*:\s*(?=\S)")
VERDICT_LEADS = {
    "en": {"yes": "Yes", "no": "No", "yes-with-nuance": "Yes, with nuance", "depends": "It depends",
           "not-established": "Not established"},
    "nl": {"yes": "Ja", "no": "Nee", "yes-with-nuance": "Ja, met nuance", "depends": "Dat hangt ervan af",
           "not-established": "Niet vastgesteld"}}


@dataclass(frozen=True)
class Claim:
    id: str
    requires: tuple            # each item: a concept, or a tuple of alternative concepts (one must be present)
    any_of: tuple[str, ...]
    excludes: tuple[str, ...]
    intents: tuple[str, ...]
    patterns: tuple[re.Pattern, ...]
    priority: int
    verdict: str | None
    sentences: dict  # language -> list of {"say": str, "cite": note id, "section": optional heading fragment}
    negative_verdict: str | None = None
    neutral: frozenset = frozenset()   # concepts that never count against a claim (e.g. the default source)
    covers: tuple[str, ...] = ()       # concepts the claim deals with without requiring them
    questions: tuple[str, ...] = ()    # canonical questions; tests check each one matches this claim
    leads: dict = None                 # language -> the verdict lead the data wrote ("Yes, with nuance"), if any
    voice_verdicts: dict = None        # voice id -> the verdict when the question asks for that voice's view
    concept_verdicts: dict = None      # concept -> the verdict when the question names it (e.g. coexist: "yes")
    check_verdict: str | None = None   # a claim with no verdict of its own: the verdict to a yes/no check of it
    premise_verdict: str | None = None  # the verdict to a question (not yes/no) that takes for granted what this
    #                                     claim corrects ("which chapter of the fabricated handbook …?")
    premise: re.Pattern | None = None   # the words that carry that false premise, when not every question does
    context: frozenset = frozenset()   # concepts that set the scene, not the topic (claims.yaml context_concepts)

    @property
    def concepts(self) -> set[str]:
        named = {c for item in self.requires for c in ((item,) if isinstance(item, str) else item)}
        return named | set(self.any_of) | set(self.excludes) | set(self.covers)

    def score(self, concepts: list[str], intents: list[str], question: str) -> float | None:
        present = set(concepts)
        covered = set(self.any_of) | set(self.covers) | self.neutral
        for item in self.requires:
            options = {item} if isinstance(item, str) else set(item)
            if not options & present:
                return None
            covered |= options
        if self.any_of and not present & set(self.any_of) or present & set(self.excludes):
            return None
        pattern_hit = any(p.search(question) for p in self.patterns)
        if self.patterns and not pattern_hit:
            return None
        if self.intents and not set(self.intents) & set(intents):
            return None
        return (10 * len(self.requires) + 4 * bool(self.any_of) + 6 * pattern_hit + 5 * bool(self.intents)
                + self.priority - 2 * len(present - covered))

    def verdict_for(self, question: str, intents: list[str], voices: list[str] = (),
                    concepts: list[str] = ()) -> str | None:
        """The verdict code; a yes/no verdict only answers a yes/no question, flipped when it asks about the negative.
        A claim without a yes/no verdict may still give one to a yes/no question that checks it ("Can I cite these
        as they are?"). A question for one voice's view gets that voice's verdict; one naming a concept the claim
        gives its own verdict for (whether two roles hold at the same time) gets that."""
        if self.premise_verdict and not {"yesno", "check"} & set(intents) and not _DOUBTS.search(question) \
                and not NEGATIVE.search(question) and (self.premise is None or self.premise.search(question)):
            # ("who really wrote it?" takes nothing false for granted; "why did Bing name the A12?" neither)
            return self.premise_verdict
        if self.verdict not in POLAR_VERDICTS:
            if self.check_verdict and {"yesno", "check"} <= set(intents):
                return self.negative_verdict if self.negative_verdict and NEGATIVE.search(question) else \
                    self.check_verdict
            named = [v for c, v in (self.concept_verdicts or {}).items() if c in concepts]
            if named and {"yesno", "check"} & set(intents):   # an explanation asked yes/no about a concept it settles
                return named[0]
            return self.verdict
        if not {"yesno", "check"} & set(intents):
            return None
        if self.negative_verdict and NEGATIVE.search(question):
            return self.negative_verdict
        asked = [self.voice_verdicts[v] for v in voices if v in (self.voice_verdicts or {})]
        if asked and len(asked) == len(voices):
            return asked[0]
        named = [v for c, v in (self.concept_verdicts or {}).items() if c in concepts]
        return named[0] if named else self.verdict


def _claim(raw: dict, neutral: frozenset, context: frozenset = frozenset()) -> Claim:
    sentences = raw["answer"]
    english = sentences["en"]
    for lang, items in sentences.items():
        if len(items) != len(english):
            raise ConfigError(f"claims.yaml: claim {raw['id']} has {len(items)} '{lang}' sentences but "
                              f"{len(english)} English ones; keep them parallel.")
        for item in items:
            item.setdefault("cite", None)
    opens = _LEAD.match(english[0]["say"]) if english else None
    if opens and raw.get("verdict") not in POLAR_VERDICTS:
        raise ConfigError(f"claims.yaml: claim {raw['id']} opens with '{opens.group(1)}:' but has no yes/no verdict; "
                          "add verdict: (yes, no, yes-with-nuance, …) so the lead is only said to yes/no questions.")
    leads = {}
    for lang, items in sentences.items():   # "Yes: the author …" -> lead "Yes" + "The author …"
        match = _LEAD.match(items[0]["say"]) if items else None
        if match and raw.get("verdict") in POLAR_VERDICTS:
            rest = items[0]["say"][match.end():]
            items[0] = {**items[0], "say": rest[0].upper() + rest[1:]}
            leads[lang] = match.group(1)
    requires = tuple(r if isinstance(r, str) else tuple(r) for r in raw.get("requires") or ())
    if not requires and not raw.get("any_of"):
        raise ConfigError(f"claims.yaml: claim {raw['id']} names no concept (requires/any_of); every claim needs one "
                          "so that off-topic questions cannot match it.")
    verdict = raw.get("verdict")
    return Claim(
        id=raw["id"], requires=requires, any_of=tuple(raw.get("any_of") or ()),
        excludes=tuple(raw.get("excludes") or ()), intents=tuple(raw.get("intents") or ()),
        patterns=tuple(re.compile(rf"\b(?:{p})", re.I) for p in raw.get("patterns") or ()),
        priority=int(raw.get("priority", 0)), verdict=None if verdict is None else str(verdict), sentences=sentences,
        negative_verdict=raw.get("negative_verdict"), neutral=neutral, covers=tuple(raw.get("covers") or ()),
        questions=tuple(raw.get("questions") or ()), leads=leads, voice_verdicts=dict(raw.get("voice_verdicts") or {}),
        concept_verdicts=dict(raw.get("concept_verdicts") or {}),
        check_verdict=None if raw.get("check_verdict") is None else str(raw["check_verdict"]), context=context,
        premise_verdict=raw.get("premise_verdict"),
        premise=re.compile(rf"\b(?:{raw['premise']})", re.I) if raw.get("premise") else None)


@lru_cache(maxsize=4)
def load_claims(corpus_dir: str) -> tuple[Claim, ...]:
    path = Path(corpus_dir) / "claims.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        return ()
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML ({str(exc).splitlines()[0]}): fix the file.") from None
    neutral = frozenset(data.get("neutral_concepts") or ())
    context = frozenset(data.get("context_concepts") or ())
    claims, seen = [], set()
    for raw in data.get("claims") or []:
        try:
            claim = _claim(raw, neutral, context)
        except (KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"claims.yaml: claim {raw.get('id', '?') if isinstance(raw, dict) else raw!r} is missing "
                              f"{exc}; see corpus/README.md.") from None
        except re.error as exc:
            raise ConfigError(f"claims.yaml: claim {raw.get('id', '?')} has a bad pattern ({exc}); fix the regex.") from None
        if claim.id in seen:
            raise ConfigError(f"claims.yaml: claim id {claim.id} is used twice; ids must be unique.")
        seen.add(claim.id)
        claims.append(claim)
    return tuple(claims)


def support(sentence: str, passage_text: str) -> float:
    """Share of the sentence's content words that occur in the passage (0..1)."""
    want = set(tokens(sentence))
    if not want:
        return 0.0
    return len(want & set(tokens(passage_text))) / len(want)


def split_sentences(text: str) -> list[str]:
    return [p.strip() for p in sentences(text, capital=True) if len(p.split()) >= 4]
