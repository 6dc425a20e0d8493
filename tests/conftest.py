"""Shared fixtures. Every test runs with a clean environment and temporary stores; nothing touches ./.chroma."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from partnerbot.settings import PROJECT_ROOT, Settings, get_settings

SHARED = PROJECT_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    """One cache folder for the whole run: the ONNX export of the embedding model is made once, not per test."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path, cache_dir):
    """No API keys, no PARTNERBOT_* from the developer's shell; the default store is a temp folder."""
    for name in list(os.environ):
        if name.startswith("PARTNERBOT_") or name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PARTNERBOT_STORE", str(tmp_path / "default-store"))
    monkeypatch.setenv("PARTNERBOT_CACHE_DIR", str(cache_dir))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def corpus_settings(tmp_path_factory, cache_dir) -> Settings:
    """A session-wide temporary store holding the built-in corpus (read-only use: search/answer tests)."""
    from ingest import ingest_corpus

    cfg = get_settings(store=tmp_path_factory.mktemp("corpus-store"), cache_dir=cache_dir)
    ingest_corpus(cfg)
    return cfg


@pytest.fixture
def fresh_settings(tmp_path) -> Settings:
    """An empty store of this test's own."""
    return get_settings(store=tmp_path / "store")


@pytest.fixture
def corpus_copy(tmp_path) -> Path:
    """A writable copy of corpus/ for tests that add, change or remove notes."""
    target = tmp_path / "corpus"
    shutil.copytree(PROJECT_ROOT / "corpus", target)
    return target


@pytest.fixture
def rules(corpus_settings):
    from partnerbot.rules import RulesAnswerer

    return RulesAnswerer(corpus_settings)


@pytest.fixture
def cli(capsys, monkeypatch):
    """Run the CLI in-process: cli("ask", "...", store=path) -> (exit_code, stdout, stderr)."""
    from partnerbot import cli as cli_module

    def run(*args: str, store: Path | None = None):
        argv = ["partnerbot"] + (["--store", str(store)] if store else []) + list(args)
        monkeypatch.setattr(sys, "argv", argv)
        code = 0
        try:
            cli_module.main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def shared_or_skip() -> Path:
    """The ../shared folder (source articles) is optional: tests that need it skip cleanly without it."""
    if not (SHARED / "seeds").is_dir():
        pytest.skip("../shared/seeds not present (fresh clone): source-article checks skipped")
    return SHARED


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Show the project eval scores (recorded by tests/test_eval.py with record_property) in every run's summary."""
    lines = [f"{name[len('eval_'):]}: {value}" for outcome in ("passed", "failed")
             for report in terminalreporter.stats.get(outcome, [])
             for name, value in getattr(report, "user_properties", []) if name.startswith("eval_")]
    if lines:
        terminalreporter.write_sep("-", "partnerbot eval")
        for line in lines:
            terminalreporter.write_line(line)
