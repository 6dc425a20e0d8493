"""Batch input: reading question files (csv/tsv, xlsx, txt, jsonl) into rows, with one-line reports of the bad
rows skipped (empty, too long, undecodable, duplicate id); any text column ("question", "description", …).

The writers (jsonl/csv/md/xlsx, formula escaping, atomic rewrite, journal) are partnerbot.batchwrite; the
runner (resume, concurrency, progress) is partnerbot.batch.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .errors import InputError
from .settings import Settings, get_settings

INPUT_KINDS = {".csv": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".txt": "txt", ".jsonl": "jsonl", ".ndjson": "jsonl"}
QUESTION_COLUMNS = ("question", "vraag")
ID_COLUMN = "id"


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
