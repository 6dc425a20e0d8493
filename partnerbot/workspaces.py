"""Who owns a document, and who may change the shared store.

Every chunk has a `kind`: "corpus" (the built-in notes) and "user" (documents added through the CLI or by an
admin) make up the shared store that every answer may cite; "private" chunks also carry an `owner` and an
`expires` time (unix seconds) and are searched only for that owner. An owner is a browser session of the page
("s-" + 32 random hex digits, never shown) or a workspace opened with a code ("w-" + a hash of the code, so the
store never holds the code itself).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from pathlib import Path

from .errors import InputError
from .settings import Settings

PRIVATE = "private"
SHARED_KINDS = ("corpus", "user")
_CODE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def session_owner() -> str:
    """A new owner for one browser session: unguessable, and known only to that session."""
    return "s-" + secrets.token_hex(16)


def new_workspace_code() -> str:
    return secrets.token_urlsafe(9)   # 12 characters from [A-Za-z0-9_-]


def workspace_owner(code: str) -> str:
    """The owner id of a workspace code (8-64 letters, digits, - or _)."""
    code = (code or "").strip()
    if not _CODE.match(code):
        raise InputError("A workspace code has 8 to 64 letters, digits, - or _: check the code or link, "
                         "or start a new workspace.")
    return "w-" + hashlib.sha256(f"partnerbot workspace\0{code}".encode()).hexdigest()[:32]


def is_admin(settings: Settings, offered: str | None) -> bool:
    """True when an admin token is configured and `offered` equals it (constant-time comparison)."""
    if settings.admin_token is None or not offered:
        return False
    expected = settings.admin_token.get_secret_value()
    return bool(expected) and hmac.compare_digest(offered.encode("utf-8"), expected.encode("utf-8"))


def expiry(settings: Settings, now: float | None = None) -> float:
    """When a private document added now expires (unix seconds). Always a float: Chroma compares a float
    filter value only with float metadata, so `expires` is stored and filtered as float everywhere."""
    return float(round((time.time() if now is None else now) + settings.private_ttl_hours * 3600, 3))


def scope_where(owner: str | None) -> dict:
    """Chroma filter for what an owner may see: the shared store, plus that owner's private chunks."""
    shared = {"kind": {"$ne": PRIVATE}}
    return {"$or": [shared, {"owner": {"$eq": owner}}]} if owner else shared


def private_where(owner: str, live_at: float | None = None) -> dict:
    """Chroma filter for one owner's private chunks (only those not yet expired, given a time)."""
    parts = [{"kind": {"$eq": PRIVATE}}, {"owner": {"$eq": owner}}]
    if live_at is not None:
        parts.append({"expires": {"$gte": float(live_at)}})
    return {"$and": parts}


def upload_folder(settings: Settings, owner: str | None) -> Path:
    """Where the page saves an owner's uploads (one folder each, so two sessions' 'notes.md' never meet);
    shared (admin) uploads go to the upload folder itself."""
    base = Path(settings.upload_dir).resolve()
    return base / owner if owner else base
