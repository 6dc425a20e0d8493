"""Read one file into text + metadata. Unsupported, empty, binary or corrupt files raise InputError."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from partnerbot.errors import InputError

SUPPORTED = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf")
VOICES = ("author", "chatgpt", "bing", "reader", "literature", "document")
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)


@dataclass
class LoadedDoc:
    text: str
    meta: dict = field(default_factory=dict)
    markdown: bool = False


def _decode(raw: bytes, path: Path) -> str:
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16 with BOM: full of NULs, yet text
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            raise InputError(f"{path.name} claims UTF-16 but does not decode: re-save it as UTF-8.") from None
    if b"\x00" in raw[:8192]:
        raise InputError(f"{path.name} looks binary, not text: convert it to .txt/.md/.pdf first.")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:  # legacy single-byte files (Windows-1252) are common for Dutch/English text
        text = raw.decode("cp1252")
    except UnicodeDecodeError:
        raise InputError(f"{path.name} is not valid UTF-8 or Windows-1252 text: re-save it as UTF-8.") from None
    return text


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's safe loader when present: ~10x faster


def split_front_matter(text: str, path: Path) -> tuple[dict, str]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        meta = yaml.load(match.group(1), Loader=_LOADER) or {}
    except yaml.YAMLError as exc:
        raise InputError(f"{path.name}: invalid YAML front matter ({str(exc).splitlines()[0]}); fix the header.") from None
    if not isinstance(meta, dict):
        raise InputError(f"{path.name}: front matter must be key: value pairs.")
    return meta, text[match.end():]


def _html_text(raw: str) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(raw, "html.parser")
    for tag in soup(["script", "style", "noscript", "iframe", "object", "template"]):
        tag.decompose()
    lines = [line.strip() for line in soup.get_text("\n").splitlines()]
    return "\n".join(line for line in lines if line)


def _pdf_text(path: Path) -> str:
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    # pypdf logs its complaints about broken files ("EOF marker not found") straight to stderr; the one-line
    # InputError below is what the user should see.
    logging.getLogger("pypdf").setLevel(logging.ERROR)

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            raise InputError(f"{path.name} is an encrypted PDF: remove the password and try again.")
        return "\n\n".join((page.extract_text() or "") for page in reader.pages)
    except InputError:
        raise
    except (PdfReadError, Exception) as exc:  # pypdf raises many types on broken files
        raise InputError(f"{path.name} is not a readable PDF ({type(exc).__name__}): re-export it or convert it to text.") from None


def load_file(path: Path, max_mb: float = 20.0) -> LoadedDoc:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise InputError(f"Unsupported file type '{suffix or path.name}': use one of {', '.join(SUPPORTED)}.")
    try:
        size = path.stat().st_size
        if size > max_mb * 1024 * 1024:
            raise InputError(f"{path.name} is {size / 1e6:.0f} MB, over the {max_mb:g} MB limit: split it or raise PARTNERBOT_MAX_FILE_MB.")
        raw = path.read_bytes() if suffix != ".pdf" else b""
    except FileNotFoundError:
        raise InputError(f"No such file: {path}. Check the path.") from None
    except PermissionError:
        raise InputError(f"Cannot read {path}: permission denied. Fix its permissions.") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a folder; pass the folder itself (not a file inside it) to ingest all its files.") from None

    if suffix == ".pdf":
        doc = LoadedDoc(_pdf_text(path))
    elif suffix in (".html", ".htm"):
        doc = LoadedDoc(_html_text(_decode(raw, path)))
    else:
        meta, body = split_front_matter(_decode(raw, path), path)
        doc = LoadedDoc(body, meta, markdown=suffix in (".md", ".markdown"))
    doc.text = doc.text.replace("\r\n", "\n").replace("\x00", "")
    if not doc.text.strip():
        raise InputError(f"{path.name} has no text to ingest (empty or scanned image?): add text or OCR it first.")
    return doc
