"""Split documents into passages: markdown on headings first, then everything by size."""

from __future__ import annotations

from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

_HEADERS = [("#", "h1"), ("##", "h2"), ("###", "h3")]


def _size_splitter(size: int, overlap: int) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(chunk_size=size, chunk_overlap=min(overlap, size // 2),
                                          separators=["\n\n", "\n", ". ", " ", ""])


def split(text: str, markdown: bool, size: int, overlap: int) -> list[tuple[str, str]]:
    """Return (section heading, passage text) pairs in document order."""
    splitter = _size_splitter(size, overlap)
    if not markdown:
        return [("", piece.strip()) for piece in splitter.split_text(text) if piece.strip()]
    sections = MarkdownHeaderTextSplitter(_HEADERS, strip_headers=True).split_text(text)
    out: list[tuple[str, str]] = []
    for section in sections:
        heading = section.metadata.get("h3") or section.metadata.get("h2") or section.metadata.get("h1") or ""
        for piece in splitter.split_text(section.page_content):
            if piece.strip():
                out.append((heading, piece.strip()))
    return out
