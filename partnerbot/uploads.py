"""The page's uploads as plain functions (no Streamlit): save under a safe name, ingest privately or into the
shared store, remove, and purge expired private uploads now and then."""

from __future__ import annotations

import logging
import re
import threading
import time
from pathlib import Path
from typing import Callable, Iterable

from .errors import PartnerbotError, StoreError
from .settings import Settings
from .workspaces import upload_folder

log = logging.getLogger(__name__)
_UNSAFE_NAME = re.compile(r"[^\w.-]+")
PURGE_EVERY = 300.0   # seconds between two checks for expired private uploads, per page process
_last_purge = {"at": 0.0}
_purge_lock = threading.Lock()


def safe_upload_name(name: str) -> str:
    """A file name that stays inside the upload folder: no folders, no leading dots, only word chars, . and -."""
    base = str(name).replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE_NAME.sub("_", base).lstrip("._-")
    if len(base) > 120:
        stem, dot, suffix = base.rpartition(".")
        base = stem[:100] + dot + suffix[:10] if dot else base[:120]
    return base or "upload"


def save_upload(settings: Settings, name: str, data: bytes, owner: str | None = None) -> Path:
    """Write an uploaded file under settings.upload_dir (in the owner's own folder when private) with a
    sanitised name; returns its resolved path."""
    folder = upload_folder(settings, owner)
    target = (folder / safe_upload_name(name)).resolve()
    if target.parent != folder:  # cannot happen after sanitising; refuse rather than write elsewhere
        raise StoreError(f"Refusing to save the upload {name!r} outside {folder}.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    except OSError as exc:
        raise StoreError(f"Cannot save uploads in {folder} ({exc.strerror}): set PARTNERBOT_UPLOAD_DIR "
                         "to a writable folder.") from None
    return target


def add_uploads(settings: Settings, files: Iterable[tuple[str, bytes]],
                progress: Callable[[int, int, str], None] | None = None,
                owner: str | None = None) -> tuple[list[str], list[str]]:
    """Save and ingest (name, bytes) uploads one by one; returns (names added, error lines). With an owner
    they are private to it; without, they join the shared store (the page allows that to admins only).

    A file that cannot be ingested (unsupported, empty, unreadable) is not kept on disk."""
    from ingest import ingest_paths

    files = list(files)
    added, errors = [], []
    for number, (name, data) in enumerate(files):
        if progress:
            progress(number, len(files), name)
        path = save_upload(settings, name, data, owner)
        report = ingest_paths(settings, [path], names={str(path): name}, owner=owner)
        if report.errors:
            path.unlink(missing_ok=True)
            errors += [line if name in line else f"{name}: {line}" for line in report.errors]
        else:
            added.append(name)
    if progress:
        progress(len(files), len(files), "")
    return added, errors


def remove_upload(settings: Settings, doc_path: str, owner: str | None = None) -> int:
    """Remove one of the owner's documents (no owner: a shared one) from the store, and its saved upload if the
    page saved it; returns chunks deleted (0 when the owner has no such document)."""
    from ingest import remove_document

    deleted = remove_document(settings, doc_path, owner=owner)
    path = Path(doc_path)
    if deleted and path.parent == upload_folder(settings, owner):
        path.unlink(missing_ok=True)
    return deleted


def purge_now_and_then(settings: Settings) -> None:
    """Delete expired private uploads at most every PURGE_EVERY seconds per process. Failures are logged, not
    shown: expired documents are already out of every search (retrieval checks the expiry itself)."""
    with _purge_lock:
        if time.monotonic() - _last_purge["at"] < PURGE_EVERY and _last_purge["at"]:
            return
        _last_purge["at"] = time.monotonic()
    from ingest import purge_expired

    try:
        report = purge_expired(settings)
        if report.removed:
            log.info("purged %d expired private documents", report.removed)
    except PartnerbotError as exc:
        log.warning("purging expired private uploads failed: %s", exc)
