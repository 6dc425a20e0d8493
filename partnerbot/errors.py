"""User-facing errors. Every message is one line that names the fix; surfaces print it without a traceback."""


def describe(exc: BaseException, limit: int = 160) -> str:
    """An unforeseen exception as 'Type: message' on one line, for inside a message that names the fix."""
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:limit]}"


class PartnerbotError(Exception):
    """Base class: str(error) is the one-line message shown to the user."""


class InputError(PartnerbotError):
    """The user gave something we cannot use (empty question, unknown file type, bad batch row...)."""


class StoreError(PartnerbotError):
    """The vector store cannot be opened, written or reached."""


class ModelError(PartnerbotError):
    """The local embedding model is missing or does not match its expected hash."""


class LLMError(PartnerbotError):
    """The chat model failed after retries; callers fall back to the rules answerer."""


class ConfigError(PartnerbotError):
    """A setting has an invalid value."""
