"""The CLI contract: JSON shapes, auto-ingest, one-line errors, documented commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from partnerbot.retrieval import PASSAGE_FIELDS
from partnerbot.settings import PROJECT_ROOT

CITATION_FIELDS = {"marker", "chunk_id", "doc_path", "title", "source_title", "author", "voice", "text", "score"}


def test_search_json_shape(cli, corpus_settings):
    code, out, err = cli("search", "Who holds the veto?", "-k", "3", "--json", store=corpus_settings.store)
    assert code == 0, err
    rows = json.loads(out)
    assert [r["rank"] for r in rows] == [1, 2, 3]
    for row in rows:
        assert set(PASSAGE_FIELDS) <= set(row)
        assert isinstance(row["score"], float) and row["text"]


def test_ask_json_contractor_strategic_partner(cli, corpus_settings):
    code, out, err = cli("ask", "Can a contractor be a strategic partner?", "--json", store=corpus_settings.store)
    assert code == 0, err
    data = json.loads(out)
    assert {"question", "answer", "mode", "verdict", "citations"} <= set(data)
    assert data["mode"] == "rules" and data["verdict"] == "yes-with-nuance"
    assert data["citations"] and all(CITATION_FIELDS <= set(c) for c in data["citations"])
    assert any(c["doc_path"].startswith("corpus/totus/") for c in data["citations"])
    markers = {int(m) for m in __import__("re").findall(r"\[(\d+)\]", data["answer"])}
    assert markers == {c["marker"] for c in data["citations"]}


def test_ask_text_output_lists_sources(cli, corpus_settings):
    code, out, _ = cli("ask", "Wie heeft de eindverantwoordelijkheid?", store=corpus_settings.store)
    assert code == 0
    assert "opdrachtgever" in out.lower() and "[1]" in out and "mode: rules" in out


def test_missing_store_is_ingested_first_and_said(cli, tmp_path):
    store = tmp_path / "new-store"
    code, out, err = cli("search", "What is an OLA?", "-k", "1", "--json", store=store)
    assert code == 0
    assert "ingesting the built-in corpus first" in err
    assert (store / "chroma.sqlite3").exists() and json.loads(out)[0]["text"]


@pytest.mark.parametrize("args,message", [
    (["ask", "   "], "question is empty"),
    (["ask", "Who?", "--mode", "banana"], "Unknown mode 'banana'"),
    (["ask", "Who?", "--mode", "llm"], "needs OPENAI_API_KEY"),
    (["ingest", "no/such/file.md"], "No such file or folder"),
])
def test_errors_are_one_line(cli, corpus_settings, args, message):
    code, out, err = cli(*args, store=corpus_settings.store)
    assert code != 0
    assert message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_unknown_file_type_is_reported(cli, corpus_settings, tmp_path):
    odd = tmp_path / "sheet.xyz"
    odd.write_text("data")
    code, out, err = cli("ingest", str(odd), store=tmp_path / "s2")
    assert code == 1 and "Unsupported file type '.xyz'" in err


@pytest.mark.slow
def test_errors_have_no_traceback_in_a_real_process(tmp_path):
    """Run the installed console script: bad hash and unwritable store give one line, exit 1."""
    exe = Path(sys.executable).with_name("partnerbot")
    env = {**os.environ, "PARTNERBOT_EMBED_SHA256": "f" * 64, "PARTNERBOT_STORE": str(tmp_path / "s")}
    bad_hash = subprocess.run([str(exe), "search", "client"], env=env, capture_output=True, text=True, timeout=120)
    assert bad_hash.returncode == 1
    assert "hash mismatch" in bad_hash.stderr and "Traceback" not in bad_hash.stderr
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    env = {**os.environ, "PARTNERBOT_STORE": str(blocker / "store")}
    unwritable = subprocess.run([str(exe), "search", "client"], env=env, capture_output=True, text=True, timeout=120)
    assert unwritable.returncode == 1
    assert "--store" in unwritable.stderr and "Traceback" not in unwritable.stderr


def test_every_command_is_documented_in_readme():
    from typer.main import get_command

    from partnerbot.cli import app

    readme = (PROJECT_ROOT / "README.md").read_text()
    commands = sorted(get_command(app).commands)
    assert commands
    for name in commands:
        assert f"partnerbot {name}" in readme, f"README does not mention `partnerbot {name}`"
        assert get_command(app).commands[name].help, f"`{name}` has no --help text"


def test_readme_opens_with_the_two_commands():
    lines = [l for l in (PROJECT_ROOT / "README.md").read_text().splitlines() if l.strip()]
    block = lines[lines.index("```bash") + 1: lines.index("```bash") + 3]
    assert block[0].startswith("make run") and block[1].startswith("make test")
    ci = (PROJECT_ROOT / ".ci" / "run").read_text()
    assert "make test" in ci
