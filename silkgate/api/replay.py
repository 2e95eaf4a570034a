"""Replay protection shared by every API process on one store: each request nonce is
recorded in the store (``Store.remember_nonce``) for as long as its request could still be
fresh, so a request replayed to another worker, or after a restart, is refused too."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from silkgate.store.ports import NoncePort

PURGE_INTERVAL = 60  # seconds (of the API's clock) between purges of expired nonces


class StoreNonces:
    def __init__(self, store: NoncePort, *, purge_interval: int = PURGE_INTERVAL) -> None:
        self._store = store
        self._purge_interval = purge_interval
        self._next_purge: int | None = None
        self._lock = threading.Lock()

    def seen(self, nonce: str, *, until: int, now: int) -> bool:
        """Remember `nonce` until `until` (Unix time); True if some process already did."""
        self._purge_due(now)
        return not self._store.remember_nonce(nonce, _at(until))

    def purge(self, now: int) -> int:
        """Forget the nonces whose requests can no longer be fresh; returns how many."""
        return self._store.purge_nonces(expired_before=_at(now))

    def _purge_due(self, now: int) -> None:
        with self._lock:
            due = self._next_purge is None or now >= self._next_purge
            if due:
                self._next_purge = now + self._purge_interval
        if due:
            self.purge(now)


def _at(unix: int) -> datetime:
    return datetime.fromtimestamp(unix, UTC)
