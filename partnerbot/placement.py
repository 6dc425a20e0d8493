"""Place a relationship: signals (from questionnaire answers or a free-text description) → stage on the Totus
series, type on Glick's range, client/contractor roles and final say. Data and weights: corpus/placement.yaml.

Pure and deterministic: no store, no model. partnerbot.explain turns a Placement into a cited explanation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from .errors import InputError

STAGES = ("supplier-customer", "supplier", "partnership", "strategic-partnership")
GLICK = ("customer", "client", "partner")
FINAL_SAY = ("client", "contractor", "shared", "unknown")
_NEGATION = re.compile(r"\b(no|not|without|never|nor|geen|niet|zonder|nooit)\b(\s+\S+){0,2}\s*$", re.I)
_SENTENCE = re.compile(r"[.;:!?\n,()]")
_PARTY_STOP = {"for", "to", "with", "at", "on", "under", "in", "as", "since", "and", "who", "that", "which", "because",
               "from", "by", "of", "every", "each", "but", "voor", "met", "om", "aan", "bij", "als", "sinds", "en",
               "die", "dat", "omdat", "van", "door", "opdracht", "elke", "iedere", "maar", "te", "op", "so", "dus",
               "also", "ook", "then", "dan", "while", "terwijl", "where", "waar", "it"}
_ARTICLES = {"the", "a", "an", "de", "het", "een", "our", "their", "its", "onze", "ons", "hun"}
_MAX_PARTY_WORDS = 4
_PARTY_NAMES = {"en": {"us": "we", "other": "the other party"}, "nl": {"us": "wij", "other": "de andere partij"}}


@dataclass(frozen=True)
class Signal:
    id: str
    label: dict
    stage: dict
    glick: dict
    final_say: str | None
    patterns: tuple[re.Pattern, ...]


@dataclass(frozen=True)
class PlacementData:
    raw: dict
    signals: dict[str, Signal]
    client_first: tuple[re.Pattern, ...]
    contractor_first: tuple[re.Pattern, ...]
    final_verbs: tuple[re.Pattern, ...]

    def __getitem__(self, key: str):
        return self.raw[key]

    def stage(self, stage_id: str) -> dict:
        return next(s for s in self.raw["stages"] if s["id"] == stage_id)

    def glick_type(self, glick_id: str) -> dict:
        return next(g for g in self.raw["glick"] if g["id"] == glick_id)

    def question(self, question_id: str) -> dict:
        return next(q for q in self.raw["questions"] if q["id"] == question_id)


def _compile(patterns) -> tuple[re.Pattern, ...]:
    # whole words only; a pattern's own edge spaces are dropped (with them it could never match inside a sentence)
    return tuple(re.compile(rf"(?<![\w-])(?:{p.strip()})(?![\w-])", re.I) for p in patterns)


@lru_cache(maxsize=4)
def load_placement(corpus_dir: str) -> PlacementData:
    """corpus/placement.yaml, validated and compiled once per process."""
    path = Path(corpus_dir) / "placement.yaml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path} is missing: restore corpus/placement.yaml or set PARTNERBOT_CORPUS_DIR.") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{path} is not valid YAML ({str(exc).splitlines()[0]}): fix the file.") from None
    signals = {}
    for sid, spec in raw["signals"].items():
        stage, glick = spec.get("stage") or {}, spec.get("glick") or {}
        unknown = (set(stage) - set(STAGES)) | (set(glick) - set(GLICK))
        if unknown or spec.get("final_say", "client") not in FINAL_SAY:
            raise InputError(f"{path}: signal {sid} names an unknown stage, type or final say: fix the file.")
        signals[sid] = Signal(sid, spec["label"], stage, glick, spec.get("final_say"),
                              _compile(spec.get("patterns", [])))
    for q in raw["questions"]:
        for option in q["options"]:
            missing = [s for s in option.get("signals", []) if s not in signals]
            if missing:
                raise InputError(f"{path}: question {q['id']} uses unknown signals {missing}: fix the file.")
    roles = raw["roles_text"]
    return PlacementData(raw, signals, _verbs(roles["client_first"]), _verbs(roles["contractor_first"]),
                         _verbs(roles["final_verbs"]))


def _verbs(verbs) -> tuple[re.Pattern, ...]:
    return tuple(re.compile(rf"(?<![\w-])(?:{v})(?![\w-])", re.I) for v in verbs)


@dataclass
class Placement:
    stage: str | None
    glick: str | None
    roles: dict = field(default_factory=lambda: {"client": None, "contractor": None})
    final_say: str = "unknown"
    signals: list[str] = field(default_factory=list)        # signal ids, in order found
    stage_scores: dict = field(default_factory=dict)
    glick_scores: dict = field(default_factory=dict)
    settle: list[str] = field(default_factory=list)          # questionnaire ids that would settle what is open
    language: str = "en"

    @property
    def placed(self) -> bool:
        return self.stage is not None and self.glick is not None


# --- finding signals -----------------------------------------------------------------------------------------

def text_signals(data: PlacementData, text: str) -> list[str]:
    """Signal ids whose patterns occur in text (a match right after a negation does not count), in text order."""
    found: dict[str, int] = {}
    for sid, signal in data.signals.items():
        for pattern in signal.patterns:
            for match in pattern.finditer(text):
                if _NEGATION.search(text[max(0, match.start() - 40):match.start()]):
                    continue
                found[sid] = min(found.get(sid, match.start()), match.start())
                break
    return sorted(found, key=found.get)


def answer_signals(data: PlacementData, answers: dict[str, str]) -> tuple[list[str], dict]:
    """Signal ids and roles from questionnaire answers {question id: option id}; unknown ids are input errors."""
    signals: list[str] = []
    roles = {"client": None, "contractor": None}
    for qid, oid in answers.items():
        if oid in (None, ""):
            continue
        try:
            option = next(o for o in data.question(qid)["options"] if o["id"] == oid)
        except StopIteration:
            raise InputError(f"Unknown answer {qid}={oid}: use the options listed in corpus/placement.yaml.") from None
        signals += [s for s in option.get("signals", []) if s not in signals]
        if option.get("roles"):
            roles = dict(option["roles"])
    return signals, roles


def text_roles(data: PlacementData, text: str) -> dict:
    """{"client": party, "contractor": party} from phrases such as 'X hires Y' or 'Y works for X' (else None)."""
    for patterns, first in ((data.client_first, "client"), (data.contractor_first, "contractor")):
        for pattern in patterns:
            for match in pattern.finditer(text):
                before = _party(text[:match.start()], backwards=True)
                after = _party(text[match.end():], backwards=False)
                if before and after:
                    second = "contractor" if first == "client" else "client"
                    return {first: before, second: after}
    return {"client": None, "contractor": None}


def text_final_say(data: PlacementData, text: str, roles: dict) -> str | None:
    """'X has the final say' where X is the client or the contractor found in the text (by its last word)."""
    for pattern in data.final_verbs:
        for match in pattern.finditer(text):
            who = _party(text[:match.start()], backwards=True)
            if not who:
                continue
            head = who.split()[-1].lower()
            for role in ("client", "contractor"):
                if roles.get(role) and roles[role].split()[-1].lower() == head:
                    return role
    return None


def _party(text: str, backwards: bool) -> str | None:
    """The noun phrase next to a role verb: at most four words, stopping at a clause boundary or linking word."""
    parts = _SENTENCE.split(text)
    words = (parts[-1] if backwards else parts[0]).split()
    picked: list[str] = []
    for word in (reversed(words) if backwards else words):
        stop = word.lower() in _PARTY_STOP and not (word.isupper() and len(word) > 1)  # "IT" is not "it"
        if stop or len(picked) == _MAX_PARTY_WORDS:
            break
        picked.append(word)
    if backwards:
        picked.reverse()
    if not picked or all(w.lower() in _ARTICLES for w in picked):
        return None
    if picked[0].lower() in _ARTICLES | {"we", "wij"}:
        picked[0] = picked[0].lower()
    return " ".join(picked)


# --- placing -------------------------------------------------------------------------------------------------

def place(data: PlacementData, signals: list[str], roles: dict | None = None, language: str = "en",
          final_say: str | None = None) -> Placement:
    """Score the signals into a stage, a Glick type and a final say; open dimensions get questions to settle."""
    stage_scores = {s: 0.0 for s in STAGES}
    glick_scores = {g: 0.0 for g in GLICK}
    finals = []
    for sid in signals:
        signal = data.signals[sid]
        for stage, weight in signal.stage.items():
            stage_scores[stage] += weight
        for glick, weight in signal.glick.items():
            glick_scores[glick] += weight
        if signal.final_say:
            finals.append(signal.final_say)
    if final_say is None:
        final_say = finals[0] if len(set(finals)) == 1 else ("shared" if "shared" in finals else "unknown")
    roles = roles or {"client": None, "contractor": None}
    result = Placement(stage=_stage(data, stage_scores), glick=_best(glick_scores, data["min_glick_evidence"]),
                       roles=roles, final_say=final_say, signals=list(signals), stage_scores=stage_scores,
                       glick_scores=glick_scores, language=language)
    settle = data["settle"]
    open_parts = [("stage", result.stage is None), ("glick", result.glick is None),
                  ("roles", not any(roles.values())), ("final_say", final_say == "unknown")]
    for part, is_open in open_parts:
        if is_open:
            result.settle += [q for q in settle[part] if q not in result.settle]
    return result


def _stage(data: PlacementData, scores: dict) -> str | None:
    """The deepest stage that reaches its gate; else the best-scoring one with enough evidence (ties: earlier)."""
    for stage in reversed(data["stages"]):
        if scores[stage["id"]] >= stage["gate"]:
            return stage["id"]
    return _best(scores, data["min_stage_evidence"])


def _best(scores: dict, minimum: float) -> str | None:
    best = max(scores, key=lambda k: (scores[k], -list(scores).index(k)))
    return best if scores[best] >= minimum else None


def classify_text(data: PlacementData, text: str, language: str = "en") -> Placement:
    text = " ".join(str(text).split())
    roles = text_roles(data, text)
    return place(data, text_signals(data, text), roles, language, text_final_say(data, text, roles))


def classify_answers(data: PlacementData, answers: dict[str, str], language: str = "en") -> Placement:
    signals, roles = answer_signals(data, answers)
    names = _PARTY_NAMES["nl" if language == "nl" else "en"]
    return place(data, signals, {k: names.get(v, v) for k, v in roles.items()}, language)
