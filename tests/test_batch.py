"""Batch answering: every input and output format, stable ids, resume after a clean stop, a Ctrl-C and a kill -9,
bad rows, missing columns, files that are not workbooks, bounded concurrency, and `search --questions`."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from partnerbot.batch import FLAT_COLUMNS, JOURNAL_SUFFIX, read_questions, read_records, run_batch
from partnerbot.errors import InputError
from partnerbot.rules import RulesAnswerer
from partnerbot.settings import PROJECT_ROOT

QUESTIONS = [
    "Can a contractor be a strategic partner?",
    "Who holds final responsibility, the client or the contractor?",
    "Wat is het verschil tussen een klant en een opdrachtgever?",
    "What is the weather in Paris tomorrow?",
]


def write_questions(path: Path, questions: list[str], ids: list[str] | None = None) -> Path:
    """The same questions in the format path's extension asks for."""
    kind = path.suffix.lower()
    ids = ids or [""] * len(questions)
    if kind == ".txt":
        path.write_text("\n".join(questions) + "\n", encoding="utf-8")
    elif kind == ".jsonl":
        path.write_text("".join(json.dumps({"question": q, **({"id": i} if i else {})}) + "\n"
                                for q, i in zip(questions, ids)), encoding="utf-8")
    elif kind == ".csv":
        with open(path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["id", "question"])
            writer.writerows(zip(ids, questions))
    elif kind == ".xlsx":
        book = Workbook()
        book.active.append(["Question", "ID"])
        for q, i in zip(questions, ids):
            book.active.append([q, i or None])
        book.save(path)
    return path


def batch(cli, store, *args):
    return cli("batch", *map(str, args), store=store)


@pytest.fixture
def calls(monkeypatch):
    """Count the questions the rules answerer really computes (it still answers them)."""
    seen: list[str] = []
    original = RulesAnswerer.answer

    def counting(self, question, history=()):
        seen.append(question)
        return original(self, question, history)

    monkeypatch.setattr(RulesAnswerer, "answer", counting)
    return seen


# --- reading ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("ext", [".txt", ".jsonl", ".csv", ".xlsx"])
def test_every_input_format_gives_the_same_rows_with_stable_ids(tmp_path, ext):
    path = write_questions(tmp_path / f"q{ext}", QUESTIONS)
    rows, problems = read_questions(path)
    assert problems == []
    assert [r["question"] for r in rows] == QUESTIONS
    # Row numbers: a line for txt/jsonl, a spreadsheet row (the header is row 1) for csv/xlsx.
    first = 2 if ext in (".csv", ".xlsx") else 1
    assert [r["id"] for r in rows] == [str(n) for n in range(first, first + len(QUESTIONS))]
    assert read_questions(path)[0] == rows  # stable across reads

    given = write_questions(tmp_path / f"ids{ext}", QUESTIONS, ["q-a", "", "q-c", "7"]) if ext != ".txt" else None
    if given:
        ids = [r["id"] for r in read_questions(given)[0]]
        assert ids == ["q-a", str(first + 1), "q-c", "7"]


def test_csv_delimiter_comes_from_the_header_and_commas_inside_questions_survive(tmp_path):
    semi = tmp_path / "nl.csv"
    semi.write_text("id;vraag\n1;Wie is de opdrachtgever, en wie de opdrachtnemer?\n", encoding="utf-8-sig")
    assert read_questions(semi)[0] == [{"id": "1", "question": "Wie is de opdrachtgever, en wie de opdrachtnemer?"}]
    single = tmp_path / "single.csv"
    single.write_text("question\nCan a contractor, really, be a strategic partner?\n", encoding="utf-8")
    assert read_questions(single)[0][0]["question"] == "Can a contractor, really, be a strategic partner?"


def test_bad_rows_are_reported_with_their_row_number_and_skipped(tmp_path):
    path = tmp_path / "q.csv"
    raw = ("id,question\n"
           "a,Can a contractor be a strategic partner?\n"
           "b,\n"
           f"c,{'why ' * 600}\n"
           "d,Is a supplier a partner?\n"
           "a,Duplicate id here?\n").encode() + b"e,Wat is een caf\xe9?\n" + b"f,Who is accountable?\n"
    path.write_bytes(raw)
    rows, problems = read_questions(path)
    assert [r["id"] for r in rows] == ["a", "d", "f"]
    assert [p.split(":")[0] for p in problems] == ["row 3", "row 4", "row 6", "row 7"]
    assert "empty" in problems[0] and "2399 characters" in problems[1] and "PARTNERBOT_MAX_QUESTION_CHARS" in problems[1]
    assert "duplicate id 'a'" in problems[2] and "UTF-8" in problems[3]

    txt = tmp_path / "q.txt"
    txt.write_bytes(b"Is a client a customer?\n\n\xff\xfeoops\x81?\nWho decides?\n")
    rows, problems = read_questions(txt)
    assert [r["id"] for r in rows] == ["1", "4"] and problems == ["row 3: undecodable bytes (not UTF-8); re-save the file as UTF-8"]

    jsonl = tmp_path / "q.jsonl"
    jsonl.write_text('{"question": "Is a client a customer?"}\n{not json\n["a list"]\n{"q": "x"}\n{"question": ""}\n')
    rows, problems = read_questions(jsonl)
    assert [r["id"] for r in rows] == ["1"]
    assert [p.split(":")[0] for p in problems] == ["row 2", "row 3", "row 4", "row 5"]


def test_missing_question_column_names_the_columns_found(tmp_path, cli, corpus_settings):
    path = tmp_path / "q.csv"
    path.write_text("ID,Text,Remarks\n1,Who is accountable?,none\n")
    with pytest.raises(InputError, match=r"no 'question' column \(found: 'ID', 'Text', 'Remarks'\)"):
        read_questions(path)
    book = Workbook()
    book.active.append(["nr", "vragen"])
    book.save(tmp_path / "q.xlsx")
    with pytest.raises(InputError, match=r"found: 'nr', 'vragen'"):
        read_questions(tmp_path / "q.xlsx")
    (tmp_path / "q.jsonl").write_text('{"text": "Who?", "nr": 1}\n')
    with pytest.raises(InputError, match=r"found: nr, text"):
        read_questions(tmp_path / "q.jsonl")
    code, out, err = batch(cli, corpus_settings.store, path)
    assert code == 1 and err.strip().count("\n") == 0 and err.startswith("error: q.csv has no 'question' column")
    assert "Traceback" not in err


def test_a_file_that_is_not_a_workbook_is_refused_clearly(tmp_path, cli, corpus_settings):
    fake = tmp_path / "q.xlsx"
    fake.write_text("question\nWho is accountable?\n")
    with pytest.raises(InputError, match="not a readable Excel workbook"):
        read_questions(fake)
    code, _out, err = batch(cli, corpus_settings.store, fake)
    assert code == 1 and "not a readable Excel workbook" in err and "Traceback" not in err
    code, _out, err = batch(cli, corpus_settings.store, tmp_path / "q.docx")
    assert code == 1 and "Cannot read questions from '.docx'" in err


# --- writing ---------------------------------------------------------------------------------------------

def test_every_output_format_holds_the_ask_json_fields(tmp_path, cli, corpus_settings, rules):
    source = write_questions(tmp_path / "q.csv", QUESTIONS + ["=1+1 is a formula, not a question?"],
                             ["a", "b", "c", "d", "e"])
    expected = {i: {"id": i, **rules.answer(q).to_dict(q)}
                for i, q in zip("abcde", QUESTIONS + ["=1+1 is a formula, not a question?"])}

    code, _out, err = batch(cli, corpus_settings.store, source, "-o", tmp_path / "a.jsonl")
    assert code == 0, err
    assert "5 answered (2 refused), 0 failed" in err
    records = [json.loads(line) for line in (tmp_path / "a.jsonl").read_text().splitlines()]
    assert records == list(expected.values())  # same fields and values as `ask --json`, plus id, input order

    code, _out, err = batch(cli, corpus_settings.store, source, "-o", tmp_path / "a.csv")
    assert code == 0, err
    text = (tmp_path / "a.csv").read_bytes()
    assert text.startswith(b"\xef\xbb\xbf")  # Excel needs the BOM to read UTF-8
    rows = list(csv.DictReader(io.StringIO(text.decode("utf-8-sig"), newline="")))
    assert [r["id"] for r in rows] == list("abcde") and tuple(rows[0]) == FLAT_COLUMNS
    first = expected["a"]
    assert rows[0]["answer"] == first["answer"] and rows[0]["verdict"] == first["verdict"]
    assert rows[0]["sources"].splitlines()[0].startswith(f"[1] {first['citations'][0]['title']} — ")
    assert rows[0]["cited_doc_ids"].split("; ")[0] == first["citations"][0]["doc_id"]
    assert rows[3]["refused"] == "true" and rows[3]["sources"] == ""
    assert rows[4]["question"].startswith("'=1+1")  # not run as a formula

    code, _out, err = batch(cli, corpus_settings.store, source, "-o", tmp_path / "a.xlsx")
    assert code == 0, err
    sheet = load_workbook(tmp_path / "a.xlsx").active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == FLAT_COLUMNS and [v[0] for v in values[1:]] == list("abcde")
    assert values[1][2] == first["answer"] and values[1][7] == rows[0]["sources"]
    assert sheet["B6"].data_type == "s" and sheet["B6"].value.startswith("=1+1")

    code, _out, err = batch(cli, corpus_settings.store, source, "--format", "md", "-o", tmp_path / "handout.txt")
    assert code == 0, err
    md = (tmp_path / "handout.txt").read_text()
    assert md.startswith("# Answers: q.csv")
    assert md.index("## a. Can a contractor") < md.index("## b. Who holds") < md.index("## d. What is the weather")
    block_a = md[md.index("## a."):md.index("## b.")]
    assert first["answer"] in block_a and "**Sources**" in block_a
    assert all(f"`{c['doc_path']}`" in block_a for c in first["citations"])
    block_d = md[md.index("## d."):md.index("## e.")]
    assert "**Sources**" not in block_d and "do not cover" in block_d


def test_default_output_sits_next_to_the_input(tmp_path, cli, corpus_settings):
    source = write_questions(tmp_path / "list.txt", QUESTIONS[:1])
    code, _out, err = batch(cli, corpus_settings.store, source)
    assert code == 0, err
    assert len(read_records(tmp_path / "list.answers.jsonl")) == 1
    sheet = write_questions(tmp_path / "sheet.xlsx", QUESTIONS[:1])
    assert batch(cli, corpus_settings.store, sheet)[0] == 0
    assert load_workbook(tmp_path / "sheet.answers.xlsx").active["A2"].value == "2"
    code, _out, err = batch(cli, corpus_settings.store, source, "-o", tmp_path / "out.docx")
    assert code == 1 and "Cannot tell the output format" in err
    code, _out, err = batch(cli, corpus_settings.store, source, "-o", source, "--format", "jsonl")
    assert code == 1 and "is the input file" in err


def test_an_existing_foreign_file_is_not_overwritten(tmp_path, cli, corpus_settings):
    source = write_questions(tmp_path / "q.txt", QUESTIONS[:1])
    precious = tmp_path / "notes.csv"
    precious.write_text("name,phone\nann,123\n")
    code, _out, err = batch(cli, corpus_settings.store, source, "-o", precious)
    assert code == 1 and "not a partnerbot batch output" in err
    assert precious.read_text() == "name,phone\nann,123\n"


# --- resuming --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("ext", ["jsonl", "csv", "md", "xlsx"])
def test_a_second_run_recomputes_nothing(tmp_path, cli, corpus_settings, calls, ext):
    source = write_questions(tmp_path / "q.txt", QUESTIONS)
    out = tmp_path / f"a.{ext}"
    assert batch(cli, corpus_settings.store, source, "-o", out)[0] == 0
    assert len(calls) == len(QUESTIONS) and not Path(f"{out}{JOURNAL_SUFFIX}").exists()
    before = out.read_bytes()
    code, _out, err = batch(cli, corpus_settings.store, source, "-o", out)
    assert code == 0 and len(calls) == len(QUESTIONS)
    assert f"0 answered (0 refused), 0 failed, {len(QUESTIONS)} already answered" in err
    assert out.read_bytes() == before

    # One more question and one edited question: only those two are answered, the rest kept, in input order.
    changed = QUESTIONS[:2] + ["Is a supplier the same as a contractor?"] + QUESTIONS[3:] + ["Who is a partner?"]
    write_questions(source, changed)
    assert batch(cli, corpus_settings.store, source, "-o", out)[0] == 0
    assert calls[len(QUESTIONS):] == [changed[2], changed[4]]
    if ext == "jsonl":
        assert [r["question"] for r in read_records(out)] == changed


def test_a_torn_jsonl_output_only_gets_its_missing_records(tmp_path, cli, corpus_settings, calls):
    source = write_questions(tmp_path / "q.txt", QUESTIONS)
    out = tmp_path / "a.jsonl"
    assert batch(cli, corpus_settings.store, source, "-o", out)[0] == 0
    lines = out.read_text().splitlines(keepends=True)
    # Lose record 2 entirely and half of record 4 (a crash in the middle of a write).
    out.write_text(lines[0] + lines[2] + lines[3][: len(lines[3]) // 2])
    calls.clear()
    code, _out, err = batch(cli, corpus_settings.store, source, "-o", out)
    assert code == 0, err
    assert sorted(calls) == sorted([QUESTIONS[1], QUESTIONS[3]])
    records = read_records(out, strict=True)
    assert [r["id"] for r in records] == ["1", "2", "3", "4"] and records[0] == json.loads(lines[0])


def test_a_partial_journal_is_the_source_of_truth_for_other_formats(tmp_path, cli, corpus_settings, calls, rules):
    source = write_questions(tmp_path / "q.txt", QUESTIONS)
    out = tmp_path / "a.xlsx"
    journal = Path(f"{out}{JOURNAL_SUFFIX}")
    done = {"id": "3", **rules.answer(QUESTIONS[2]).to_dict(QUESTIONS[2])}
    journal.write_text(json.dumps(done) + "\n" + '{"id": "1", "quest')  # died while writing record 1
    calls.clear()
    code, _out, err = batch(cli, corpus_settings.store, source, "-o", out)
    assert code == 0, err
    assert sorted(calls) == sorted([QUESTIONS[0], QUESTIONS[1], QUESTIONS[3]])
    values = list(load_workbook(out).active.iter_rows(values_only=True))
    assert [v[0] for v in values[1:]] == ["1", "2", "3", "4"] and values[3][2] == done["answer"]
    assert not journal.exists()


def test_ctrl_c_keeps_what_was_answered_and_the_rerun_completes(tmp_path, corpus_settings, rules):
    source = write_questions(tmp_path / "q.txt", QUESTIONS)
    out = tmp_path / "a.csv"

    class Interrupting:
        mode = "rules"
        count = 0

        def answer(self, question, history=()):
            self.count += 1
            if self.count == 3:
                raise KeyboardInterrupt
            return rules.answer(question, history)

    report = run_batch(corpus_settings, source, out, progress=False, answerer=Interrupting())
    assert report.interrupted and report.answered == 2 and "re-run the same command" in report.summary()
    assert [r["id"] for r in csv.DictReader(io.StringIO(out.read_text("utf-8-sig")))] == ["1", "2"]
    again = run_batch(corpus_settings, source, out, progress=False, answerer=rules)
    assert (again.answered, again.already, again.interrupted) == (2, 2, False)
    assert [r["id"] for r in csv.DictReader(io.StringIO(out.read_text("utf-8-sig")))] == ["1", "2", "3", "4"]


def _wait_for_lines(path: Path, n: int, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_bytes().count(b"\n") >= n:
            return
        if proc.poll() is not None:
            pytest.fail(f"batch exited early ({proc.returncode}): {proc.stderr.read().decode()[-500:]}")
        time.sleep(0.05)
    proc.kill()
    pytest.fail(f"no {n} records in {path} within {timeout}s")


@pytest.mark.slow
@pytest.mark.parametrize("ext", ["jsonl", "xlsx"])
def test_kill_9_mid_run_then_resume_completes_without_duplicates(tmp_path, cli, corpus_settings, ext):
    questions = [f"{QUESTIONS[i % 3]} (variant {i})" for i in range(150)]
    source = write_questions(tmp_path / "q.txt", questions)
    out = tmp_path / f"a.{ext}"
    journal = out if ext == "jsonl" else Path(f"{out}{JOURNAL_SUFFIX}")
    env = {**os.environ, "PARTNERBOT_STORE": str(corpus_settings.store), "PYTHONPATH": str(PROJECT_ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "partnerbot.cli", "batch", str(source), "-o", str(out),
                             "--mode", "rules"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _wait_for_lines(journal, 5, proc, timeout=240)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    survived = read_records(journal)
    assert 5 <= len(survived) < len(questions)  # killed mid-run, and what was answered is on disk
    if ext == "xlsx" and out.exists():
        load_workbook(out)  # the periodic rewrite is atomic: whatever is there is a valid workbook

    code, _out, err = batch(cli, corpus_settings.store, source, "-o", out)
    assert code == 0, err
    assert f"{len(questions) - len(survived)} answered" in err and f"{len(survived)} already answered" in err
    if ext == "jsonl":
        ids = [r["id"] for r in read_records(out, strict=True)]
    else:
        ids = [row[0] for row in list(load_workbook(out).active.iter_rows(values_only=True))[1:]]
        assert not journal.exists()
    assert ids == [str(n) for n in range(1, len(questions) + 1)]  # complete, no duplicates, input order


# --- concurrency -----------------------------------------------------------------------------------------

def test_llm_mode_runs_a_bounded_number_of_questions_at_once_and_keeps_input_order(tmp_path, corpus_settings, rules):
    """A slow remote answerer: several questions in flight (never more than batch_concurrency), output in order."""
    settings = corpus_settings.model_copy(update={"batch_concurrency": 3})

    class SlowRemote:
        mode = "llm"

        def __init__(self):
            self.lock = threading.Lock()
            self.active = self.peak = 0

        def answer(self, question, history=()):
            with self.lock:
                self.active += 1
                self.peak = max(self.peak, self.active)
            time.sleep(0.05 if "variant 0" in question else 0.01)  # the first finishes last
            with self.lock:
                self.active -= 1
            return rules.answer(question, history)

    questions = [f"{QUESTIONS[0]} (variant {i})" for i in range(9)]
    remote = SlowRemote()
    report = run_batch(settings, write_questions(tmp_path / "q.txt", questions), tmp_path / "a.jsonl",
                       progress=False, answerer=remote)
    assert report.answered == 9 and 1 < remote.peak <= 3
    assert [r["question"] for r in read_records(tmp_path / "a.jsonl")] == questions


# --- search --questions ----------------------------------------------------------------------------------

def test_search_questions_prints_one_json_line_per_question(tmp_path, cli, corpus_settings):
    source = tmp_path / "q.jsonl"
    source.write_text('{"id": "x1", "question": "Who holds final responsibility?"}\n{"question": ""}\n'
                      '{"id": "x2", "question": "Wat is een strategische partner?"}\n')
    code, out, err = cli("search", "--questions", str(source), "-k", "3", store=corpus_settings.store)
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(r["id"], r["question"]) for r in lines] == [("x1", "Who holds final responsibility?"),
                                                         ("x2", "Wat is een strategische partner?")]
    assert all(len(r["passages"]) == 3 and {"rank", "chunk_id", "doc_path", "text"} <= set(r["passages"][0])
               for r in lines)
    assert "skipped: row 2:" in err
