"""Ingests take turns: a file lock in the store folder (embedded), or a lease on the Chroma server (server mode).

The lease lives in a small coordination collection next to the store's collection (`<collection>-coordination`)
as one record with the id "ingest" and the metadata {holder, expires}. Chroma can express the compare-and-set
this needs: `add` of an id that already exists is ignored (the first add in the server's log wins), so every
process adds its own record and reads back whose it is; only the holder goes on. A lapsed lease (its holder
crashed) is removed by a delete conditioned on that holder and expiry (`delete(ids, where=…)`), so two
processes that both saw it lapse cannot remove a fresh lease the other has just taken. The holder renews its
lease while it works. Works across machines, because the server is the one place all writers share.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import secrets
import socket
import threading
import time
from pathlib import Path
from typing import Iterator

from .errors import StoreError
from .settings import Settings

LEASE_ID = "ingest"
_VECTOR = [1.0, 0.0]   # Chroma records need a vector; the coordination collection never searches


def coordination_name(settings: Settings) -> str:
    return f"{settings.collection}-coordination"


@contextlib.contextmanager
def write_lock(settings: Settings) -> Iterator[None]:
    """Serialise ingests on one store: a file lock (embedded) or the server's lease (server mode)."""
    if settings.chroma_host:
        with Lease(settings):
            yield
        return
    path = Path(settings.store)
    path.mkdir(parents=True, exist_ok=True)
    with open(path / ".ingest.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class Lease:
    """The ingest lease on a Chroma server (see the module docstring). A context manager; `holder` names us."""

    def __init__(self, settings: Settings, name: str = LEASE_ID):
        self.settings, self.name = settings, name
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.ttl = settings.ingest_lease_seconds
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self.lost = False
        self._collection = None

    # --- the records ------------------------------------------------------------------------------------
    def collection(self):
        if self._collection is None:
            from .client import _make_client, server_error

            try:
                self._collection = _make_client(self.settings).get_or_create_collection(
                    coordination_name(self.settings), embedding_function=None, metadata={"partnerbot": "coordination"})
            except StoreError:
                raise
            except Exception as exc:
                raise server_error(self.settings, exc) from None
        return self._collection

    def current(self) -> dict | None:
        """The lease record as the server has it now: {holder, expires} or None."""
        got = self.collection().get(ids=[self.name], include=["metadatas"])
        return dict(got["metadatas"][0]) if got["ids"] else None

    def try_acquire(self) -> bool:
        """One compare-and-set round: add ours if absent, read back who holds it; clear it when it lapsed."""
        now = time.time()
        self.collection().add(ids=[self.name], embeddings=[_VECTOR],
                              metadatas=[{"holder": self.holder, "expires": now + self.ttl, "since": now}])
        record = self.current()
        if record is None:
            return False                      # cleared between our add and our read: try again
        if record.get("holder") == self.holder:
            return True
        if float(record.get("expires", 0)) < now:   # its holder stopped renewing: remove exactly that record
            self.collection().delete(ids=[self.name], where={"$and": [
                {"holder": {"$eq": record.get("holder", "")}}, {"expires": {"$eq": record.get("expires", 0)}}]})
        return False

    def release(self) -> None:
        with contextlib.suppress(Exception):  # the server may be gone: then the lease simply lapses
            self.collection().delete(ids=[self.name], where={"holder": {"$eq": self.holder}})

    # --- context manager --------------------------------------------------------------------------------
    def __enter__(self) -> "Lease":
        from .client import location, server_error

        deadline = time.monotonic() + self.settings.ingest_wait_seconds
        while True:
            try:
                if self.try_acquire():
                    break
                record = self.current() or {}
            except StoreError:
                raise
            except Exception as exc:
                raise server_error(self.settings, exc) from None
            if time.monotonic() > deadline:
                until = time.strftime("%H:%M:%S", time.localtime(float(record.get("expires", time.time()))))
                raise StoreError(f"Another ingest ({record.get('holder', '?')}) holds the lease on {location(self.settings)} "
                                 f"(until {until} unless renewed): wait for it and try again "
                                 "(PARTNERBOT_INGEST_WAIT_SECONDS sets how long to wait).")
            time.sleep(random.uniform(0.1, 0.5))
        self._renewer = threading.Thread(target=self._renew, name="partnerbot-lease", daemon=True)
        self._renewer.start()
        return self

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            try:
                record = self.current()
                if not record or record.get("holder") != self.holder:
                    self.lost = True
                    return
                self.collection().update(ids=[self.name], metadatas=[{**record, "expires": time.time() + self.ttl}])
            except Exception:
                continue  # the server is briefly away: try again; the lease lapses only after ttl

    def __exit__(self, exc_type, exc, tb) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=5)
        self.release()
        if self.lost and exc_type is None:
            raise StoreError("This ingest lost its lease on the Chroma server (it could not renew it in time): "
                             "run the same ingest again (it is idempotent).")
