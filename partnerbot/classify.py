"""`partnerbot classify --file`: place every described relationship of a file, resumably, in batch's formats.

Reading and writing are batch's (partnerbot.batchio: read_questions with column="description", the jsonl/csv/
md/xlsx outputs, the fsync'd journal); a placement record carries the fields those writers expect (the
description as `question`, the explanation as `answer`, the placement in `verdict`) next to its own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .batchio import FORMATS, INPUT_KINDS, JOURNAL_SUFFIX, OUTPUTS, Journal, read_questions, read_records
from .errors import InputError, PartnerbotError
from .settings import Settings

COLUMN = "description"


@dataclass
class ClassifyReport:
    output: Path
    total: int = 0
    placed: int = 0
    unplaced: int = 0
    already: int = 0
    failed: list[str] = field(default_factory=list)
    bad_rows: list[str] = field(default_factory=list)
    seconds: float = 0.0
    interrupted: bool = False

    def summary(self) -> str:
        text = (f"{self.placed + self.unplaced} classified ({self.unplaced} with too little to place), "
                f"{len(self.failed)} failed, {self.already} already classified, {len(self.bad_rows)} bad rows "
                f"skipped in {self.seconds:.1f}s; output {self.output}")
        return ("interrupted: re-run the same command to resume. " if self.interrupted else "") + text


def batch_record(row_id: str, record: dict) -> dict:
    """A classify record plus the fields batch's writers read (question, answer, verdict, notices...)."""
    roles = record["roles"]
    verdict = (f"stage: {record['stage'] or 'not placed'}; glick: {record['glick'] or 'not placed'}; "
               f"client: {roles['client'] or '?'}; contractor: {roles['contractor'] or '?'}; "
               f"final say: {record['final_say']}")
    return {"id": row_id, "question": record["description"], "answer": record["explanation"], "verdict": verdict,
            "refused": record["stage"] is None or record["glick"] is None, "mode": "placement",
            "language": record["language"], "notices": record["questions"], "rewritten_question": None,
            "claim_id": None, "dropped": [], **record}


def output_for(source: Path, output: Path | None, fmt: str | None) -> tuple[Path, str]:
    """As `batch`, but the default output is NAME.placements.EXT beside the input."""
    from .batch import resolve_output

    if output is None:
        if fmt is not None and fmt not in FORMATS:
            raise InputError(f"Unknown format '{fmt}': choose one of {', '.join(FORMATS)}.")
        kind = INPUT_KINDS.get(source.suffix.lower())
        fmt = fmt or (kind if kind in ("csv", "xlsx") else "jsonl")
        output = source.with_name(f"{source.stem}.placements.{fmt}")
    return resolve_output(source, output, fmt)


def run_classify(settings: Settings, source: Path, output: Path | None = None, fmt: str | None = None,
                 on_problem: Callable[[str], None] | None = None,
                 classify: Callable[[str], dict] | None = None) -> ClassifyReport:
    """Classify each description of `source` into `output`; a re-run does only the ids missing or changed."""
    started = time.perf_counter()
    note = on_problem or (lambda _line: None)
    source = Path(source)
    rows, problems = read_questions(source, settings, column=COLUMN)
    output, fmt = output_for(source, output, fmt)
    report = ClassifyReport(output=output, total=len(rows), bad_rows=problems)
    for problem in problems:
        note(f"skipped {problem}")
    sink = OUTPUTS[fmt](output, title=source.name)
    journal = Journal(output if fmt == "jsonl" else Path(str(output) + JOURNAL_SUFFIX))
    units = sink.existing()
    journaled = read_records(journal.path) if fmt != "jsonl" else []
    units.update({r["id"]: (r.get("question", ""), sink.unit(r)) for r in journaled})
    todo = [r for r in rows if units.get(r["id"], (None,))[0] != r[COLUMN]]
    report.already = len(rows) - len(todo)
    if todo:
        if classify is None:
            from .explain import classifier
            classify = classifier(settings)
        try:
            for row in todo:
                try:
                    record = batch_record(row["id"], classify(row[COLUMN]))
                except PartnerbotError as exc:
                    report.failed.append(f"id {row['id']}: {exc}")
                    note(f"failed id {row['id']}: {exc}")
                    continue
                journal.append(record)
                units[row["id"]] = (row[COLUMN], sink.unit(record))
                if record["refused"]:
                    report.unplaced += 1
                else:
                    report.placed += 1
        except KeyboardInterrupt:
            report.interrupted = True
        finally:
            journal.close()
    if report.placed or report.unplaced or journaled or not output.exists():
        order = [r["id"] for r in rows]
        ids = [i for i in order if i in units] + [i for i in units if i not in set(order)]
        sink.write([units[i][1] for i in ids])
    if fmt != "jsonl":
        journal.path.unlink(missing_ok=True)
    report.seconds = time.perf_counter() - started
    return report
