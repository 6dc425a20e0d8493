"""`partnerbot eval`: partnerbot and the naive LangChain baseline scored side by side on the same questions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from partnerbot.baseline import NaiveBaseline, evaluate
from partnerbot.store import open_store

SMALL_SET = [
    {"id": "s-accountable", "question": "Who holds final responsibility, the client or the contractor?",
     "language": "en", "kind": "in_scope", "expected_sources": ["totus/author-conclusion"],
     "required": ["client"], "forbidden": [], "verdict": "client"},
    {"id": "s-kraljic", "question": "What are the four quadrants of the Kraljic purchasing matrix?",
     "language": "en", "kind": "in_scope", "expected_sources": ["literature/kraljic-1983"],
     "required": [["leverage", "strategic"]], "forbidden": []},
    {"id": "s-weather", "question": "What will the weather be in Amsterdam tomorrow?", "language": "en",
     "kind": "out_of_scope", "expected_sources": [], "required": [], "forbidden": []},
]


def _write(path: Path, items: list[dict]) -> Path:
    path.write_text(yaml.safe_dump(items, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_eval_prints_both_systems_side_by_side(tmp_path, cli, corpus_settings):
    questions = _write(tmp_path / "small.yaml", SMALL_SET)
    code, out, err = cli("eval", str(questions), store=corpus_settings.store)
    assert code == 0, err
    header = next(line for line in out.splitlines() if line.startswith("metric"))
    assert header.split() == ["metric", "partnerbot", "baseline"]
    for metric in ("hit@5", "MRR", "nDCG@10", "answers passing"):
        assert any(line.startswith(metric) for line in out.splitlines()), metric
    assert "3 eval questions over the corpus" in out and "RecursiveCharacterTextSplitter(500/50)" in out

    code, out, err = cli("eval", str(questions), "--json", "-k", "3", store=corpus_settings.store)
    assert code == 0, err
    result = json.loads(out)
    ours, base = result["systems"]["partnerbot"], result["systems"]["baseline"]
    assert result["k"] == 3 and result["items"] == 3
    assert ours["retrieval"]["n"] == base["retrieval"]["n"] == 2  # the out-of-scope item has no sources to find
    assert ours["answers"]["n"] == base["answers"]["n"] == 3
    # The extractive baseline never refuses; partnerbot does, for the weather.
    base_failed = {f["id"]: f["reasons"] for f in base["answers"]["failures"]}
    assert "not refused" in base_failed["s-weather"]
    assert "s-weather" not in {f["id"] for f in ours["answers"]["failures"]}
    assert ours["mode"] == "rules" and base["chunks"] > 100


@pytest.mark.slow
def test_partnerbot_retrieves_at_least_as_well_as_the_baseline_on_the_project_eval_set(corpus_settings):
    result = evaluate(corpus_settings, k=5)
    ours, base = result["systems"]["partnerbot"], result["systems"]["baseline"]
    assert result["items"] >= 100 and ours["retrieval"]["n"] == base["retrieval"]["n"] > 80
    assert ours["retrieval"]["hit_at_k"] >= base["retrieval"]["hit_at_k"]
    assert ours["answers"]["score"] >= base["answers"]["score"]


def test_eval_over_your_own_documents(tmp_path, cli, corpus_settings):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "beekeeping.md").write_text(
        "# Beekeeping\n\nWorker bees turn flower nectar into honey by evaporating water from it in the hive. "
        "A colony needs a queen, workers and drones; the beekeeper inspects the frames every week in spring.\n")
    (docs / "sailing.txt").write_text(
        "Sailing close to the wind means steering as near to the wind direction as the sails allow. Tacking "
        "turns the bow through the wind so the boat can zigzag upwind.\n")
    (docs / "sourdough.md").write_text(
        "# Sourdough\n\nA sourdough starter is flour and water fermented by wild yeast and lactic acid bacteria. "
        "Feed it daily; the dough rises slowly and the bread tastes sour.\n")
    (docs / "broken.pdf").write_bytes(b"not a pdf at all")
    items = [
        {"id": "d-honey", "question": "How do bees make honey?", "language": "en", "kind": "in_scope",
         "expected_sources": ["beekeeping.md"], "required": ["nectar"], "forbidden": []},
        {"id": "d-upwind", "question": "How does a sailing boat go upwind?", "language": "en", "kind": "in_scope",
         "expected_sources": ["sailing.txt"], "required": [["tacking", "zigzag"]], "forbidden": []},
        {"id": "d-starter", "question": "What is a sourdough starter made of?", "language": "en",
         "kind": "in_scope", "expected_sources": ["sourdough"], "required": ["flour"], "forbidden": []},
    ]
    questions = _write(tmp_path / "mine.yaml", items)
    before = open_store(corpus_settings).collection.count()

    code, out, err = cli("eval", str(questions), "--docs", str(docs), "-k", "1", "--json", store=corpus_settings.store)
    assert code == 0, err
    result = json.loads(out)
    assert result["files"] == 3 and result["documents"] == [str(docs)]  # the unreadable pdf is skipped by both
    for name in ("partnerbot", "baseline"):
        retrieval = result["systems"][name]["retrieval"]
        assert (retrieval["n"], retrieval["hit_at_k"], retrieval["misses"]) == (3, 1.0, []), name
    assert result["systems"]["baseline"]["chunks"] == 3
    assert open_store(corpus_settings).collection.count() == before  # the user's store is untouched

    code, _out, err = cli("eval", str(questions), "--docs", str(tmp_path / "missing"), store=corpus_settings.store)
    assert code == 1 and "No such file or folder" in err and "Traceback" not in err


def test_a_broken_eval_file_is_one_clear_error(tmp_path, cli, corpus_settings):
    bad = tmp_path / "bad.yaml"
    bad.write_text("- id: x\n  question: Who?\n  language: fr\n  kind: in_scope\n")
    code, _out, err = cli("eval", str(bad), store=corpus_settings.store)
    assert code == 1 and err.startswith("error: ") and "language must be one of" in err


def test_the_baseline_is_dense_only_over_fixed_size_chunks(tmp_path, corpus_settings):
    doc = tmp_path / "long.md"
    doc.write_text("---\ntitle: Front matter that must not be indexed\n---\n" + "Alpha beta gamma delta. " * 100)
    baseline = NaiveBaseline.from_files(corpus_settings, [(doc, "long")])
    try:
        passages = baseline.search("alpha beta", 10)
        assert baseline.chunks == len(passages) >= 5
        assert all(len(p.text) <= 500 for p in passages) and not any("Front matter" in p.text for p in passages)
        answer = baseline.answer("alpha beta")
        assert len(answer.citations) == 3 and answer.text.endswith("[3]") and not answer.refused
    finally:
        baseline.close()
