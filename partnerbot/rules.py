"""The deterministic rules answerer: intent + concepts → a claim from corpus/claims.yaml, cited sentence by
sentence; otherwise an extractive answer from the best passages; otherwise an honest refusal. No network."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from .result import Answer, Citation, History, history_turns
from .errors import ConfigError
from .followup import rewrite
from .retrieval import Passage, Retriever, get_retriever, tokens, validate_question
from .settings import Settings
from .vocab import Vocab

INTENTS = {
    "contrast": r"\b(difference|differences|differ|differs|different|versus|vs\.?|compare|compared|comparison|distinguish|"
                r"distinction|contrast|verschil|verschillen|verschilt|onderscheid|onderscheiden|vergelijk\w*|tegenover)\b",
    "who": r"^\s*(and\s+|en\s+|so\s+)?(who|whom|which party|wie|welke partij)\b|\bwho (holds|has|is|carries|bears|decides|sets)\b"
           r"|\b(bij wie|wie (heeft|draagt|houdt|voert|beslist|bepaalt|is))\b",
    "list": r"\b(stages|series|phases|steps|list|levels|categories|types|kinds|three|four|seven|which books|fasen|fases|"
            r"stappen|reeks|niveaus|soorten|typen|drie|vier|zeven|welke boeken)\b",
    "literature": r"\b(literature|books?|reading|read|research|scholarly|academic|studies|literatuur|boeken|boek|lezen|"
                  r"onderzoek|wetenschap\w*)\b",
    "check": r"\b(right|correct|true|accurate|wrong|incorrect|false|reliable|trust(worthy)?|verified|real|really|fabricated|fake|"
             r"made up|invented|exist|exists|klopt|klopte|kloppen|klopten|juist|onjuist|fout|betrouwbaar|waar|echt|verzonnen|bestaat|bestaan)\b",
    "yesno": r"(^|[,;:]\s*)\s*(and\s+|en\s+|so\s+|but\s+|maar\s+)?(can|could|is|are|does|do|should|must|may|will|would|did|has|have|was|"
             r"were|kan|kunnen|kun|mag|mogen|moet|moeten|is|zijn|heeft|hebben|bestaat|bestaan|klopt|klopte|kloppen|klopten|was|waren|wordt|"
             r"worden|verliest|verliezen|blijft|blijven|gaat|hoort|horen|geldt|staat|draagt|houdt|had|hadden|zou|zouden)\b",
    "definition": r"^\s*(what|wat|define|definieer|explain|leg|describe|beschrijf|how does .* (describe|define))\b|"
                  r"\b(what is|what's|what are|meaning|definition|mean by|stand for|stands for|wat is|wat zijn|wat betekent|"
                  r"betekenis|definitie|staat voor)\b",
    "why": r"^\s*(and\s+|en\s+)?(why|waarom|how come|hoezo)\b",
}
_INTENT_RX = {name: re.compile(rx, re.I) for name, rx in INTENTS.items()}
# Instructions aimed at the assistant rather than questions about the sources (English and Dutch).
_INJECTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instructions?|rules|prompts?|guidelines|constraints)\b|"
    r"\b(ignore|disregard|forget|negeer|vergeet)\b.{0,20}\b(your|je|jouw|uw)\s+(notes|sources|documents|context|"
    r"bronnen|notities|documenten)\b|"
    r"system ?prompt|systeemprompt|\b(your|je|jouw) (instructions|prompt|instructies|regels|prompt)\b|"
    r"\binstructions (were you|you were|have you been) given\b|\bwhat (instructions|rules) (were|have|do)\b|"
    r"\b(reveal|print|show|repeat|output|leak)\b.{0,30}\b(prompt|instructions|word for word|verbatim)\b|"
    r"\byou are now\b|\bact as (if|an? (ai|assistant|chatbot|different|unrestricted))|\bpretend (to be|you are)\b|"
    r"\bjailbreak|developer mode|\bDAN\b|\bwithout (any )?restrictions\b|"
    r"\b(negeer|vergeet|omzeil)\b.{0,40}\b(instructies|regels|opdrachten|prompt)\b|"
    r"\b(toon|laat|geef|herhaal)\b.{0,30}\b(prompt|instructies|systeemprompt)\b|\bwelke instructies\b|"
    r"\b(always |only )?(answer|reply|respond) (to )?(every|all|each|any)\b.{0,20}\bwith\b|^\W*say that\b|"
    r"\btell (the user|users|everyone|the reader) that\b|\b(antwoord|zeg) (altijd|alleen)\b|^\W*zeg dat\b",
    re.I)
# Topics plainly outside the sources; a question about them is refused even if it names a company in the corpus.
_OFF_TOPIC = re.compile(
    r"\b(weather|forecast|rain|weerbericht|regen|recipe|recept|bake|bak|cook|koken|football|soccer|voetbal|champions league|"
    r"wedstrijd|election|elections|verkiezing\w*|shares?\b.*\bbuy|buy\b.*\bshares?|stock|stocks|aandelen|invest\w*|"
    r"beleggen|capital of|hoofdstad|headache|hoofdpijn|remedy|medicine|medicijn|python|javascript|joke|grap|poem|gedicht)\b",
    re.I)
# What a "what/which …" question asks for follows the question word ("What VAT rate…", "Which CRM package…"
# in English questions). When no source uses that word, the sources cannot answer it, whatever concepts the
# question also names ("…to a client in Belgium"), so it is refused rather than answered beside the point.
_FOCUS = re.compile(r"^\W*(?:what|which|how much|how many)\s+([\w'-]+)(?:\s+([\w'-]+))?", re.I)
_FOCUS_STOP = frozenset("is are was were does do did can could should would will may might must has have had else "
                        "exactly really".split())
# After these the word was a verb with its object or clause ("What drives a partnership?", "What happens when…").
_AFTER_VERB = frozenset("""a an the this that these those who whom when where why how whether if it its his her their
our my your to in on at for with from by of about between most more less all every each some any no""".split())
# Concepts that make a question about relationships even when it also mentions an off-topic word.
_CORE = frozenset({"client", "contractor", "customer", "supplier", "partner", "strategic_partner", "rasci", "sla_ola",
                   "series", "maturity", "range", "hierarchy", "coexist", "hybrid", "assignment"})
# Questions that ask about the negative ("was it wrong?", "is it fabricated?") flip a claim's yes/no verdict.
_NEGATIVE = re.compile(r"\b(wrong|incorrect|false|fabricated|fake|made up|invented|mistaken|error|fout|onjuist|"
                       r"verzonnen|nep|vergist)\b", re.I)
POLAR_VERDICTS = {"yes", "no", "yes-with-nuance", "depends", "not-established"}
VOICE_LABEL = {"author": "the article's author", "chatgpt": "a quoted ChatGPT answer", "bing": "a quoted Bing answer",
               "reader": "a reader's comment", "literature": "a literature note", "document": "your document"}


def detect_intents(question: str) -> list[str]:
    return [name for name, rx in _INTENT_RX.items() if rx.search(question)]


def strip_injection(question: str) -> tuple[str, bool]:
    """Drop the sentences of a question that address the assistant ("ignore previous instructions...")."""
    if not _INJECTION.search(question):
        return question, False
    sentences = re.split(r"(?<=[.!?;:])\s+", question)
    kept = [s for s in sentences if not _INJECTION.search(s)]
    return " ".join(kept).strip(), True


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

    def verdict_for(self, question: str, intents: list[str]) -> str | None:
        """The verdict code; a yes/no verdict only answers a yes/no question, flipped when it asks about the negative."""
        if self.verdict not in POLAR_VERDICTS:
            return self.verdict
        if not {"yesno", "check"} & set(intents):
            return None
        if self.negative_verdict and _NEGATIVE.search(question):
            return self.negative_verdict
        return self.verdict


def _claim(raw: dict, neutral: frozenset) -> Claim:
    sentences = raw["answer"]
    english = sentences["en"]
    for lang, items in sentences.items():
        if len(items) != len(english):
            raise ConfigError(f"claims.yaml: claim {raw['id']} has {len(items)} '{lang}' sentences but "
                              f"{len(english)} English ones; keep them parallel.")
        for item in items:
            item.setdefault("cite", None)
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
        questions=tuple(raw.get("questions") or ()))


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
    claims, seen = [], set()
    for raw in data.get("claims") or []:
        try:
            claim = _claim(raw, neutral)
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


def _split_sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z\"“(])", " ".join(text.split()))
    return [p.strip() for p in parts if len(p.split()) >= 4]


class RulesAnswerer:
    mode = "rules"

    def __init__(self, settings: Settings, retriever: Retriever | None = None):
        self.settings = settings
        self.retriever = retriever or get_retriever(settings)
        self.vocab: Vocab = self.retriever.vocab
        self.claims = load_claims(str(settings.corpus_dir))

    # --- public ---------------------------------------------------------------------------------------
    def answer(self, question: str, history: History = ()) -> Answer:
        question = validate_question(question, self.settings)
        lang = self.vocab.language(question)
        cleaned, injected = strip_injection(question)
        standalone = rewrite(cleaned, history_turns(history), self.vocab) if cleaned else None
        asked, injected_before = strip_injection(standalone or cleaned)  # history can carry instructions too
        injected = injected or injected_before
        notices = ["Instructions inside questions are ignored; partnerbot only answers from its sources."] if injected else []
        result = None
        concepts = self.vocab.concepts(asked) if asked else []
        off_topic = bool(_OFF_TOPIC.search(cleaned)) and not _CORE & set(self.vocab.concepts(cleaned))
        # English only: the notes are English, so most Dutch words are unknown to them ("Welke drie soorten…")
        unknown = self.unknown_focus(asked) if asked and not off_topic and lang == "en" else None
        if unknown:
            result = self._refusal(lang, injected, unknown)
        elif asked and not off_topic:
            intents = detect_intents(asked)
            found = self.retriever.search(asked)
            if concepts or found.best_similarity >= self.settings.min_similarity_no_concept:
                result = self._from_claim(asked, concepts, intents, lang, found.passages)
                if result is None and not injected:
                    result = self._extractive(asked, found.passages, lang)
        if result is None:
            result = self._refusal(lang, injected)
        result.rewritten_question = standalone
        result.notices = notices + result.notices
        return result

    def unknown_focus(self, question: str) -> str | None:
        """The word a what/which question asks about, when no stored chunk uses it (nor the concept list)."""
        match = _FOCUS.match(question)
        word, after = (match.group(1), (match.group(2) or "").lower()) if match else ("", "")
        if not word or word.lower() in _FOCUS_STOP or after in _AFTER_VERB or word.lower().endswith("ed"):
            return None
        known = self.retriever.knows(word) or self.vocab.concepts(word) or self.vocab.expand(word) != word
        return None if known else word

    # --- strategies -------------------------------------------------------------------------------------
    def match_claim(self, question: str, concepts: list[str] | None = None, intents: list[str] | None = None) -> Claim | None:
        concepts = self.vocab.concepts(question) if concepts is None else concepts
        intents = detect_intents(question) if intents is None else intents
        best, best_score = None, None
        for claim in self.claims:
            score = claim.score(concepts, intents, question)
            if score is not None and (best_score is None or score > best_score):
                best, best_score = claim, score
        return best

    def _from_claim(self, question, concepts, intents, lang, retrieved: list[Passage]) -> Answer | None:
        claim = self.match_claim(question, concepts, intents)
        if claim is None:
            return None
        notices = []
        use_lang = lang if lang in claim.sentences else "en"
        if use_lang != lang:
            notices.append("This answer has no Dutch rendering yet; it is given in English.")
        retrieved_score = {p.chunk_id: p.score for p in retrieved}
        citations: dict[str, Citation] = {}
        parts = []
        for english, item in zip(claim.sentences["en"], claim.sentences[use_lang]):
            passage = self._best_passage(item.get("cite") or english.get("cite"), english["say"],
                                         english.get("section") or item.get("section"))
            if passage is None:
                continue
            if passage.chunk_id not in citations:
                passage.score = retrieved_score.get(passage.chunk_id, round(support(english["say"], passage.text), 4))
                citations[passage.chunk_id] = Citation.from_passage(len(citations) + 1, passage)
            parts.append(f"{item['say'].strip()} [{citations[passage.chunk_id].marker}]")
        if not parts:
            return None
        return Answer(text=" ".join(parts), citations=list(citations.values()), mode=self.mode,
                      verdict=claim.verdict_for(question, intents), notices=notices, language=use_lang, claim_id=claim.id)

    def _best_passage(self, note_id: str, sentence: str, section: str | None) -> Passage | None:
        candidates = self.retriever.note_passages(note_id)
        if section:
            narrowed = [p for p in candidates if section.lower() in p.section.lower()]
            candidates = narrowed or candidates
        if not candidates:
            return None
        return max(candidates, key=lambda p: support(sentence, p.text))  # max keeps the first of equals

    def _extractive(self, question: str, passages: list[Passage], lang: str) -> Answer | None:
        strong = [p for p in passages if p.similarity >= self.settings.min_similarity][:3]
        if not strong:
            return None
        citations, parts = [], []
        for passage in strong:
            # Text inside passages (e.g. an uploaded document) is evidence, never an instruction: skip such sentences.
            sentences = [s for s in _split_sentences(passage.text) or [passage.text.strip()] if not _INJECTION.search(s)]
            if not sentences:
                continue
            best = max(sentences, key=lambda s: support(question, s))
            marker = len(citations) + 1
            citations.append(Citation.from_passage(marker, passage))
            label = VOICE_LABEL.get(passage.voice, passage.voice)
            parts.append(f"{best} ({label}, “{passage.title}”) [{marker}]")
        if not parts:
            return None
        lead = ("Geen vaste bewering in de bronnen beantwoordt dit precies; dit zijn de meest relevante passages."
                if lang == "nl" else "No curated claim answers this exactly; these are the most relevant passages.")
        # The quoted passages keep their own language (the notes are English), so say so rather than claim Dutch.
        quoted = {c.language for c in strong if c.chunk_id in {x.chunk_id for x in citations}} or {lang}
        return Answer(text=" ".join(parts), citations=citations, mode=self.mode, verdict=None,
                      notices=[lead], language=lang if quoted == {lang} else "en")

    def _refusal(self, lang: str, injected: bool, unknown: str | None = None) -> Answer:
        if lang == "nl":
            text = (f"De bronnen zeggen niets over “{unknown}”. " if unknown else "De bronnen behandelen dit niet. ") + (
                "Ik beantwoord vragen over opdrachtgever en opdrachtnemer, klant en leverancier, partners en "
                "strategische partners, op basis van het Totus-artikel, de column van Byron Glick en geverifieerde "
                "literatuur.")
        else:
            text = (f"The sources say nothing about “{unknown}”. " if unknown else "The sources do not cover this. ") + (
                "I answer questions about clients and contractors, customers and suppliers, partners and strategic "
                "partners, based on the Totus Consultancy article, Byron Glick's column and verified literature.")
        if injected:
            text = ("Ik volg geen instructies op die in vragen of documenten staan, en ik deel mijn eigen instructies "
                    "niet. " if lang == "nl" else "I don't follow instructions given inside questions or documents, "
                    "and I don't share my instructions. ") + text
        return Answer(text=text, citations=[], mode=self.mode, verdict=None, language=lang, refused=True)
