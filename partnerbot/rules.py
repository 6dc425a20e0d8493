"""The deterministic rules answerer: intent + concepts → a claim from corpus/claims.yaml, cited sentence by
sentence; otherwise an extractive answer from the best passages; otherwise an honest refusal. No network."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from .answer import Answer, Citation, History, history_turns
from .errors import ConfigError
from .followup import rewrite
from .retrieval import Passage, Retriever, get_retriever, tokens, validate_question
from .settings import Settings
from .vocab import Vocab

INTENTS = {
    "contrast": r"\b(difference|differences|differ|differs|versus|vs\.?|compare|compared|distinguish|distinction|"
                r"verschil|verschillen|onderscheid|vergelijk\w*|tegenover)\b",
    "who": r"^\s*(and\s+|en\s+)?(who|whom|which party|wie|welke partij)\b|\bwho (holds|has|is|carries|bears)\b|\bbij wie\b",
    "list": r"\b(stages|stage|series|phases|steps|list|levels|fasen|fases|stappen|reeks|niveaus)\b",
    "literature": r"\b(literature|books?|reading|read|research|scholarly|academic|literatuur|boeken|boek|lezen|onderzoek)\b",
    "check": r"\b(right|correct|true|accurate|wrong|reliable|trust|verified|real|fabricated|fake|exist|exists|klopt|juist|"
             r"betrouwbaar|waar|echt|verzonnen|bestaat)\b",
    "yesno": r"^\s*(and\s+|en\s+|so\s+|but\s+)?(can|could|is|are|does|do|should|must|may|will|would|did|has|have|was|were|"
             r"kan|kunnen|kun|mag|mogen|moet|moeten|is|zijn|heeft|hebben|bestaat|klopt|was|waren|wordt|worden)\b",
    "definition": r"^\s*(what|wat|define|definieer|explain|leg)\b|\b(what is|what's|what are|meaning|definition|mean by|"
                  r"wat is|wat zijn|wat betekent|betekenis|definitie)\b",
    "why": r"^\s*(why|waarom|how come|hoezo)\b",
}
_INTENT_RX = {name: re.compile(rx, re.I) for name, rx in INTENTS.items()}
_INJECTION = re.compile(
    r"ignore (all |any |the )?(previous|prior|above|earlier|your)( \w+)? (instructions|rules|prompts?)|disregard (all |the )?"
    r"(previous|prior|above|your)|system prompt|your (instructions|prompt)|reveal .*prompt|print .*prompt|"
    r"you are now|act as|jailbreak|developer mode|negeer (alle |de )?(vorige|eerdere)|toon (je|jouw) (prompt|instructies)",
    re.I)
VOICE_LABEL = {"author": "the article's author", "chatgpt": "a quoted ChatGPT answer", "bing": "a quoted Bing answer",
               "reader": "a reader's comment", "literature": "a literature note", "document": "your document"}


def detect_intents(question: str) -> list[str]:
    return [name for name, rx in _INTENT_RX.items() if rx.search(question)]


@dataclass(frozen=True)
class Claim:
    id: str
    requires: tuple[str, ...]
    any_of: tuple[str, ...]
    excludes: tuple[str, ...]
    intents: tuple[str, ...]
    patterns: tuple[re.Pattern, ...]
    priority: int
    verdict: str | None
    sentences: dict  # language -> list of {"say": str, "cite": note id, "section": optional heading fragment}

    def score(self, concepts: list[str], intents: list[str], question: str) -> float | None:
        present = set(concepts)
        if not set(self.requires) <= present or (self.any_of and not present & set(self.any_of)):
            return None
        if present & set(self.excludes):
            return None
        pattern_hit = any(p.search(question) for p in self.patterns)
        if self.patterns and not pattern_hit:
            return None
        if self.intents and not set(self.intents) & set(intents):
            return None
        covered = set(self.requires) | set(self.any_of)
        return (10 * len(self.requires) + 4 * bool(self.any_of and present & set(self.any_of)) + 3 * pattern_hit
                + 5 * bool(self.intents) + self.priority - 2 * len(present - covered))


@lru_cache(maxsize=4)
def load_claims(corpus_dir: str) -> tuple[Claim, ...]:
    path = Path(corpus_dir) / "claims.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        return ()
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML ({str(exc).splitlines()[0]}): fix the file.") from None
    claims = []
    for raw in data.get("claims") or []:
        try:
            sentences = raw["answer"]
            english = sentences["en"]
            for lang, items in sentences.items():
                if len(items) != len(english):
                    raise ConfigError(f"claims.yaml: claim {raw['id']} has {len(items)} '{lang}' sentences but "
                                      f"{len(english)} English ones; keep them parallel.")
                for item in items:
                    item.setdefault("cite", None)
            claims.append(Claim(
                id=raw["id"], requires=tuple(raw.get("requires") or ()), any_of=tuple(raw.get("any_of") or ()),
                excludes=tuple(raw.get("excludes") or ()), intents=tuple(raw.get("intents") or ()),
                patterns=tuple(re.compile(p, re.I) for p in raw.get("patterns") or ()),
                priority=int(raw.get("priority", 0)), verdict=raw.get("verdict"), sentences=sentences))
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"claims.yaml: claim {raw.get('id', '?') if isinstance(raw, dict) else raw!r} is missing "
                              f"{exc}; see corpus/README.md.") from None
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
        standalone = rewrite(question, history_turns(history), self.vocab)
        asked = standalone or question
        lang = self.vocab.language(question)
        notices = []
        injected = bool(_INJECTION.search(asked))
        if injected:
            notices.append("Instructions inside questions are ignored; partnerbot only answers from its sources.")
            asked = _INJECTION.sub(" ", asked)
        concepts = self.vocab.concepts(asked)
        intents = detect_intents(asked)
        found = self.retriever.search(asked)
        result = None
        if concepts or found.best_similarity >= self.settings.min_similarity:
            result = self._from_claim(asked, concepts, intents, lang, found.passages)
            if result is None and not injected:
                result = self._extractive(asked, found.passages, lang)
        if result is None:
            result = self._refusal(lang, injected)
        result.rewritten_question = standalone
        result.notices = notices + result.notices
        return result

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
                      verdict=claim.verdict, notices=notices, language=use_lang, claim_id=claim.id)

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
            sentences = _split_sentences(passage.text) or [passage.text.strip()]
            best = max(sentences, key=lambda s: support(question, s))
            marker = len(citations) + 1
            citations.append(Citation.from_passage(marker, passage))
            label = VOICE_LABEL.get(passage.voice, passage.voice)
            parts.append(f"{best} ({label}, “{passage.title}”) [{marker}]")
        lead = ("Geen vaste bewering in de bronnen beantwoordt dit precies; dit zijn de meest relevante passages."
                if lang == "nl" else "No curated claim answers this exactly; these are the most relevant passages.")
        return Answer(text=" ".join(parts), citations=citations, mode=self.mode, verdict=None,
                      notices=[lead], language=lang)

    def _refusal(self, lang: str, injected: bool) -> Answer:
        if lang == "nl":
            text = ("De bronnen behandelen dit niet. Ik beantwoord vragen over opdrachtgever en opdrachtnemer, klant en "
                    "leverancier, partners en strategische partners, op basis van het Totus-artikel, de column van "
                    "Byron Glick en geverifieerde literatuur.")
        else:
            text = ("The sources do not cover this. I answer questions about clients and contractors, customers and "
                    "suppliers, partners and strategic partners, based on the Totus Consultancy article, Byron Glick's "
                    "column and verified literature.")
        if injected:
            text = ("I don't follow instructions given inside questions or documents, and I don't share my "
                    "instructions. " + text)
        return Answer(text=text, citations=[], mode=self.mode, verdict=None, language=lang, refused=True)
