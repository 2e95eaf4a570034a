"""RFC 9421 request authentication: the signature's key id resolves to one of a registered
participant's Ed25519 signing keys that is valid now and not revoked (key ids as in
silkgate.seal.keys; key history in silkgate.registry.keys); stale, expired or
replayed requests and bodies that do not match their Content-Digest are refused. Nonces are
kept in the store (silkgate.api.replay), so replays are refused across API processes."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from silkgate.api.authz import Caller
from silkgate.api.replay import StoreNonces
from silkgate.clock import Clock
from silkgate.errors import AuthError, NotFoundError
from silkgate.model import Participant
from silkgate.registry.keys import request_key, signing_history
from silkgate.seal.httpsig import DEFAULT_SKEW, verify_request
from silkgate.store.base import Store
from silkgate.store.ports import RegistryPort


class KeyDirectory:
    """Key id -> participant, over every key in the registry's key histories. The index is
    rebuilt when a key id is not in it (a participant registered or rotated); every hit is
    re-read from the store, so a revoked or expired key or a deactivated participant stops
    working at once."""

    def __init__(self, store: RegistryPort) -> None:
        self._store = store
        self._index: dict[str, str] = {}
        self._lock = threading.Lock()

    def participant(self, key_id: str) -> Participant:
        for rebuild in (False, True):
            if rebuild:
                self._rebuild()
            with self._lock:
                participant_id = self._index.get(key_id)
            found = self._current(participant_id, key_id) if participant_id else None
            if found is not None:
                return found
        raise AuthError(
            f"key {key_id} is not the signing key of any registered participant; "
            "register the participant's public keys first (POST /v1/participants)"
        )

    def lookup(self, key_id: str, now: datetime) -> tuple[Participant, Ed25519PublicKey]:
        """The participant and its key `key_id`, if that key may sign requests at `now`."""
        participant = self.participant(key_id)
        return participant, request_key(participant, key_id, now)

    def _current(self, participant_id: str, key_id: str) -> Participant | None:
        try:
            participant = self._store.get_participant(participant_id)
        except NotFoundError:
            return None
        if all(k.key_id != key_id for k in signing_history(participant)):
            return None
        if not participant.active:
            raise AuthError(f"participant {participant.id} is deactivated")
        return participant

    def _rebuild(self) -> None:
        index = {
            key.key_id: p.id
            for p in self._store.list_participants()
            for key in signing_history(p)
            if len(key.public) == 32
        }
        with self._lock:
            self._index = index


class Authenticator:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        max_age: int = 300,
        nonces: StoreNonces | None = None,
    ) -> None:
        self.keys = KeyDirectory(store)
        self.clock = clock
        self.max_age = max_age
        self.nonces = nonces if nonces is not None else StoreNonces(store)

    def authenticate(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> Caller:
        """The signing participant, or AuthError."""
        now = self.clock()
        found: list[Participant] = []

        def resolve(key_id: str) -> Ed25519PublicKey:
            participant, key = self.keys.lookup(key_id, now)
            found.append(participant)
            return key

        key_id = verify_request(
            method, url, headers, body, resolve, now, self._nonce_seen(now), self.max_age
        )
        return Caller(found[-1], key_id)

    def _nonce_seen(self, now: datetime) -> _NonceSeen:
        return _NonceSeen(self.nonces, int(now.timestamp()), self.max_age + DEFAULT_SKEW)


class _NonceSeen:
    """Remembers a nonce only as long as its request could pass the freshness check."""

    def __init__(self, cache: StoreNonces, now: int, horizon: int) -> None:
        self._cache, self._now, self._horizon = cache, now, horizon

    def __call__(self, nonce: str, expires_at: int) -> bool:
        until = min(expires_at, self._now + self._horizon)
        return self._cache.seen(nonce, until=until, now=self._now)
