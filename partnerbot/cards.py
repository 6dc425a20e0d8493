"""What the chat page and the explorer share: source cards, one-line errors and presenter mode's CSS.

partnerbot.page and partnerbot.explore both import this module (and it imports neither). Everything that came
from a document is rendered through escape_markdown, never as HTML.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Iterator

import streamlit as st

from .errors import PartnerbotError
from .export import escape_markdown as esc
from .export import voice_badge
from .result import Citation

log = logging.getLogger("partnerbot.page")  # the page's logger, as before the move

VOICE_COLORS = {"author": "blue", "chatgpt": "orange", "bing": "violet", "reader": "gray", "literature": "green",
                "document": "red"}
# Our own static CSS (no document text): larger type for a projector.
PRESENTER_CSS = """<style>
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li { font-size: 1.35rem; line-height: 1.55; }
[data-testid="stCaptionContainer"] p { font-size: 1.1rem; }
[data-testid="stChatInput"] textarea { font-size: 1.35rem; }
h1 { font-size: 3.2rem !important; }
</style>"""


@contextmanager
def shown_errors() -> Iterator[None]:
    """Show failures as one line (st.error), never as a traceback; the log keeps unexpected ones."""
    try:
        yield
    except PartnerbotError as exc:
        st.error(esc(exc), icon="⚠️")
    except Exception as exc:  # a bug or an unexpected library failure: still one line for the audience
        log.exception("page error")
        st.error(esc(f"Unexpected error ({type(exc).__name__}: {str(exc)[:200]}); the server log has details."),
                 icon="⚠️")


def source_card(c: Citation) -> None:
    """A numbered card: title, voice badge, source article and author, the passage, and its caveat if any."""
    with st.container(border=True):
        color = VOICE_COLORS.get(c.voice, "gray")
        st.markdown(f"**\\[{c.marker}\\] {esc(c.title)}** :{color}-badge[{esc(voice_badge(c.voice))}]")
        st.caption(" · ".join(esc(part) for part in (c.source_title, c.author, c.section) if part))
        st.markdown(esc(c.text))
        if c.caveat:
            st.warning(f"Caveat: {esc(c.caveat)}", icon="⚠️")
