"""The one answer interface: answer(question, history) -> Answer, used by the page, the CLI, batch and eval."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Iterable, Iterator, Protocol, Sequence

from .errors import ConfigError, LLMError
from .retrieval import Passage
from .settings import Settings, get_settings

MODES = ("auto", "rules", "llm")
History = Sequence  # of {"role": "user"|"assistant", "content": str} or (role, content) pairs


@dataclass
class Citation:
    marker: int
    chunk_id: str
    doc_path: str
    title: str
    source_title: str
    author: str
    voice: str
    text: str
    score: float
    section: str = ""
    caveat: str = ""
    doc_id: str = ""

    @classmethod
    def from_passage(cls, marker: int, passage: Passage) -> "Citation":
        return cls(marker=marker, chunk_id=passage.chunk_id, doc_path=passage.doc_path, title=passage.title,
                   source_title=passage.source_title, author=passage.author, voice=passage.voice, text=passage.text,
                   score=round(passage.score, 6), section=passage.section, caveat=passage.caveat, doc_id=passage.doc_id)


@dataclass
class Answer:
    text: str
    citations: list[Citation] = field(default_factory=list)
    mode: str = "rules"
    verdict: str | None = None
    rewritten_question: str | None = None
    notices: list[str] = field(default_factory=list)
    language: str = "en"
    refused: bool = False
    claim_id: str | None = None
    dropped: list[str] = field(default_factory=list)

    def to_dict(self, question: str | None = None) -> dict:
        data = asdict(self)
        if question is not None:
            data = {"question": question, "answer": data.pop("text"), **data}
        return data


class Answerer(Protocol):
    mode: str

    def answer(self, question: str, history: History = ()) -> Answer: ...


def history_turns(history: History) -> list[tuple[str, str]]:
    """Normalise history items to (role, content) pairs."""
    turns = []
    for item in history or ():
        if isinstance(item, dict):
            turns.append((str(item.get("role", "user")), str(item.get("content", ""))))
        else:
            role, content = item
            turns.append((str(role), str(content)))
    return turns


def resolve_mode(settings: Settings, mode: str | None = None) -> str:
    mode = mode or settings.mode
    if mode not in MODES:
        raise ConfigError(f"Unknown mode '{mode}': choose one of {', '.join(MODES)}.")
    if mode == "auto":
        return "llm" if settings.llm_configured else "rules"
    if mode == "llm" and not settings.llm_configured:
        raise ConfigError("LLM mode needs OPENAI_API_KEY or PARTNERBOT_LLM_BASE_URL: set one, or use --mode rules.")
    return mode


def get_answerer(settings: Settings | None = None, mode: str | None = None) -> Answerer:
    settings = settings or get_settings()
    chosen = resolve_mode(settings, mode)
    from .rules import RulesAnswerer

    rules = RulesAnswerer(settings)
    if chosen == "rules":
        return rules
    from .llm import LLMAnswerer

    return FallbackAnswerer(LLMAnswerer(settings, rules), rules)


class FallbackAnswerer:
    """Try the LLM; on any LLMError answer with the rules answerer and say so in a notice."""

    mode = "llm"

    def __init__(self, primary, fallback):
        self.primary = primary
        self.fallback = fallback

    def answer(self, question: str, history: History = ()) -> Answer:
        try:
            return self.primary.answer(question, history)
        except LLMError as exc:
            return self._fallback(question, history, exc)

    def stream(self, question: str, history: History = ()) -> Iterator[str | Answer]:
        """Yield text pieces as they arrive, then the final Answer (verified, or the rules fallback)."""
        try:
            yield from self.primary.stream(question, history)
        except LLMError as exc:
            yield self._fallback(question, history, exc)

    def _fallback(self, question: str, history: History, exc: Exception) -> Answer:
        result = self.fallback.answer(question, history)
        result.notices.insert(0, f"The language model answer could not be used: {exc}. This is the offline rules answer.")
        result.mode = "rules-fallback"
        return result


def answer(question: str, history: History = (), settings: Settings | None = None, mode: str | None = None) -> Answer:
    """Answer one question with the configured answerer (rules without an API key)."""
    return get_answerer(settings, mode).answer(question, history)


def stream_answer(question: str, history: History = (), settings: Settings | None = None,
                  mode: str | None = None) -> Iterable[str | Answer]:
    """Text pieces then the final Answer in LLM mode; in rules mode just the Answer."""
    answerer = get_answerer(settings, mode)
    if hasattr(answerer, "stream"):
        return answerer.stream(question, history)
    return iter([answerer.answer(question, history)])
