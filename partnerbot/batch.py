"""Batch answering: a file of questions in (csv, xlsx, txt, jsonl), one answer record per question out
(jsonl, csv, md, xlsx), in input order.

Resumable and crash-safe: a JSONL output is its own journal (append + flush + fsync per record); the other
formats keep a sidecar journal OUTPUT.partial.jsonl and are rewritten from it atomically (temp file +
os.replace) as records arrive and at the end. A re-run skips ids already answered with the same question, so
an interrupt (Ctrl-C, kill -9) loses at most the questions in flight, never the file.
"""

from __future__ import annotations

import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from .batchio import (  # noqa: F401  (FLAT_COLUMNS, JOURNAL_SUFFIX, read_*: re-exported)
    FLAT_COLUMNS, FORMATS, INPUT_KINDS, JOURNAL_SUFFIX, OUTPUT_KINDS, OUTPUTS, Journal, read_questions, read_records,
)
from .errors import InputError, PartnerbotError
from .settings import Settings

REWRITE_SECONDS = 1.0        # journaled formats: rewrite the output at most this often while running, and
REWRITE_SHARE = 0.1          # spend at most this share of the time rewriting (a big workbook takes a while)


# --- running -----------------------------------------------------------------------------------------------

@dataclass
class BatchReport:
    output: Path
    total: int = 0
    answered: int = 0
    refused: int = 0
    already: int = 0
    failed: list[str] = field(default_factory=list)
    bad_rows: list[str] = field(default_factory=list)
    seconds: float = 0.0          # the whole run, model loading included
    answer_seconds: float = 0.0   # answering only
    interrupted: bool = False

    def summary(self) -> str:
        rate = (f" ({self.answered / self.answer_seconds:.1f} questions/s while answering)"
                if self.answered and self.answer_seconds else "")
        text = (f"{self.answered} answered ({self.refused} refused), {len(self.failed)} failed, "
                f"{self.already} already answered, {len(self.bad_rows)} bad rows skipped in {self.seconds:.1f}s"
                f"{rate}; output {self.output}")
        return ("interrupted: re-run the same command to resume. " if self.interrupted else "") + text


def resolve_output(source: Path, output: Path | None, fmt: str | None) -> tuple[Path, str]:
    """Output path and format: --format wins, else the output's extension; csv/xlsx input default to their own
    kind, anything else to jsonl; the default output sits next to the input as NAME.answers.EXT."""
    if fmt is not None and fmt not in FORMATS:
        raise InputError(f"Unknown format '{fmt}': choose one of {', '.join(FORMATS)}.")
    if output is not None:
        fmt = fmt or OUTPUT_KINDS.get(output.suffix.lower())
        if fmt is None:
            raise InputError(f"Cannot tell the output format from '{output.name}': use an extension "
                             f"({', '.join(OUTPUT_KINDS)}) or --format {'|'.join(FORMATS)}.")
    else:
        kind = INPUT_KINDS.get(source.suffix.lower())
        fmt = fmt or (kind if kind in ("csv", "xlsx") else "jsonl")
        output = source.with_name(f"{source.stem}.answers.{fmt}")
    if output.resolve() == source.resolve():
        raise InputError(f"The output {output} is the input file: choose another -o OUTPUT.")
    return output, fmt


def _answer_all(answerer, rows: list[dict], workers: int) -> Iterator[tuple[dict, object]]:
    """(row, Answer or exception) as they complete; at most `workers` questions in flight."""
    def one(row):
        try:
            return answerer.answer(row["question"])
        except PartnerbotError as exc:
            return exc
        except Exception as exc:  # one broken question must not end the batch
            return PartnerbotError(f"{type(exc).__name__}: {exc}")

    if workers <= 1:
        for row in rows:
            yield row, one(row)
        return
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="batch")
    pending = {}
    queue = iter(rows)
    try:
        for row in queue:
            pending[pool.submit(one, row)] = row
            if len(pending) >= workers:
                break
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                row = pending.pop(future)
                for nxt in queue:
                    pending[pool.submit(one, nxt)] = nxt
                    break
                yield row, future.result()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _progress(total: int, enabled: bool):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, \
        TimeRemainingColumn

    return Progress(TextColumn("answering"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TimeRemainingColumn(), console=Console(stderr=True), disable=not enabled or total == 0)


def run_batch(settings: Settings, source: Path, output: Path | None = None, fmt: str | None = None,
              mode: str | None = None, progress: bool = True, answerer=None,
              on_problem: Callable[[str], None] | None = None) -> BatchReport:
    """Answer every question of `source` into `output`; see the module docstring for the resume contract."""
    started = time.perf_counter()
    note = on_problem or (lambda _line: None)
    source = Path(source)
    rows, problems = read_questions(source, settings)
    output, fmt = resolve_output(source, output, fmt)
    report = BatchReport(output=output, total=len(rows), bad_rows=problems)
    for problem in problems:
        note(f"skipped {problem}")
    sink = OUTPUTS[fmt](output, title=source.name)
    journal = Journal(output if fmt == "jsonl" else Path(str(output) + JOURNAL_SUFFIX))

    units = sink.existing()  # id -> (question, unit), from an earlier run
    journaled = read_records(journal.path) if fmt != "jsonl" else []
    units.update({r["id"]: (r.get("question", ""), sink.unit(r)) for r in journaled})
    todo = [r for r in rows if units.get(r["id"], (None,))[0] != r["question"]]
    report.already = len(rows) - len(todo)
    order = [r["id"] for r in rows]

    def render() -> None:
        known = set(order)
        ids = [i for i in order if i in units] + [i for i in units if i not in known]
        sink.write([units[i][1] for i in ids])

    if todo:
        if answerer is None:
            from .answer import get_answerer
            answerer = get_answerer(settings, mode)
        workers = settings.batch_concurrency if getattr(answerer, "mode", "rules") == "llm" else 1
        answering = time.monotonic()
        next_render = answering + REWRITE_SECONDS
        try:
            with _progress(len(todo), progress) as bar:
                task = bar.add_task("answering", total=len(todo))
                for row, result in _answer_all(answerer, todo, workers):
                    bar.advance(task)
                    if isinstance(result, Exception):
                        report.failed.append(f"id {row['id']}: {result}")
                        note(f"failed id {row['id']}: {result}")
                        continue
                    record = {"id": row["id"], **result.to_dict(row["question"])}
                    journal.append(record)
                    units[row["id"]] = (row["question"], sink.unit(record))
                    report.answered += 1
                    report.refused += bool(result.refused)
                    if fmt != "jsonl" and time.monotonic() >= next_render:
                        began = time.monotonic()
                        render()
                        took = time.monotonic() - began
                        next_render = began + took + max(REWRITE_SECONDS, took / REWRITE_SHARE)
        except KeyboardInterrupt:
            report.interrupted = True
        finally:
            journal.close()
            report.answer_seconds = time.monotonic() - answering
    if report.answered or journaled or not output.exists():
        render()  # the final file, in input order
    if fmt != "jsonl":
        journal.path.unlink(missing_ok=True)  # everything it held is in the output now
    report.seconds = time.perf_counter() - started
    return report
