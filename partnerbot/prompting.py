"""The LLM's prompts: templates loaded from prompts/ by name, passages rendered as data inside delimiters, and
the guard that recognises text repeating a prompt (a leak), also while a draft streams."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from .errors import ConfigError
from .retrieval import Passage

PROMPTS = ("system", "answer", "rewrite")
LEAK_WORDS = 8                   # this many words in a row shared with a prompt count as leaking it
_TAG = re.compile(r"<(/?)(passages?|question|conversation)\b", re.I)
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_WORD = re.compile(r"\w+")

@lru_cache(maxsize=16)
def load_prompt(prompts_dir: str, name: str) -> str:
    """The template prompts/<name>.md."""
    path = Path(prompts_dir) / f"{name}.md"
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        raise ConfigError(f"Missing prompt {path}: restore prompts/{name}.md or fix PARTNERBOT_PROMPTS_DIR.") from None


def render(prompts_dir: str, name: str, **values: str) -> str:
    template = load_prompt(prompts_dir, name)
    wanted = set(_PLACEHOLDER.findall(template))
    if wanted != set(values):
        raise ConfigError(f"prompts/{name}.md must use exactly the placeholders "
                          f"{', '.join('{' + v + '}' for v in sorted(values))}: fix the file.")
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def as_data(text: str) -> str:
    """Quoted text cannot open or close our delimiters."""
    return _TAG.sub(lambda m: "‹" + m.group(1) + m.group(2), text)


def _attr(value: str) -> str:
    return " ".join(value.replace('"', "'").replace("<", "‹").replace(">", "›").split())


def passage_block(number: int, passage: Passage) -> str:
    attrs = [f"id={number}", f"voice={passage.voice or 'document'}", f'title="{_attr(passage.title)}"',
             f'source="{_attr(passage.source_title)}"', f'author="{_attr(passage.author)}"']
    if passage.caveat:
        attrs.append(f'caveat="{_attr(passage.caveat)}"')
    return f"<passage {' '.join(attrs)}>\n{as_data(passage.text.strip())}\n</passage>"


def _shown_to_model(passage: Passage) -> str:
    """The passage with what its <passage> tag told the model (title, source, author, reference): a sentence
    may name the author or year it read there."""
    head = ". ".join(x for x in (passage.title, passage.section, passage.source_title, passage.author,
                                 passage.reference) if x)
    return f"{head}.\n{passage.text}" if head else passage.text


class LeakGuard:
    """Recognises text that repeats a prompt: any LEAK_WORDS words in a row, or a whole short fragment of one."""

    def __init__(self, prompts: list[str]):
        self._prompt_words = [" ".join(_WORD.findall(_PLACEHOLDER.sub(" ", p).lower())) for p in prompts]
        self._shingles = set()
        for text in self._prompt_words:
            words = text.split()
            self._shingles.update(tuple(words[i:i + LEAK_WORDS]) for i in range(len(words) - LEAK_WORDS + 1))

    def leaks(self, text: str) -> bool:
        words = _WORD.findall(text.lower())
        if 4 <= len(words) < LEAK_WORDS:
            fragment = " " + " ".join(words) + " "
            return any(fragment in f" {p} " for p in self._prompt_words)
        return self._shares_run(words)

    def _shares_run(self, words: list[str]) -> bool:
        return any(tuple(words[i:i + LEAK_WORDS]) in self._shingles for i in range(len(words) - LEAK_WORDS + 1))

    def filter(self, pieces: Iterator[str]) -> Iterator[str]:
        """Pass a streamed draft through, holding back its last LEAK_WORDS words until they are known not to
        start a leak; once a leak shows, the rest of the draft is withheld (the verified answer follows)."""
        buffer, shown, leaked = "", 0, False
        for piece in pieces:
            buffer += piece
            leaked = leaked or self._shares_run(_WORD.findall(buffer.lower()))   # a short prefix is no leak yet
            if leaked:
                continue        # keep consuming: the whole reply is still needed for verification
            starts = [m.start() for m in _WORD.finditer(buffer)]
            safe = starts[-LEAK_WORDS] if len(starts) >= LEAK_WORDS else 0
            if safe > shown:
                yield buffer[shown:safe]
                shown = safe
        if not leaked and buffer[shown:] and not self.leaks(buffer):
            yield buffer[shown:]
