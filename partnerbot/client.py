"""Connecting to Chroma: the client for these settings (embedded folder or server, with the deployment's token
header), where a store lives for messages, and one-line errors for a failing server. Below both store.py and
locking.py, which each need a client."""

from __future__ import annotations

import os
from pathlib import Path

from .embed import ChromaEmbeddingFunction, _lock
from .errors import StoreError, describe
from .settings import Settings


def location(settings: Settings) -> str:
    """Where the store lives, for messages: a chroma:// URL in server mode, else the folder."""
    s = settings
    return f"chroma://{s.chroma_host}:{s.chroma_port}/{s.collection}" if s.chroma_host else str(Path(s.store).resolve())


def server_error(settings: Settings, exc: BaseException) -> StoreError:
    """One-line message for a failed call to the Chroma server: unreachable (start it) or failing (its log)."""
    where = f"{settings.chroma_host}:{settings.chroma_port}"
    if is_auth_error(exc):
        header = settings.chroma_token_header
        return StoreError(f"The Chroma server at {where} refused partnerbot's request (not authorised): "
                          f"set PARTNERBOT_CHROMA_TOKEN to the deployment's token (sent as {header}).")
    if is_connection_error(exc):
        return StoreError(f"Cannot reach the Chroma server at {where} ({type(exc).__name__}): start it "
                          f"(chroma run --host {settings.chroma_host} --port {settings.chroma_port} --path DIR) "
                          "or unset PARTNERBOT_CHROMA_HOST.")
    return StoreError(f"The Chroma server at {where} failed ({describe(exc)}): "
                      "check its log, then try again.")


_server_clients: dict[tuple, object] = {}


def _make_client(settings: Settings):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    from chromadb.utils.embedding_functions import known_embedding_functions

    # Registered before any read, so Chroma can rebuild our EF from a collection's stored config quietly.
    known_embedding_functions.setdefault(ChromaEmbeddingFunction.name(), ChromaEmbeddingFunction)
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_host:
        # One HttpClient per server and process: each one is a new Chroma "system" with its own connection pool.
        # It reconnects by itself when the server comes back, so the cached one never goes stale.
        token = settings.chroma_token.get_secret_value() if settings.chroma_token else None
        headers = {settings.chroma_token_header: token} if token else None
        key = (settings.chroma_host, settings.chroma_port, settings.chroma_token_header, token)
        with _lock:
            if key not in _server_clients:
                try:
                    _server_clients[key] = chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port,
                                                               settings=chroma_settings, headers=headers)
                except Exception as exc:  # the constructor already talks to the server
                    raise server_error(settings, exc) from None
            return _server_clients[key]
    path = Path(settings.store)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"Cannot create the store folder {path}: {exc.strerror}; choose another with --store DIR.") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise StoreError(f"The store folder {path} is not writable: fix its permissions or choose another with --store DIR.")
    try:
        return chromadb.PersistentClient(path=str(path.resolve()), settings=chroma_settings)
    except Exception as exc:
        raise StoreError(f"Cannot open the store in {path} ({type(exc).__name__}: {str(exc)[:120]}); "
                         "delete the folder and run `partnerbot ingest` to rebuild it.") from None


def is_auth_error(exc: BaseException) -> bool:
    """True when the server (or the proxy in front of it) refused us: HTTP 401/403."""
    text = f"{type(exc).__name__} {exc}".lower()
    return any(word in text for word in ("401", "403", "unauthori", "forbidden", "authorizationerror",
                                         "authenticationerror"))


def is_connection_error(exc: BaseException) -> bool:
    """True for transport failures of the HTTP client (server down, refused, timed out, dropped)."""
    import httpx

    if isinstance(exc, ValueError) and "could not connect" in str(exc).lower():  # raised by HttpClient()
        return True
    return isinstance(exc, (httpx.TransportError, ConnectionError))
