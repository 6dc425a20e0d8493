"""Question understanding for the rules answerer: what kind of answer a question asks for, which voice it asks
about (ChatGPT, Bing, Glick, the Totus author, the literature, a reader), which concepts it names, and — when
the asker describes their own arrangement — what that situation maps onto. Data in corpus/focus.yaml."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from .errors import ConfigError
from .lang import sentences, tokens
from .vocab import Vocab

# Answer types that expect a verdict (yes/no), and those that never do.
POLAR = "verdict"


# What a question asks for, as intents a claim can require (claims.yaml `intents`).
INTENTS = {
    "contrast": r"\bsets? (\w+\W+){0,6}apart\b|\btell (\w+\W+){0,4}apart\b|\bwhat (separates|distinguishes)\b|"
                r"\b(difference|differences|differ|differs|different|versus|vs\.?|compare|compared|comparison|distinguish|"
                r"distinction|contrast|verschil|verschillen|verschilt|onderscheid|onderscheiden|vergelijk\w*|tegenover)\b",
    "who": r"^\s*(and\s+|en\s+|so\s+)?(who|whom|which party|wie|welke partij)\b|[,;:]\s*(who|wie|welke partij)\b|[.?!]\s+(who|whom|wie)\b|\bwho (holds|has|is|carries|bears|decides|sets)\b"
           r"|\b(bij wie|wie (heeft|draagt|houdt|voert|beslist|bepaalt|is))\b",
    "list": r"\b(stages|series|phases|steps|list|levels|categories|types|kinds|three|four|seven|which books|fasen|fases|"
            r"stappen|reeks|niveaus|soorten|typen|drie|vier|zeven|welke boeken)\b",
    "literature": r"\b(literature|books?|reading|read|research|scholarly|academic|studies|literatuur|boeken|boek|lezen|"
                  r"onderzoek|wetenschap\w*)\b",
    "check": r"\b(right|correct|true|accurate|wrong|incorrect|false|reliable|trust(worthy)?|verified|real|really|fabricated|fake|"
             r"made up|invented|exist|exists|klopt|klopte|kloppen|klopten|juist|onjuist|fout|betrouwbaar|waar|echt|verzonnen|bestaat|bestaan|"
             r"rely on|as (it|they) (is|are|stand)|as given|as listed|safe to (use|cite)|usable|bibliograph\w*|literatuurlijst|"
             r"zomaar (gebruiken|citeren|overnemen))\b",
    "yesno": r"(^|[,;:]\s*)\s*(and\s+|en\s+|so\s+|but\s+|maar\s+)?(can|could|is|are|does|do|should|must|may|will|would|did|has|have|was|"
             r"were|kan|kunnen|kun|mag|mogen|moet|moeten|is|zijn|heeft|hebben|heb|hebt|bestaat|bestaan|klopt|klopte|kloppen|klopten|was|waren|wordt|"
             r"worden|verliest|verliezen|blijft|blijven|gaat|hoort|horen|geldt|staat|draagt|houdt|had|hadden|zou|zouden)\b"
             # (a request is no yes/no question: "…, can you sum up what Mills argues?")
             r"(?!\s+(you|je|jij|u)\s+(please\s+)?(briefly\s+|kort\s+)?(sum|summari[sz]e|explain|give|list|tell|describe|"
             r"show|name|provide|outline|walk|elaborate|clarify|uitleggen|geven|vertellen|beschrijven|opsommen|"
             r"toelichten|samenvatten)\b)",
    "definition": r"^\s*(what|wat|define|definieer|explain|leg|describe|beschrijf|how does .* (describe|define))\b|"
                  r"\b(what is|what's|what are|meanings?|definitions?|definities|mean by|stand for|stands for|wat is|wat zijn|wat betekent|"
                  r"betekenis|definitie|staat voor|characteri[sz]\w*|kenmerk\w*|eigenschap\w*)\b",
    "why": r"^\s*(and\s+|en\s+)?(why|waarom|how come|hoezo)\b|\b(what (prompted|triggered|made)|what was the (reason|occasion|trigger)|(de|het) (aanleiding|reden)|wat bracht|wat zette)\b",
}
_INTENT_RX = {name: re.compile(rx, re.I) for name, rx in INTENTS.items()}
# "…, can you sum up what Mills argues?" asks for an answer, not for a yes or no
_REQUEST = re.compile(r"\b(can|could|would|will|kun|kunt|kan|wil|zou) (you|je|jij|u) (please )?(briefly |kort )?(sum|summari[sz]e|"
                      r"explain|give|list|tell|describe|show|name|provide|outline|walk|elaborate|clarify|uitleggen|geven|"
                      r"vertellen|beschrijven|opsommen|toelichten|samenvatten)\b", re.I)
_TAG = re.compile(r"\b(right|correct|true|isn't it|klopt( dat| het)?|toch)\s*\?", re.I)   # "…, right?" asks yes or no


def detect_intents(question: str) -> list[str]:
    return [name for name, rx in _INTENT_RX.items() if rx.search(question)]


@dataclass(frozen=True)
class Voice:
    id: str
    concepts: tuple[str, ...]
    patterns: tuple[re.Pattern, ...]
    doc: str | None
    voice: str | None
    names: tuple[str, ...]
    say: dict
    who: dict

    def speaks(self, passage) -> bool:
        """True when a passage speaks in this voice."""
        doc = getattr(passage, "doc_id", "") or ""
        return (self.doc is None or doc.startswith(self.doc)) and (self.voice is None or passage.voice == self.voice)


@dataclass(frozen=True)
class Focus:
    """corpus/focus.yaml, compiled."""
    voices: tuple[Voice, ...]
    answer_types: tuple[tuple[str, re.Pattern], ...]
    asker: re.Pattern
    cues: tuple[dict, ...]
    situation: dict
    type_cues: dict
    negation: re.Pattern
    hedge: re.Pattern
    dutch: dict
    requests: re.Pattern
    placement: object = None   # corpus/placement.yaml (the explorer's signals), when present
    verdict_cues: dict = field(default_factory=dict)   # the other compiled verdict_cues (explicit, universal, …)
    framing: frozenset = frozenset()   # tokens of the words that phrase a question, not its subject
    choice: dict = field(default_factory=dict)   # language -> parties offered to choose between ("… or …?")
    asks_type: re.Pattern = re.compile(r"(?!x)x")   # "what kind of relationship is this?"
    practical: re.Pattern = re.compile(r"(?!x)x")   # law, tax, prices: advice the sources cannot give
    groups: tuple = ()   # (pattern, voice ids): words naming several voices at once ("both articles")
    asides: re.Pattern = re.compile(r"(?!x)x")   # what the asker needs the answer for ("I need it for a memo.")

    def signals(self, text: str) -> list[dict]:
        """The placement signals a description names, as situation cues: a signal after a negation in the same
        clause ("no department gets anything tailored") does not count."""
        data = self.placement
        if data is None:
            return []
        found = []
        not_signs = self.situation.get("not_signs")
        for sid, signal in data.signals.items():
            for match in (m for rx in signal.patterns for m in rx.finditer(text)):
                if negated(text, match.start()) or not_signs and re.fullmatch(not_signs, match.group(0), re.I):
                    continue
                partnership = sum(w for st, w in signal.stage.items() if st in ("partnership", "strategic-partnership"))
                found.append({"id": sid, "signal": True, "label": signal.label, "glick": dict(signal.glick),
                              "partnership": partnership, "final_say": signal.final_say, "at": match.start()})
                break
        return sorted(found, key=lambda c: c["at"])

    def voice(self, voice_id: str) -> Voice | None:
        return next((v for v in self.voices if v.id == voice_id), None)

    def voice_of(self, passage) -> Voice | None:
        """The most specific voice a passage speaks in (its note's own voice)."""
        return next((v for v in self.voices if v.speaks(passage)), None)


_CLAUSE_START = re.compile(r"[.;:!?()]|,\s+(?:but|maar|and|en|while|terwijl)\b|\s(?:but|maar)\s", re.I)
_NEGATED = re.compile(r"\b(no|not|never|nothing|none|without|neither|nor|geen|niet|nooit|niets|zonder)\b", re.I)




def last_asked(text: str) -> str:
    """The last sentence that asks something (what a premise or a described situation is followed by)."""
    asked = [s for s in sentences(text) if s.endswith("?")]
    return asked[-1] if asked else text


def asks_to_state(text: str, focus: Focus) -> bool:
    """A request to state something ("Zeg gewoon dat …"): it asks yes or no about what it would have said."""
    states = focus.verdict_cues.get("states")
    return states is not None and bool(states.search(text))


def without_asides(text: str, focus: Focus) -> str:
    """The question without the sentences that only say what the asker needs the answer for ("ik heb die zin
    nodig voor een presentatie"): their words ("nodig", "presentation") are not what is asked."""
    kept = [s for s in re.split(r"(?<=[.!?;])\s+", text) if not focus.asides.search(s)]
    return " ".join(kept).strip() or text


def negated(text: str, at: int) -> bool:
    """True when a negation precedes position `at` in the same clause ("there is no joint planning")."""
    return bool(_NEGATED.search(_CLAUSE_START.split(text[:at])[-1]))


@dataclass
class Question:
    text: str
    language: str
    concepts: list[str]
    intents: list[str]
    answer_type: str
    voices: list[str] = field(default_factory=list)        # voices the question asks about, in order of mention
    not_voices: list[str] = field(default_factory=list)    # voices it sets aside ("not what ChatGPT said, but …")
    situation: list[dict] = field(default_factory=list)    # the situation cues found (see focus.yaml)
    words: list[str] = field(default_factory=list)         # content tokens of the question (English renderings added)
    parts: list[list[str]] = field(default_factory=list)   # content tokens of each sub-question ("why …, and how …")
    asks_yes_no: bool = False                              # phrased as a yes/no question, whatever its type
    asks_choice: bool = False                              # offers parties to choose between ("customers or clients?")
    injected: bool = False                                 # the question carried instructions (injection.py)
    compares: bool = False                                 # names a group of voices to compare ("both articles")

    @property
    def polar(self) -> bool:
        return self.answer_type == POLAR

    @property
    def is_situation(self) -> bool:
        return self.answer_type == "situation"


def _rx(pattern: str) -> re.Pattern:
    try:
        return re.compile(pattern, re.I)
    except re.error as exc:
        raise ConfigError(f"focus.yaml: bad pattern {pattern!r} ({exc}); fix the regex.") from None


@lru_cache(maxsize=4)
def load_focus(corpus_dir: str) -> Focus:
    path = Path(corpus_dir) / "focus.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        data = {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML ({str(exc).splitlines()[0]}): fix the file.") from None
    voices = []
    for vid, raw in (data.get("voices") or {}).items():
        where = raw.get("passages") or {}
        voices.append(Voice(vid, tuple(raw.get("concepts") or ()), tuple(_rx(p) for p in raw.get("patterns") or ()),
                            where.get("doc"), where.get("voice"), tuple(raw.get("names") or ()),
                            raw.get("say") or {}, raw.get("who") or {}))
    situation = data.get("situation") or {}
    cues = tuple({**cue, "rx": _rx(cue["pattern"])} for cue in situation.get("cues") or ())
    verdict = data.get("verdict_cues") or {}
    return Focus(tuple(voices), tuple((k, _rx(v)) for k, v in (data.get("answer_types") or {}).items()),
                 _rx(situation.get("asker") or r"(?!x)x"), cues, situation,
                 {k: _rx(v) for k, v in (data.get("type_cues") or {}).items()},
                 _rx(verdict.get("negation") or r"(?!x)x"), _rx(verdict.get("hedge") or r"(?!x)x"),
                 data.get("dutch") or {}, _rx(data.get("requests") or r"(?!x)x"), _placement(corpus_dir),
                 {k: _rx(v) for k, v in verdict.items() if k not in ("negation", "hedge")},
                 frozenset(tokens(str(data.get("framing_words") or ""))), {k: _rx(v) for k, v in (data.get("choice") or {}).items()},
                 _rx(data.get("asks_type") or r"(?!x)x"), _rx(data.get("practical") or r"(?!x)x"),
                 tuple((_rx(g["pattern"]), tuple(g["voices"])) for g in (data.get("voice_groups") or {}).values()),
                 _rx(data.get("asides") or r"(?!x)x"))


def _placement(corpus_dir: str):
    """The explorer's placement data (signals with their weights towards stages and Glick types), or None."""
    from .placement import load_placement

    if not (Path(corpus_dir) / "placement.yaml").exists():
        return None
    return load_placement(corpus_dir)


_WH = re.compile(r"\b(what|which|who|whom|whose|how|why|where|when|wat|welke|welk|wie|hoe|waarom|waar|wanneer|"
                 r"waarvoor|waardoor|hoezo)\b", re.I)


def asks_choice(text: str, focus: Focus, language: str) -> bool:
    """The (last) question sentence offers parties to choose between: "customers, clients or partners?"."""
    pattern = focus.choice.get(language)
    return bool(pattern and pattern.search(last_asked(text)))


_REPORTED_VOICE = re.compile(r"\b(mentioned|told (me|us)|said|says|claims?|claimed|read|heard|wrote|zei|zegt|vertelde|"
                             r"beweert|las|hoorde)\b[^.?!]{0,60}\b(that|dat)\b[^.?!]{0,40}\b(chatgpt|bing)\b", re.I)
_WHO_IS_RIGHT = re.compile(r"\b(right|correct|gelijk)\b", re.I)   # "who's right?" weighs views on the situation


def answer_type(text: str, focus: Focus, situation: list[dict], choice: bool = False) -> str:
    # a question sentence with no question word is a yes/no question ("Heijmans had a partnership there, right?")
    asked = [s for s in sentences(text) if s.endswith("?")]
    if choice and not situation:
        return "choice"
    request = bool(focus.requests.search(asked[-1] if asked else text))
    if asked and not situation and not request and (not _WH.search(asked[-1]) or len(asked) > 1 and not _WH.search(asked[0]) and not focus.requests.search(asked[0])):
        return "verdict"
    types = dict(focus.answer_types)
    asked_last = last_asked(text)
    if situation and "who" in types and types["who"].search(asked_last) and not _WHO_IS_RIGHT.search(asked_last):
        return "who"   # "… we are the contractor …: who then has the final say?" asks who, not what this is
    for name, rx in focus.answer_types:
        if name == "verdict" and request:
            continue
        if name == "situation":
            if situation:
                return name
            continue
        if rx.search(text):
            return name
    return "explanation"


# Where a question asks a second thing: "…?" followed by more, or ", and how/why/which …" ("en hoe/waarom …").
_PARTS = re.compile(r"(?<=\?)\s+(?=\S)|,?\s+(?:and|en)\s+(?=(?:how|why|what|which|who|where|is|does|hoe|waarom|wat|welke|"
                    r"wie|waar)\b)", re.I)
_SET_ASIDE = re.compile(r"\b(not|niet|rather than|instead of|in plaats van|behalve|apart from|other than|"
                        r"never mind|forget)\W+(\w+\W+){0,3}$", re.I)


def _set_aside(before: str) -> bool:
    """The words before a voice's name set it aside ("not what ChatGPT said"), unless a that-clause opens between
    them ("Is het niet zo dat Bing stelde …?", "Is it not true that Bing said …?" ask about Bing)."""
    match = _SET_ASIDE.search(before)
    return match is not None and not re.search(r"\b(that|dat)\b", match.group(0))


def _without_groups(text: str, focus: Focus) -> str:
    """The text with the words that name a group of voices blanked out ("both articles" is not the literature)."""
    for pattern, _group in focus.groups:
        text = pattern.sub(lambda m: " " * len(m.group(0)), text)
    return text


def asked_voices(text: str, vocab: Vocab, focus: Focus) -> tuple[list[str], list[str]]:
    """The voices a question names, in order of mention, and those it sets aside ("not what ChatGPT said")."""
    lowered = text.lower()
    text_ = lowered
    lowered = _without_groups(lowered, focus)
    found: dict[str, int] = {}
    aside: set[str] = set()
    for voice in focus.voices:
        spans = [m.span() for concept, _lang, _term, rx in vocab.patterns if concept in voice.concepts
                 for m in rx.finditer(lowered)]
        spans += [m.span() for rx in voice.patterns for m in rx.finditer(lowered)]
        if not spans:
            continue
        kept = [s for s in spans if not _set_aside(lowered[max(0, s[0] - 40):s[0]])]
        if kept:
            found[voice.id] = min(s[0] for s in kept)
        else:
            aside.add(voice.id)
    for pattern, group in focus.groups:   # "both articles": the Totus author and Glick
        match = pattern.search(text_)
        if match:
            for n, vid in enumerate(group):
                found.setdefault(vid, match.start() + n)
    return sorted(found, key=found.get), sorted(aside)


def names_voice(sentence: str, focus: Focus, skip: tuple[str, ...] = ()) -> bool:
    """The sentence names one of the voices (by a pattern or a name), other than those skipped."""
    lowered = sentence.lower()
    voices = [v for v in focus.voices if v.id not in skip]
    return any(rx.search(lowered) for v in voices for rx in v.patterns) or \
        any(re.search(rf"\b{re.escape(n)}\b", lowered) for v in voices for n in v.names if n)


def situation_cues(text: str, focus: Focus, minimum: int = 2) -> list[dict]:
    """The cues of a described arrangement; none unless the asker speaks of themselves and at least `minimum`
    cues (or one role cue) describe what they do. The explorer's placement signals count as cues too (shared
    investment, knowledge exchange, standard packages, tailored work …); a cue that is also a signal carries
    the signal's weights."""
    # a question asking which type fits (minimum 1) may describe someone else's arrangement ("Marketing and IT are
    # jointly trying out …"); otherwise the asker speaks of their own
    typed = minimum < 2
    if not (typed or focus.asker.search(text)) or not re.search(focus.situation.get("about") or ".", text, re.I):
        return []
    # only the sentences in which the asker speaks of themselves describe their arrangement ("ChatGPT told the
    # consultant …" is a premise, not a description)
    # a view the asker only reports ("our CEO insists we can't call ourselves partners") describes nothing; a
    # sentence going on with the description ("Next to that there's a joint board …") still describes it
    reported = focus.verdict_cues.get("reported")
    kept, going = [], False
    for s in sentences(text):
        if reported and reported.search(s) and not s.endswith("?"):
            going = False
            continue
        own = bool(focus.asker.search(s)) or typed and not s.endswith("?") and not names_voice(s, focus)
        if own or going and not s.endswith("?") and not names_voice(s, focus):
            kept.append(s)
        going = own or going and not s.endswith("?")
    described = " ".join(kept)
    found = [cue for cue in focus.cues if any(not negated(described, m.start()) for m in cue["rx"].finditer(described))]
    signals = {cue["id"]: cue for cue in focus.signals(described)}
    found = [{**signals[cue["id"]], **cue, "signal": True} if cue["id"] in signals else cue for cue in found]
    ids = {cue["id"] for cue in found}
    found += [cue for sid, cue in signals.items() if sid not in ids]
    roles = [cue for cue in found if cue.get("party")]
    return found if roles or len(found) >= minimum else []


def understand(text: str, vocab: Vocab, focus: Focus, intents: list[str]) -> Question:
    language = vocab.language(text)
    concepts = vocab.concepts(_without_groups(text, focus))
    situation = situation_cues(text, focus)
    choice = asks_choice(text, focus, language)
    treat = focus.verdict_cues.get("treat_as")   # "should IT treat those departments as customers?"
    if not situation and (choice or focus.asks_type.search(last_asked(text))
                          or treat is not None and treat.search(last_asked(text))):   # "… customers or clients?",
        # "… what kind of relationship is that?": one sign will do
        situation = situation_cues(text, focus, minimum=1)
    kind = answer_type(text, focus, situation, choice)
    if situation and kind == "situation":
        for cue in situation:
            concepts += [c for c in cue.get("concepts") or () if c not in concepts]
    words = list(dict.fromkeys(tokens(vocab.expand(text))))
    voices, aside = asked_voices(text, vocab, focus)
    # a premise ("Bing said partnerships rest on trust.") followed by a question naming another voice ("Is there
    # academic work behind that?"): the question asks about the voice it names itself
    said = sentences(text)
    if len(said) > 1 and said[-1].endswith("?"):
        last, _aside = asked_voices(said[-1], vocab, focus)
        if last and set(last) != set(voices):
            voices = last
        verify, checked = focus.verdict_cues.get("verify"), focus.verdict_cues.get("verify_aside")
        # ("a colleague mentioned that ChatGPT described … Is that right?" asks what ChatGPT said: not set aside)
        if not last and verify and checked and verify.search(said[-1]) and not _REPORTED_VOICE.search(text):
            # "ChatGPT said X. Is that true?" asks the other sources whether the chatbot was right
            aside = sorted(set(aside) | {v for v in voices if checked.search(v)})
            voices = [v for v in voices if not checked.search(v)]
    # "Glick's line-up customer – client – partner": a series asked of Glick alone is his range, not the Totus series
    if "series" in concepts and voices == ["glick"] and "totus" not in concepts:
        concepts = [c for c in concepts if c != "series"] + ([] if "range" in concepts else ["range"])
    pieces = [p for p in _PARTS.split(text) if p and len(p.split()) >= 3]
    parts = [list(dict.fromkeys(tokens(vocab.expand(p)))) for p in pieces] if len(pieces) > 1 else []
    # "both articles", or two voices asked whether they said the same ("did ChatGPT and Bing give the same answer?")
    same = focus.verdict_cues.get("same")
    compares = any(pattern.search(text) for pattern, _group in focus.groups) or \
        len(voices) >= 2 and same is not None and bool(same.search(last_asked(text)))
    return Question(text=text, language=language, concepts=concepts, intents=intents, answer_type=kind, compares=compares,
                    voices=voices, not_voices=aside, situation=situation, words=words, parts=parts,
                    asks_yes_no=bool(dict(focus.answer_types)["verdict"].search(_REQUEST.sub("", text))
                                     or asks_to_state(text, focus) or _TAG.search(text)) if "verdict" in dict(focus.answer_types) and not choice else False,
                    asks_choice=choice)
