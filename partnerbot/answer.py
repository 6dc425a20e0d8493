"""The one answer interface: answer(question, history) -> Answer, used by the page, the CLI, batch and eval."""

from __future__ import annotations

from typing import Iterable, Iterator

from .errors import ConfigError, LLMError
from .result import Answer, Answerer, Citation, History, history_turns  # noqa: F401
from .settings import Settings, get_settings

MODES = ("auto", "rules", "llm")


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
