"""The LLM answerer: rewrite follow-ups, retrieve, ask a chat model (LangChain ChatOpenAI, any OpenAI-compatible
server) to answer from numbered passages, then keep only the sentences their citations support (citations.py).

Every failure ends in LLMError with a one-line reason (never the API key); FallbackAnswerer then answers with the
rules answerer. Retries are ours, not the SDK's: the SDK makes one attempt per call (max_retries=0) and this
module decides what to retry (429 honouring Retry-After, 5xx, timeouts, malformed or empty replies), how often
(llm_max_retries) and for how long in total (llm_max_wait).
"""

from __future__ import annotations

import email.utils
import time
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from typing import Callable, Iterator
from urllib.parse import urlsplit

from .result import Answer, Citation, History, history_turns
from .citations import Source, SupportChecker
from .errors import InputError, LLMError
from .retrieval import Passage, get_retriever, tokens, validate_question
from .settings import Settings
from .prompting import (  # noqa: F401  (LEAK_WORDS, as_data, passage_block, render: re-exported for tests)
    LEAK_WORDS, PROMPTS, LeakGuard, _shown_to_model, as_data, load_prompt, passage_block, render,
)
from .support import Judge

PLACEHOLDER_KEY = "not-needed"   # OpenAI-compatible servers without auth still expect some bearer token
BACKOFF_SECONDS = 0.5            # wait before the first retry of a 5xx / malformed / empty reply; doubles each time
HISTORY_TURNS = 6                # conversation turns given to the rewrite prompt
TURN_CHARS = 600                 # characters kept of each of those turns


# --- calling the model with bounded retries -----------------------------------------------------------------

class EmptyReply(Exception):
    """The model answered with no text."""


@dataclass
class Failure:
    reason: str
    retry: bool
    wait: float | None = None      # seconds the server asked us to wait (Retry-After)


def retry_after(response) -> float | None:
    """Seconds from a Retry-After(-ms) header: a number or an HTTP date."""
    headers = getattr(response, "headers", None) or {}
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) * scale)
        except ValueError:
            pass
        try:
            return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None
    return None


def server_name(settings: Settings) -> str:
    """host:port of the model server: enough to recognise it, never credentials or paths."""
    if not settings.llm_base_url:
        return "the OpenAI API"
    parts = urlsplit(settings.llm_base_url)
    if not parts.hostname:
        return "the model server"
    return f"the model server at {parts.hostname}" + (f":{parts.port}" if parts.port else "")


def classify(exc: Exception, settings: Settings) -> Failure:
    """What went wrong, in words that name the fix, and whether another attempt can help.
    Messages are ours: SDK messages may quote the key (a 401 body often does)."""
    import openai

    model = settings.llm_model
    if isinstance(exc, EmptyReply):
        return Failure("the model returned an empty reply", True)
    if isinstance(exc, openai.AuthenticationError):
        return Failure(f"{server_name(settings)} rejected the API key (HTTP 401): check OPENAI_API_KEY", False)
    if isinstance(exc, openai.PermissionDeniedError):
        return Failure(f"{server_name(settings)} denied access to model '{model}' (HTTP 403): check the key's "
                       "permissions or PARTNERBOT_LLM_MODEL", False)
    if isinstance(exc, openai.NotFoundError):
        return Failure(f"model '{model}' or its endpoint was not found (HTTP 404): check PARTNERBOT_LLM_MODEL "
                       "and PARTNERBOT_LLM_BASE_URL", False)
    if isinstance(exc, openai.RateLimitError):
        return Failure(f"{server_name(settings)} is rate limiting (HTTP 429)", True, retry_after(exc.response))
    if isinstance(exc, openai.APITimeoutError) or "Timeout" in type(exc).__name__:
        return Failure(f"no reply within the time limit (PARTNERBOT_LLM_TIMEOUT={settings.llm_timeout:g}s)", True, 0.0)
    if isinstance(exc, openai.APIConnectionError) or type(exc).__module__.split(".")[0] in ("httpx", "httpx2", "httpcore"):
        return Failure(f"cannot reach {server_name(settings)}: start the server or fix PARTNERBOT_LLM_BASE_URL", True)
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code >= 500:
            return Failure(f"{server_name(settings)} failed (HTTP {exc.status_code})", True)
        return Failure(f"{server_name(settings)} refused the request (HTTP {exc.status_code}): check "
                       "PARTNERBOT_LLM_MODEL and PARTNERBOT_LLM_BASE_URL", False)
    if isinstance(exc, (ValueError, TypeError, KeyError, AttributeError, openai.APIResponseValidationError)):
        return Failure(f"{server_name(settings)} sent a malformed reply ({type(exc).__name__})", True)
    return Failure(f"the model call failed unexpectedly ({type(exc).__name__})", False)


class Budget:
    """Time spent in model calls for one answer, capped by PARTNERBOT_LLM_MAX_WAIT (retrieval and the first load
    of the embedding model do not count)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.spent = 0.0
        self._since: float | None = None

    def start(self) -> None:
        self._since = time.monotonic()

    def stop(self) -> None:
        if self._since is not None:
            self.spent += time.monotonic() - self._since
            self._since = None

    def remaining(self) -> float:
        running = time.monotonic() - self._since if self._since is not None else 0.0
        return self.seconds - self.spent - running


def message_text(content) -> str:
    """Text of a LangChain message content: a string, or a list of content blocks."""
    if isinstance(content, str):
        return content
    return "".join(b if isinstance(b, str) else str(b.get("text", "")) for b in content or []
                   if isinstance(b, str) or b.get("type") == "text")


# --- the answerer -------------------------------------------------------------------------------------------

class LLMAnswerer:
    mode = "llm"

    def __init__(self, settings: Settings, rules=None):
        self.settings = settings
        self.retriever = get_retriever(settings)
        self._rules = rules
        prompts_dir = str(settings.prompts_dir)
        self.guard = LeakGuard([load_prompt(prompts_dir, name) for name in PROMPTS])

    @cached_property
    def chat(self):
        from langchain_openai import ChatOpenAI
        from pydantic import SecretStr

        s = self.settings
        try:
            return ChatOpenAI(model=s.llm_model, temperature=s.llm_temperature, base_url=s.llm_base_url,
                              api_key=s.openai_api_key or SecretStr(PLACEHOLDER_KEY), timeout=s.llm_timeout,
                              max_retries=0, use_responses_api=False)
        except Exception as exc:  # the message could quote settings, so only the type is shown
            raise LLMError(f"cannot set up the chat model ({type(exc).__name__}): check PARTNERBOT_LLM_MODEL "
                           "and PARTNERBOT_LLM_BASE_URL") from None

    @property
    def rules(self):
        if self._rules is None:
            from .rules import RulesAnswerer

            self._rules = RulesAnswerer(self.settings, self.retriever)
        return self._rules

    # --- public ---------------------------------------------------------------------------------------------
    def answer(self, question: str, history: History = ()) -> Answer:
        *_, final = self._run(question, history, stream=False)
        return final

    def stream(self, question: str, history: History = ()) -> Iterator[str | Answer]:
        """Yield the draft as it arrives, then the verified Answer (which may leave sentences out)."""
        return self._run(question, history, stream=True)

    # --- steps ----------------------------------------------------------------------------------------------
    def _run(self, question: str, history: History, stream: bool) -> Iterator[str | Answer]:
        question = validate_question(question, self.settings)
        budget = Budget(self.settings.llm_max_wait)
        turns = history_turns(history)
        standalone = self._rewrite(question, turns, budget) if turns else question
        rewritten = standalone if standalone.strip().casefold() != question.strip().casefold() else None
        ruled = self.rules.answer(standalone)     # one definition of "out of scope": the rules answerer's
        if ruled.refused:                          # refused there: refuse here too, without calling the model
            ruled.rewritten_question = rewritten
            yield ruled
            return
        passages = self.retriever.search(standalone, self.settings.top_k).passages
        messages = self._messages(standalone, passages)
        draft: list[str] = []

        def collect() -> Iterator[str]:
            for piece in self._generate(messages, budget, stream):
                draft.append(piece)
                yield piece

        if stream:
            yield from self.guard.filter(collect())
        else:
            for _ in collect():
                pass
        yield self._verified(question, "".join(draft), passages, rewritten)

    def _messages(self, question: str, passages: list[Passage]) -> list:
        from langchain_core.messages import HumanMessage, SystemMessage

        prompts_dir = str(self.settings.prompts_dir)
        blocks = "\n\n".join(passage_block(n, p) for n, p in enumerate(passages, 1))
        return [SystemMessage(load_prompt(prompts_dir, "system")),
                HumanMessage(render(prompts_dir, "answer", passages=blocks, question=as_data(question)))]

    def _rewrite(self, question: str, turns: list[tuple[str, str]], budget: Budget) -> str:
        """The follow-up as a standalone question (the model's rewrite), or the question itself if that is unusable."""
        from langchain_core.messages import HumanMessage

        history = "\n".join(f"{role}: {as_data(' '.join(content.split())[:TURN_CHARS])}"
                            for role, content in turns[-HISTORY_TURNS:])
        prompt = render(str(self.settings.prompts_dir), "rewrite", history=history, question=as_data(question))
        reply = "".join(self._generate([HumanMessage(prompt)], budget, stream=False))
        line = next((ln.strip().strip('"“”\'') for ln in reply.splitlines() if ln.strip()), "")
        try:
            line = validate_question(line, self.settings)
        except InputError:
            return question
        return question if self.guard.leaks(line) else line

    def _generate(self, messages: list, budget: Budget, stream: bool) -> Iterator[str]:
        """Text pieces of one reply; the time spent counts against the answer's budget."""
        self.chat  # noqa: B018 - import and build the client first: a cold import is not the server's time
        budget.start()
        try:
            yield from self._retrying(messages, budget, stream)
        finally:
            budget.stop()

    def _retrying(self, messages: list, budget: Budget, stream: bool) -> Iterator[str]:
        """Retry failed attempts while nothing has been shown yet; raise LLMError when retrying cannot help."""
        failures = 0
        while True:
            timeout = min(self.settings.llm_timeout, budget.remaining())
            if timeout <= 0:
                raise LLMError(f"no usable reply within PARTNERBOT_LLM_MAX_WAIT={budget.seconds:g}s")
            shown = ""
            try:
                for piece in self._attempt(messages, timeout, stream):
                    shown += piece
                    yield piece
                    if budget.remaining() <= 0:
                        raise LLMError(f"the reply was still arriving after PARTNERBOT_LLM_MAX_WAIT={budget.seconds:g}s")
                if not shown.strip():
                    raise EmptyReply()
                return
            except LLMError:
                raise
            except Exception as exc:  # the SDK boundary: every failure becomes a Failure, never a traceback
                failure = classify(exc, self.settings)
            failures += 1
            if shown.strip():
                raise LLMError(f"the reply broke off while streaming: {failure.reason}")
            time.sleep(self._wait_before_retry(failure, failures, budget))

    def _wait_before_retry(self, failure: Failure, failures: int, budget: Budget) -> float:
        if not failure.retry or failures > self.settings.llm_max_retries:
            raise LLMError(failure.reason + (f" after {failures} attempts" if failures > 1 else ""))
        wait = failure.wait if failure.wait is not None else BACKOFF_SECONDS * 2 ** (failures - 1)
        if wait >= budget.remaining():
            raise LLMError(f"{failure.reason}; waiting {wait:g}s more would pass "
                           f"PARTNERBOT_LLM_MAX_WAIT={budget.seconds:g}s")
        return wait

    def _attempt(self, messages: list, timeout: float, stream: bool) -> Iterator[str]:
        if stream:
            for chunk in self.chat.stream(messages, timeout=timeout):
                text = message_text(chunk.content)
                if text:
                    yield text
        else:
            yield message_text(self.chat.invoke(messages, timeout=timeout).content)

    def _similarity(self) -> Callable[[str, str], float]:
        """Cosine of the store's (normalised) embeddings, each text embedded once and only when the check needs
        it (many sentences pass or fail on words and anchors alone)."""
        from .store import get_embedder

        embedder = get_embedder(self.settings)
        vectors: dict[str, list[float]] = {}

        def vector(text: str) -> list[float]:
            if text not in vectors:
                vectors[text] = embedder.embed_one(text)
            return vectors[text]

        return lambda a, b: float(sum(x * y for x, y in zip(vector(a), vector(b))))

    def _verified(self, question: str, text: str, passages: list[Passage], rewritten: str | None) -> Answer:
        s = self.settings
        language = self.retriever.vocab.language(question)
        judge = Judge(s, self.retriever.vocab, self._similarity(), language)
        checker = SupportChecker(tokens, s.support_threshold, s.support_cosine, forbidden=self.guard.leaks,
                                 judge=judge, language=language)
        result = checker.verify(text, {n: Source(_shown_to_model(p), p.voice, p.language)
                                       for n, p in enumerate(passages, 1)})
        dropped = result.dropped
        if not result.sources:  # a verdict or caveat alone is no answer
            raise LLMError(f"none of the model's {len(result.checks)} sentences was supported by a passage it cited")
        notices = []
        attributed = sum(bool(c.attributed) for c in result.checks if c.kept)
        if attributed:
            notices.append(f"Added whose claim it is to {attributed} sentence{'s' * (attributed > 1)} of the model's "
                           "answer that stated a quoted chatbot answer as fact.")
        if dropped:
            reasons = Counter(c.reason for c in dropped)
            detail = "; ".join(f"{n} {reason}" for reason, n in reasons.items())
            notices.append(f"Left out {len(dropped)} sentence{'s' * (len(dropped) > 1)} of the model's answer "
                           f"({detail}).")
        citations = [Citation.from_passage(new, passages[old - 1]) for new, old in enumerate(result.sources, 1)]
        return Answer(text=result.text, citations=citations, mode=self.mode, rewritten_question=rewritten,
                      notices=notices, language=language,
                      dropped=[self._shown(c.sentence.text) for c in dropped])

    def _shown(self, sentence: str) -> str:
        """A dropped sentence as users may see it: withheld when it repeats partnerbot's instructions."""
        return "[withheld: it repeated partnerbot's instructions]" if self.guard.leaks(sentence) else sentence
