"""Batch file formats: reading question files (csv/tsv, xlsx, txt, jsonl) with bad-row reports, and writing answer
records (jsonl, csv, md, xlsx) with formula escaping, atomic rewrites and the append-only JSONL journal.

The runner (resume, concurrency, progress) is partnerbot.batch.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .errors import InputError
from .settings import Settings, get_settings

INPUT_KINDS = {".csv": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".txt": "txt", ".jsonl": "jsonl", ".ndjson": "jsonl"}
OUTPUT_KINDS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".md": "md", ".markdown": "md", ".xlsx": "xlsx"}
FORMATS = ("jsonl", "csv", "md", "xlsx")
QUESTION_COLUMNS = ("question", "vraag")
ID_COLUMN = "id"
JOURNAL_SUFFIX = ".partial.jsonl"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")   # spreadsheet apps evaluate cells starting with these
_MD_MARK = re.compile(r"^<!-- partnerbot (\{.*\}) -->$", re.M)


# --- reading questions -------------------------------------------------------------------------------------

def _decode(raw: bytes, path: Path) -> str:
    """Text with undecodable bytes kept as surrogates, so the rows holding them can be reported one by one."""
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return raw.decode("utf-16", "surrogateescape")
    if b"\x00" in raw[:8192]:
        raise InputError(f"{path.name} looks binary, not text: save the questions as .csv, .txt, .jsonl or .xlsx.")
    return raw.decode("utf-8", "surrogateescape").removeprefix("\ufeff")


def _undecodable(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def _cell(value) -> str:
    """A spreadsheet cell as text (1.0 → "1")."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _column_names(column: str) -> tuple[str, ...]:
    """Header names accepted for the text column ('question' also accepts the Dutch 'vraag')."""
    return QUESTION_COLUMNS if column == "question" else (column.lower(),)


def _table(path: Path, rows: Iterable[tuple[int, list]], column: str = "question") -> Iterator[tuple[int, str, str]]:
    """(row number, id, text of `column`) from a header row plus data rows; fully blank rows are not rows."""
    qcol = idcol = None
    for number, cells in rows:
        cells = [_cell(c) for c in cells]
        if not any(cells):
            continue
        if qcol is None:
            header = [c.lower() for c in cells]
            qcol = next((header.index(name) for name in _column_names(column) if name in header), None)
            if qcol is None:
                found = ", ".join(repr(c) for c in cells if c) or "none"
                raise InputError(f"{path.name} has no '{column}' column (found: {found}): name the column that "
                                 f"holds the {column}s '{column}' (and optionally one 'id').")
            idcol = header.index(ID_COLUMN) if ID_COLUMN in header else None
            continue
        question = cells[qcol] if qcol < len(cells) else ""
        given = cells[idcol] if idcol is not None and idcol < len(cells) else ""
        yield number, given, question
    if qcol is None:
        raise InputError(f"{path.name} has no header row: put '{column}' (and optionally 'id') in the first row.")


def _read_csv(path: Path, column: str = "question") -> Iterator[tuple[int, str, str]]:
    text = _decode(path.read_bytes(), path)
    header = text.split("\n", 1)[0]
    if path.suffix.lower() == ".tsv":
        delimiter = "\t"
    else:  # the header decides: a question may hold commas, a header name does not
        counts = {d: header.count(d) for d in (",", ";", "\t")}
        delimiter = max(counts, key=counts.get) if any(counts.values()) else "\x1f"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    yield from _table(path, enumerate(reader, 1), column)


def _sheet_rows(path: Path) -> list[list]:
    """Rows of the first sheet of an .xlsx workbook (InputError when the file is not one)."""
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as exc:
        raise InputError(f"{path.name} is not a readable Excel workbook ({type(exc).__name__}): save it from your "
                         "spreadsheet program as .xlsx, or export it as .csv.") from None
    try:
        sheet = book.active
        return [] if sheet is None else [list(r) for r in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def _read_xlsx(path: Path, column: str = "question") -> Iterator[tuple[int, str, str]]:
    yield from _table(path, enumerate(_sheet_rows(path), 1), column)


def _read_txt(path: Path, column: str = "question") -> Iterator[tuple[int, str, str]]:  # one text per line
    for number, line in enumerate(_decode(path.read_bytes(), path).split("\n"), 1):
        if line.strip():
            yield number, "", line.strip()


def _read_jsonl(path: Path, column: str = "question") -> Iterator[tuple[int, str, str | None]]:
    """Yields (number, id, text of `column` or None when the line is bad, with the reason in place of the id)."""
    keys: set[str] = set()
    questions = 0
    bad: list[tuple[int, str]] = []
    out = []
    for number, line in enumerate(_decode(path.read_bytes(), path).split("\n"), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            bad.append((number, "not valid JSON"))
            continue
        if not isinstance(obj, dict):
            bad.append((number, f"not a JSON object with a '{column}' field"))
            continue
        keys |= set(obj)
        if column not in obj:
            bad.append((number, f"no '{column}' field"))
            continue
        questions += 1
        out.append((number, _cell(obj.get("id")), _cell(obj[column])))
    if not questions and keys:
        raise InputError(f"{path.name} has no '{column}' field on any line (found: {', '.join(sorted(keys))}): "
                         f"write one JSON object per line with a '{column}' (and optionally an 'id').")
    for number, reason in bad:
        yield number, reason, None
    yield from out


_READERS: dict[str, Callable[[Path, str], Iterator]] = {"csv": _read_csv, "xlsx": _read_xlsx, "txt": _read_txt,
                                                         "jsonl": _read_jsonl}


def read_questions(path: Path | str, settings: Settings | None = None,
                   column: str = "question") -> tuple[list[dict], list[str]]:
    """Questions from a csv/tsv, xlsx, txt (one per line) or jsonl file; `column` names another text column to
    read instead (e.g. "description"), the default "question" also accepts a 'vraag' header.

    Returns (rows, problems): rows are {"id", column} in file order (a row without an id gets its row
    number); problems are one-line reports of rows skipped (empty, too long, undecodable, duplicate id).
    A missing file, an unknown type, a missing text column or a non-workbook .xlsx raise InputError.
    """
    from .retrieval import validate_question

    path = Path(path)
    kind = INPUT_KINDS.get(path.suffix.lower())
    if kind is None:
        raise InputError(f"Cannot read questions from '{path.suffix or path.name}' files: use "
                         f"{', '.join(sorted(INPUT_KINDS))}.")
    if not path.is_file():
        raise InputError(f"No such file: {path}. Check the path.")
    settings = settings or get_settings()
    rows, problems, seen = [], [], set()
    for number, given, question in sorted(_READERS[kind](path, column), key=lambda r: r[0]):
        if question is None:
            problems.append(f"row {number}: {given}")
            continue
        if _undecodable(question) or _undecodable(given):
            problems.append(f"row {number}: undecodable bytes (not UTF-8); re-save the file as UTF-8")
            continue
        try:
            question = validate_question(question, settings)
        except InputError as exc:
            problems.append(f"row {number}: {exc}")
            continue
        row_id = given or str(number)
        if row_id in seen:
            problems.append(f"row {number}: duplicate id '{row_id}'; give every {column} its own id")
            continue
        seen.add(row_id)
        rows.append({"id": row_id, column: question})
    return rows, problems


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
