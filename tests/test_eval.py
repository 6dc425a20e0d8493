"""The project eval (tests/evals/*.yaml): its loader and scorers, and the gate CI runs on the rules answerer.

The scores show in the summary of every `make test` run (see pytest_terminal_summary in conftest.py).
"""

from __future__ import annotations

import json
import math

import pytest

from partnerbot.answer import Answer, Citation
from partnerbot.errors import InputError
from partnerbot.evals import EvalItem, load_eval_set, score_answers, score_retrieval
from partnerbot.retrieval import Passage, get_retriever
from partnerbot.settings import PROJECT_ROOT

# Gates: what the rules answerer reaches, minus headroom for harmless drift (see the report in the commit log).
ANSWER_SCORE_MIN = 0.95
HIT_AT_5_MIN = 0.90
MRR_MIN = 0.80


def _item(**overrides) -> EvalItem:
    base = dict(id="x", question="Can a contractor be a strategic partner?", language="en", kind="in_scope",
                expected_sources=["totus/"], required=[["at the same time", "coexist"]], forbidden=["Heijmans built"])
    base.update(overrides)
    return EvalItem(**base)


def _citation(marker: int, doc_id: str) -> Citation:
    return Citation(marker=marker, chunk_id=f"c{marker}", doc_path=f"corpus/{doc_id}.md", title="t", source_title="s",
                    author="a", voice="author", text="...", score=1.0, doc_id=doc_id)


# --- the eval set itself ------------------------------------------------------------------------------------

def test_the_eval_set_is_large_bilingual_and_has_guards():
    items = load_eval_set()
    assert len(items) >= 80
    assert sum(i.language == "nl" for i in items) >= 15
    assert sum(i.kind in ("out_of_scope", "adversarial") for i in items) >= 10
    assert any("ignore" in i.question.lower() for i in items if i.kind == "adversarial")
    assert sum(bool(i.history) for i in items) >= 5
    notes = {p.relative_to(PROJECT_ROOT / "corpus").with_suffix("").as_posix()
             for p in (PROJECT_ROOT / "corpus").rglob("*.md") if p.name != "README.md"}
    for item in items:
        assert item.kind != "in_scope" or item.required or item.expected_sources or item.forbidden, item.id
        for source in item.expected_sources:
            assert any(n.startswith(source) for n in notes), f"{item.id}: no note matches {source}"


# --- loader -------------------------------------------------------------------------------------------------

def test_loader_reads_yaml_files_folders_and_jsonl(tmp_path):
    row = {"id": "a", "question": "What is a client?", "language": "en", "kind": "in_scope",
           "expected_sources": ["totus/"], "required": ["client", ["commission", "assignment"]], "forbidden": []}
    (tmp_path / "one.jsonl").write_text(json.dumps(row) + "\n\n" + json.dumps({**row, "id": "b"}) + "\n")
    (tmp_path / "two.yaml").write_text("items:\n  - {id: c, question: 'Why?', language: en, kind: out_of_scope}\n")
    items = load_eval_set(tmp_path)
    assert [i.id for i in items] == ["a", "b", "c"]
    assert items[0].required == ["client", ["commission", "assignment"]] and items[2].expected_sources == []
    assert [i.id for i in load_eval_set(tmp_path / "two.yaml")] == ["c"]


@pytest.mark.parametrize("content, message", [
    ("- id: a\n  question: q\n  language: en\n", "missing kind"),
    ("- {id: a, question: q, language: fr, kind: in_scope}\n", "language must be one of"),
    ("- {id: a, question: q, language: en, kind: maybe}\n", "kind must be one of"),
    ("- {id: a, question: q, language: en, kind: in_scope, verdict: no}\n", "quote the verdict"),
    ("- {id: a, question: q, language: en, kind: in_scope, required: [[]]}\n", "non-empty strings"),
    ("- {id: a, question: q, language: en, kind: in_scope}\n- {id: a, question: r, language: en, kind: in_scope}\n",
     "duplicate eval id"),
    ("- id: [unclosed\n", "not valid YAML"),
    ("just a string\n", "must hold a list"),
])
def test_loader_rejects_bad_files_with_one_line_messages(tmp_path, content, message):
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(InputError, match=message) as err:
        load_eval_set(path)
    assert "\n" not in str(err.value)


def test_loader_rejects_missing_paths_and_wrong_types(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_eval_set(tmp_path / "nope")
    with pytest.raises(InputError, match="No \\*.yaml"):
        load_eval_set(tmp_path)
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(InputError, match="not an eval file"):
        load_eval_set(tmp_path / "x.txt")
    (tmp_path / "bad.jsonl").write_text("{not json}\n")
    with pytest.raises(InputError, match="bad.jsonl:1 is not valid JSON"):
        load_eval_set(tmp_path / "bad.jsonl")


# --- scorers ------------------------------------------------------------------------------------------------

def _passage(doc_id: str) -> Passage:
    return Passage(rank=0, score=0.0, chunk_id=doc_id, doc_path=f"corpus/{doc_id}.md", title="", source_title="",
                   author="", voice="author", text="", doc_id=doc_id)


def test_retrieval_scores_hit_mrr_and_ndcg():
    ranked = {
        "q1": ["glick/clients", "totus/context", "totus/context"],          # hit at 1
        "q2": ["glick/a", "glick/b", "literature/x", "totus/author-conclusion"],  # hit at 4
        "q3": ["glick/a"] * 6 + ["totus/x"],                                 # first hit at 7: a miss at k=5
    }
    items = [_item(id="q1", question="q1", expected_sources=["glick/clients", "totus/"]),
             _item(id="q2", question="q2", expected_sources=["totus/author-conclusion"]),
             _item(id="q3", question="q3", expected_sources=["totus/"]),
             _item(id="oos", question="q4", kind="out_of_scope", expected_sources=[])]
    result = score_retrieval(lambda q: [_passage(d) for d in ranked[q]], items, k=5)
    assert result["n"] == 3 and result["misses"] == ["q3"]
    assert result["hit_at_k"] == pytest.approx(2 / 3, abs=1e-4)
    assert result["mrr"] == pytest.approx((1 + 1 / 4 + 1 / 7) / 3, abs=1e-4)
    # q1: both sources found at ranks 1 and 2 (ideal); q2: one source at rank 4; q3: one source at rank 7.
    expected = (1.0 + 1 / math.log2(5) + 1 / math.log2(8)) / 3
    assert result["ndcg_at_10"] == pytest.approx(expected, abs=1e-4)
    # Passages given as JSON dicts (the `search --json` contract) score the same way.
    as_dicts = score_retrieval(lambda q: [_passage(d).public() for d in ranked[q]], items, k=5)
    assert as_dicts == result


def test_answer_scoring_checks_every_rule():
    items = [
        _item(id="good"),
        _item(id="missing", required=["veto"]),
        _item(id="forbidden", forbidden=["strategic partner"]),
        _item(id="verdict", verdict="no"),
        _item(id="source", expected_sources=["glick/"]),
        _item(id="marker"),
        _item(id="language", language="nl"),
        _item(id="oos", kind="out_of_scope", expected_sources=[], required=[]),
        _item(id="adv-refused", kind="adversarial", expected_sources=["totus/"], required=[]),
        _item(id="adv-must-refuse", kind="adversarial", expected_sources=[], required=[]),
    ]
    text = "Yes: a contractor can at the same time be a strategic partner [1]."
    good = Answer(text=text, citations=[_citation(1, "totus/author-conclusion")], verdict="yes-with-nuance")
    refusal = Answer(text="The sources do not cover this.", refused=True)

    def answer(question, history):
        return {"marker": Answer(text=text + " More [2].", citations=good.citations, verdict="yes-with-nuance"),
                "refuse": refusal}.get(question, good)

    items[5].question = "marker"
    items[8].question = items[9].question = items[7].question = "refuse"
    result = score_answers(answer, items)
    reasons = {f["id"]: " ".join(f["reasons"]) for f in result["failures"]}
    assert set(reasons) == {"missing", "forbidden", "verdict", "source", "marker", "language"}
    assert "missing required 'veto'" in reasons["missing"] and "forbidden" in reasons["forbidden"]
    assert "verdict" in reasons["verdict"] and "none from ['glick/']" in reasons["source"]
    assert "markers without citation: [2]" in reasons["marker"] and "asked in 'nl'" in reasons["language"]
    assert result["n"] == 10 and result["passed"] == 4 and result["score"] == 0.4
    # An out-of-scope item that is answered fails; one that is refused passes.
    answered = score_answers(lambda q, h: good, [_item(id="oos", kind="out_of_scope", expected_sources=[], required=[])])
    assert answered["failures"][0]["reasons"][:2] == ["not refused", "a refusal must not cite passages"]


# --- the gate -----------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_rules_answerer_passes_the_project_eval(corpus_settings, rules, record_property):
    items = load_eval_set()
    retriever = get_retriever(corpus_settings)
    retrieval = score_retrieval(lambda q: retriever.search(q, 10).passages, items, k=5)
    answers = score_answers(rules.answer, items)
    record_property("eval_questions", answers["n"])
    record_property("eval_hit_at_5", retrieval["hit_at_k"])
    record_property("eval_mrr", retrieval["mrr"])
    record_property("eval_ndcg_at_10", retrieval["ndcg_at_10"])
    record_property("eval_retrieval_misses", ", ".join(retrieval["misses"]) or "none")
    record_property("eval_answer_score", f"{answers['score']} ({answers['passed']}/{answers['n']})")
    record_property("eval_answer_failures", ", ".join(f["id"] for f in answers["failures"]) or "none")
    failures = "\n".join(f"{f['id']}: {f['question']} -> {'; '.join(f['reasons'])}" for f in answers["failures"])
    assert answers["score"] >= ANSWER_SCORE_MIN, failures
    assert retrieval["hit_at_k"] >= HIT_AT_5_MIN and retrieval["mrr"] >= MRR_MIN, retrieval


UNSEEN = PROJECT_ROOT / "tests" / "evals" / "unseen"
# Floors per held-out file: what the rules answerer reaches, minus headroom for harmless drift. heldout2 was 15/24
# when written (21/24 after issue 13's second round, 23/24 after the third). fresh3 is the test set of issue 13
# (written blind; 26/56 before the question understanding and composed answers, 31/56 after the first round, 35/56
# after the second, 37/56 after the third, 42/56 after the fourth, 43/56 after the eighth and ninth, see the commit
# log): only its aggregate is ever looked at, never its per-question failures. dev6 and dev7 were written blind in the fourth round (27/48 and
# 34/48 before it); dev6's failures were studied, dev7's were not. dev8 and dev9 were written blind in the fifth
# round (31/48 and 36/48 before it); both were studied (dev9 from the start, dev8 after its first rise to 33/48).
# dev10 was written blind late in the fifth round, after most of its changes (29/48 when written), then studied.
# dev11 was written blind at the end of the fifth round and scored once (38/48): a check, its failures unseen.
# Seventh round: dev18, dev19, dev21 and scope1 (out-of-scope questions close to the domain) were written blind,
# then studied; dev20 and dev22 were written blind as checks (counts only). Each floor sits at least one question
# below the round's end score. Eighth round: dev23 written blind and studied, dev24 a check (counts only); ninth:
# dev25 studied, dev26 a check (26/48 when written). Answers no longer depend on question order (sentence vectors
# are embedded one by one), so a set scores the same alone or after others. Twelfth round: dev31 (real users:
# informal, typos, long context) written blind and studied (30/48 when written), dev32 (a lecturer's detail and
# comparison questions) a check (39/48 when written, counts only). Thirteenth round: dev33 (first-time users and
# students) a check (42/48 when written, counts only), dev34 (Dutch professionals) studied (39/48 when written),
# dev35 (yes/no questions, half answered no) studied (29/48 when written). Fourteenth round: dev36 (specific
# details and the question's focus) studied (41/48 when written), dev37 (Dutch users, situations, comparisons)
# studied (36/48 when written).
UNSEEN_FLOORS = {"heldout2.yaml": 0.90, "fresh3.yaml": 0.76, "dev4.yaml": 0.90, "dev5.yaml": 0.90, "dev6.yaml": 0.90,
                 "dev7.yaml": 0.91, "dev8.yaml": 0.97, "dev9.yaml": 0.90, "dev10.yaml": 0.85, "dev11.yaml": 0.83,
                 "dev12.yaml": 0.90, "dev13.yaml": 0.83, "dev14.yaml": 0.89, "dev15.yaml": 0.75,
                 "dev16.yaml": 0.85, "dev17.yaml": 0.89, "dev18.yaml": 0.85, "dev19.yaml": 0.89, "dev20.yaml": 0.70,
                 "dev21.yaml": 0.87, "dev22.yaml": 0.81, "dev23.yaml": 0.85, "dev24.yaml": 0.70,
                 "dev25.yaml": 0.83, "dev26.yaml": 0.66, "dev27.yaml": 0.81, "dev28.yaml": 0.77,
                 "dev29.yaml": 0.85, "dev30.yaml": 0.72, "dev31.yaml": 0.79, "dev32.yaml": 0.77,
                 "dev33.yaml": 0.85, "dev34.yaml": 0.91, "dev35.yaml": 0.66,
                 "dev36.yaml": 0.91, "dev37.yaml": 0.77,
                 "scope1.yaml": 0.93}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(UNSEEN_FLOORS))
def test_rules_answerer_on_the_unseen_questions(corpus_settings, rules, record_property, name):
    """Questions written by someone who had not seen the claims: a regression floor, not a target to tune for."""
    items = load_eval_set(UNSEEN / name)
    retriever = get_retriever(corpus_settings)
    retrieval = score_retrieval(lambda q: retriever.search(q, 10).passages, items, k=5)
    answers = score_answers(rules.answer, items)
    key = name.removesuffix(".yaml")
    record_property(f"eval_{key}_answer_score", f"{answers['score']} ({answers['passed']}/{answers['n']})")
    record_property(f"eval_{key}_hit_at_5", retrieval["hit_at_k"])
    assert len(items) >= 20 and not {i.id for i in items} & {i.id for i in load_eval_set()}
    # the score only: the failing ids of the test set stay unseen
    assert answers["score"] >= UNSEEN_FLOORS[name], f"{name}: {answers['passed']}/{answers['n']}"
    assert retrieval["hit_at_k"] >= HIT_AT_5_MIN, retrieval["hit_at_k"]
