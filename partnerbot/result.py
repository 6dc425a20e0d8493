"""The answer types shared by every answerer: Citation, Answer, the Answerer protocol and chat History."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Protocol, Sequence

from .retrieval import Passage

History = Sequence  # of {"role": "user"|"assistant", "content": str} or (role, content) pairs


@dataclass
class Citation:
    marker: int
    chunk_id: str
    doc_path: str
    title: str
    source_title: str
    author: str
    voice: str
    text: str
    score: float
    section: str = ""
    caveat: str = ""
    doc_id: str = ""

    @classmethod
    def from_passage(cls, marker: int, passage: Passage) -> "Citation":
        return cls(marker=marker, chunk_id=passage.chunk_id, doc_path=passage.doc_path, title=passage.title,
                   source_title=passage.source_title, author=passage.author, voice=passage.voice, text=passage.text,
                   score=round(passage.score, 6), section=passage.section, caveat=passage.caveat, doc_id=passage.doc_id)


@dataclass
class Answer:
    text: str
    citations: list[Citation] = field(default_factory=list)
    mode: str = "rules"
    verdict: str | None = None
    rewritten_question: str | None = None
    notices: list[str] = field(default_factory=list)
    language: str = "en"
    refused: bool = False
    claim_id: str | None = None
    dropped: list[str] = field(default_factory=list)

    def to_dict(self, question: str | None = None) -> dict:
        data = asdict(self)
        if question is not None:
            data = {"question": question, "answer": data.pop("text"), **data}
        return data


class Answerer(Protocol):
    mode: str

    def answer(self, question: str, history: History = ()) -> Answer: ...


def history_turns(history: History) -> list[tuple[str, str]]:
    """Normalise history items to (role, content) pairs."""
    turns = []
    for item in history or ():
        if isinstance(item, dict):
            turns.append((str(item.get("role", "user")), str(item.get("content", ""))))
        else:
            role, content = item
            turns.append((str(role), str(content)))
    return turns
