"""Batch output: answer records written as jsonl, csv, md or xlsx with formula escaping and atomic rewrites, read
back for resume, and the append-only, fsync'd JSONL journal.

The readers of question files are partnerbot.batchread; the runner (resume, concurrency, progress) is
partnerbot.batch.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path
from typing import Callable

from .batchread import _cell, _decode, _sheet_rows
from .errors import InputError

OUTPUT_KINDS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".md": "md", ".markdown": "md", ".xlsx": "xlsx"}
FORMATS = ("jsonl", "csv", "md", "xlsx")
JOURNAL_SUFFIX = ".partial.jsonl"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")   # spreadsheet apps evaluate cells starting with these
_MD_MARK = re.compile(r"^<!-- partnerbot (\{.*\}) -->$", re.M)


# --- output formats ----------------------------------------------------------------------------------------

FLAT_COLUMNS = ("id", "question", "answer", "verdict", "refused", "mode", "language", "sources", "cited_doc_ids",
                "notices", "rewritten_question", "claim_id", "dropped")


def source_line(c: dict) -> str:
    """One citation as a line: [1] title — source (author; voice, caveat)."""
    badge = c.get("voice", "") + (f", caveat: {c['caveat']}" if c.get("caveat") else "")
    return f"[{c.get('marker')}] {c.get('title', '')} — {c.get('source_title', '')} ({c.get('author', '')}; {badge})"


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "\n".join(_text(v) for v in value)
    return str(value)


def flat_row(record: dict) -> dict[str, str]:
    """A record for a spreadsheet: citations become "[n] title — source" lines plus the cited doc ids."""
    citations = record.get("citations") or []
    row = {name: _text(record.get(name)) for name in FLAT_COLUMNS}
    row["sources"] = "\n".join(source_line(c) for c in citations)
    row["cited_doc_ids"] = "; ".join(dict.fromkeys(c.get("doc_id") or c.get("doc_path", "") for c in citations))
    return row


def _csv_safe(value: str) -> str:
    """Stop spreadsheet apps from running a cell as a formula (idempotent: an escaped cell starts with ')."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write to a temp file beside path, fsync, then os.replace: readers see the old file or the new, never half."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:  # some filesystems do not fsync folders
        pass


def _foreign(path: Path, why: str) -> InputError:
    return InputError(f"{path} exists and is not a partnerbot batch output ({why}): choose another -o OUTPUT "
                      "or move that file away.")


class Output:
    """One output kind. Units are what the file holds per question (a record, a flat row, a markdown block);
    `existing` reads them back from an earlier run so a re-run can skip and keep them."""

    kind = ""

    def __init__(self, path: Path, title: str = ""):
        self.path = path
        self.title = title

    def unit(self, record: dict):
        return record

    def existing(self) -> dict[str, tuple[str, object]]:  # id -> (question, unit)
        return {}

    def write(self, units: list) -> None:
        raise NotImplementedError


class JsonlOutput(Output):
    kind = "jsonl"

    def existing(self):
        return {r["id"]: (r.get("question", ""), r) for r in read_records(self.path, strict=True)}

    def write(self, units):
        def dump(tmp: Path) -> None:
            with open(tmp, "w", encoding="utf-8") as fh:
                for record in units:
                    fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        _atomic_write(self.path, dump)


class CsvOutput(Output):
    kind = "csv"

    def unit(self, record):
        return flat_row(record)

    def existing(self):
        if not self.path.exists():
            return {}
        text = _decode(self.path.read_bytes(), self.path)
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
        if rows and not {"id", "question", "answer"} <= set(rows[0]):
            raise _foreign(self.path, "no id/question/answer columns")
        return {_plain(r["id"]): (_plain(r["question"]), {k: r.get(k) or "" for k in FLAT_COLUMNS}) for r in rows}

    def write(self, units):
        def dump(tmp: Path) -> None:
            with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:  # the BOM makes Excel read UTF-8
                writer = csv.DictWriter(fh, FLAT_COLUMNS)
                writer.writeheader()
                for row in units:
                    writer.writerow({k: _csv_safe(v) for k, v in row.items()})
        _atomic_write(self.path, dump)


class XlsxOutput(Output):
    kind = "xlsx"
    WIDTHS = {"id": 8, "question": 40, "answer": 80, "sources": 60, "notices": 40, "cited_doc_ids": 30}

    def unit(self, record):
        return flat_row(record)

    def existing(self):
        if not self.path.exists():
            return {}
        try:
            rows = _sheet_rows(self.path)
        except InputError:
            raise _foreign(self.path, "not a workbook") from None
        if not rows:
            return {}
        header = [_cell(c) for c in rows[0]]
        if not {"id", "question", "answer"} <= set(header):
            raise _foreign(self.path, "no id/question/answer columns")
        out = {}
        for values in rows[1:]:
            row = dict(zip(header, (_cell(v) for v in values)))
            out[row["id"]] = (row["question"], {k: row.get(k, "") for k in FLAT_COLUMNS})
        return out

    def write(self, units):
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Alignment, Font
        from openpyxl.utils import get_column_letter

        def dump(tmp: Path) -> None:
            book = Workbook(write_only=True)  # streams rows: about 3x faster than a normal workbook
            sheet = book.create_sheet("answers")
            sheet.freeze_panes = "A2"
            for index, name in enumerate(FLAT_COLUMNS, 1):
                sheet.column_dimensions[get_column_letter(index)].width = self.WIDTHS.get(name, 14)
            bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
            header = [WriteOnlyCell(sheet, value=name) for name in FLAT_COLUMNS]
            for cell in header:
                cell.font = bold
            sheet.append(header)
            for row in units:
                cells = []
                for name in FLAT_COLUMNS:
                    cell = WriteOnlyCell(sheet, value=row[name])
                    if row[name].startswith("="):
                        cell.data_type = "s"  # text, not a formula
                    cell.alignment = wrap
                    cells.append(cell)
                sheet.append(cells)
            book.save(tmp)
        _atomic_write(self.path, dump)


class MarkdownOutput(Output):
    """A readable hand-out: each question as a heading, its answer, verdict, notes, and its sources below."""

    kind = "md"

    def unit(self, record):
        from .rules import VOICE_LABEL

        mark = json.dumps({"id": record["id"], "question": record["question"]}, ensure_ascii=False)
        mark = mark.replace(">", "\\u003e")  # keeps "-->" out of the comment
        lines = [f"<!-- partnerbot {mark} -->",
                 f"## {record['id']}. {' '.join(record['question'].split())}", ""]
        if record.get("rewritten_question"):
            lines += [f"*Understood as: {record['rewritten_question']}*", ""]
        lines += [record.get("answer", ""), ""]
        if record.get("verdict"):
            lines += [f"**Verdict:** {record['verdict']}", ""]
        lines += [f"> {notice}" for notice in record.get("notices") or []]
        if record.get("notices"):
            lines.append("")
        citations = record.get("citations") or []
        if citations:
            lines += ["**Sources**", ""]
            for c in citations:
                voice = VOICE_LABEL.get(c.get("voice", ""), c.get("voice", ""))
                caveat = f" — *caveat: {c['caveat']}*" if c.get("caveat") else ""
                section = f", section “{c['section']}”" if c.get("section") else ""
                lines.append(f"{c['marker']}. **{c.get('title', '')}** — {c.get('source_title', '')}, "
                             f"{c.get('author', '')} ({voice}){caveat}  ")
                lines.append(f"   `{c.get('doc_path', '')}`{section}")
            lines.append("")
        return "\n".join(lines) + "\n"

    def existing(self):
        if not self.path.exists():
            return {}
        text = self.path.read_text(encoding="utf-8", errors="replace")
        marks = list(_MD_MARK.finditer(text))
        if not marks and text.strip():
            raise _foreign(self.path, "no partnerbot answer markers")
        out = {}
        for mark, following in zip(marks, marks[1:] + [None]):
            meta = json.loads(mark.group(1))
            block = text[mark.start():following.start() if following else len(text)]
            out[str(meta["id"])] = (meta.get("question", ""), block.rstrip("\n") + "\n\n")
        return out

    def write(self, units):
        head = (f"# Answers: {self.title}\n\n"
                "*Answered by partnerbot from the Totus Consultancy article, Byron Glick's column and verified "
                "literature. Each answer cites the passages it rests on; quoted chatbot answers are opinions "
                "quoted in the article, not established fact.*\n\n")

        def dump(tmp: Path) -> None:
            tmp.write_text(head + "".join(u if u.endswith("\n\n") else u + "\n" for u in units), encoding="utf-8")
        _atomic_write(self.path, dump)


OUTPUTS: dict[str, type[Output]] = {"jsonl": JsonlOutput, "csv": CsvOutput, "xlsx": XlsxOutput, "md": MarkdownOutput}


def _plain(value: str | None) -> str:
    """Undo _csv_safe on read-back."""
    value = value or ""
    return value[1:] if value.startswith("'") and value[1:2] in _FORMULA_START else value


def read_records(path: Path, strict: bool = False) -> list[dict]:
    """Records of a JSONL journal/output; a torn last line (crash mid-write) is ignored. With strict, a file
    with lines that are not partnerbot records is refused rather than overwritten later."""
    if not path.exists():
        return []
    records = []
    lines = path.read_bytes().split(b"\n")
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            if number == len(lines):  # torn tail: the record in flight when the process died
                continue
            record = None
        if not isinstance(record, dict) or "id" not in record or "answer" not in record:
            if strict:
                raise _foreign(path, f"line {number} is not an answer record")
            continue
        records.append(record)
    return records


class Journal:
    """Append-only JSONL, one fsync'd line per record, torn tail cut off before the first append."""

    def __init__(self, path: Path):
        self.path = path
        self._fh = None

    def append(self, record: dict) -> None:
        if self._fh is None:
            self._repair()
            self._fh = open(self.path, "a", encoding="utf-8")
        self._fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def _repair(self) -> None:
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            with open(self.path, "rb+") as fh:
                fh.truncate(data.rfind(b"\n") + 1)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
