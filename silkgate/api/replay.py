"""A bounded, expiring nonce cache: each nonce is accepted once while the request it came
with could still be fresh. Per process; a multi-worker deployment needs a cache shared
through the store (see docs/api.md)."""

from __future__ import annotations

import heapq
import threading

from silkgate.errors import AuthError


class NonceCache:
    def __init__(self, capacity: int = 200_000) -> None:
        self.capacity = capacity
        self._seen: dict[str, int] = {}  # nonce -> Unix time until which it is remembered
        self._expiry: list[tuple[int, str]] = []  # min-heap of (until, nonce)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._seen)

    def seen(self, nonce: str, *, until: int, now: int) -> bool:
        """Remember `nonce` until `until` (Unix time); True if it was already remembered.
        Raises AuthError when the cache is full of live nonces (refusing beats forgetting)."""
        with self._lock:
            self._purge(now)
            if nonce in self._seen:
                return True
            if len(self._seen) >= self.capacity:
                retry = max(1, self._expiry[0][0] - now + 1)
                raise AuthError(
                    f"the replay cache is full ({self.capacity} live nonces); retry in {retry} s"
                )
            self._seen[nonce] = until
            heapq.heappush(self._expiry, (until, nonce))
            return False

    def _purge(self, now: int) -> None:
        while self._expiry and self._expiry[0][0] < now:
            until, nonce = heapq.heappop(self._expiry)
            if self._seen.get(nonce) == until:
                del self._seen[nonce]
