"""RFC 9421 request authentication: the signature's key id resolves to one of a registered
participant's Ed25519 signing keys that is valid now and not revoked (key ids as in
silkgate.seal.keys; key history in silkgate.registry.keys); stale, expired or
replayed requests and bodies that do not match their Content-Digest are refused. Nonces are
kept in the store (silkgate.api.replay), so replays are refused across API processes."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from silkgate.api.authz import Caller
from silkgate.api.limits import RateLimiter
from silkgate.api.replay import StoreNonces
from silkgate.clock import Clock
from silkgate.errors import AuthError, NotFoundError
from silkgate.model import Participant
from silkgate.registry.keys import request_key, signing_history
from silkgate.seal.httpsig import DEFAULT_COMPONENTS, DEFAULT_SKEW, verify_request
from silkgate.store.ports import NoncePort, RegistryPort

log = logging.getLogger("silkgate.auth")
IDEMPOTENCY_KEY = "idempotency-key"


UNUSABLE_KEY = (
    "signing key {key_id!r} is unknown, or not valid now: sign with the current key of a "
    "registered participant"
)


class ParticipantReads(Protocol):
    """What the key index reads: the registry's participants."""

    def get_participant(self, participant_id: str) -> Participant: ...

    def list_participants(self) -> list[Participant]: ...


class KeyDirectory:
    """Key id -> participant, over every key in the registry's key histories. A key id not
    in the index rebuilds it (a participant registered or rotated), but at most once per
    `min_rebuild` seconds: a flood of unknown key ids costs one rebuild per interval, not one
    per request. Registrations through this API call `invalidate`, so their keys work at
    once; a key registered by another process works within `min_rebuild` seconds. Every hit
    is re-read from the store, so a revoked or expired key or a deactivated participant stops
    working at once."""

    def __init__(
        self,
        store: ParticipantReads,
        *,
        min_rebuild: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._index: dict[str, str] = {}
        self._lock = threading.Lock()
        self._rebuild_lock = threading.Lock()
        self._min_rebuild = min_rebuild
        self._monotonic = monotonic
        self._rebuilt_at: float | None = None
        self.rebuilds = 0

    def invalidate(self) -> None:
        """The registry changed: the next unknown key id rebuilds the index at once."""
        with self._rebuild_lock:
            self._rebuilt_at = None

    def participant(self, key_id: str) -> Participant:
        asked = self._monotonic()
        seen = self.rebuilds
        for rebuild in (False, True):
            if rebuild and not self._rebuild_after(asked, seen):
                break
            with self._lock:
                participant_id = self._index.get(key_id)
            found = self._current(participant_id, key_id) if participant_id else None
            if found is not None:
                return found
        raise AuthError(
            f"key {key_id} is not the signing key of any registered participant; "
            "register the participant's public keys first (POST /v1/participants)"
        )

    def _rebuild_after(self, asked: float, seen: int) -> bool:
        """Rebuild the index unless it was rebuilt less than `min_rebuild` seconds ago;
        True if the index is worth another look: rebuilt now, or by another miss since this
        one looked (`seen` rebuilds then)."""
        with self._rebuild_lock:
            last = self._rebuilt_at
            if last is not None and last >= asked:
                return True  # another miss rebuilt it meanwhile
            if last is not None and self._monotonic() - last < self._min_rebuild:
                # A rebuild that began just before this miss may have ended since: its
                # index may hold the key (two first requests at once, for example).
                return self.rebuilds != seen
            self._rebuilt_at = self._monotonic()
            self._rebuild()
            return True

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
        self.rebuilds += 1  # after the new index is in place: see _rebuild_after


class AuthStore(RegistryPort, NoncePort, Protocol):
    """What authenticating reads: participants' keys, and nonces seen."""


class Authenticator:
    """Verifies a request's RFC 9421 signature (silkgate.seal.httpsig) against this hub:
    `@target-uri` is rebuilt from the raw request target and this hub's own authority (see
    `target_uri`), so a signature made for another hub or another path does not verify; an
    ``Idempotency-Key`` header must be covered by the signature; then the participant's rate
    limit is charged. Why a key cannot be used is logged for the operator but not told to the
    caller, who might not own the key."""

    def __init__(
        self,
        store: AuthStore,
        clock: Clock,
        *,
        max_age: int = 300,
        nonces: StoreNonces | None = None,
        rate: RateLimiter | None = None,
    ) -> None:
        self.keys = KeyDirectory(store)
        self.clock = clock
        self.max_age = max_age
        self.nonces = nonces if nonces is not None else StoreNonces(store)
        self.rate = rate

    def authenticate(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> Caller:
        """The signing participant, or AuthError (or RateLimited once verified)."""
        now = self.clock()
        found: list[Participant] = []

        def resolve(key_id: str) -> Ed25519PublicKey:
            try:
                participant, key = self.keys.lookup(key_id, now)
            except AuthError as exc:
                log.info("refused signing key %s: %s", key_id, exc)
                raise AuthError(UNUSABLE_KEY.format(key_id=key_id)) from None
            found.append(participant)
            return key

        required = DEFAULT_COMPONENTS
        if any(name.lower() == IDEMPOTENCY_KEY for name in headers):
            required = (*DEFAULT_COMPONENTS, IDEMPOTENCY_KEY)
        key_id = verify_request(
            method,
            url,
            headers,
            body,
            resolve,
            now,
            self._nonce_seen(now),
            self.max_age,
            required=required,
        )
        caller = Caller(found[-1], key_id)
        if self.rate is not None:
            self.rate.take(caller.id)
        return caller

    def _nonce_seen(self, now: datetime) -> _NonceSeen:
        return _NonceSeen(self.nonces, int(now.timestamp()), self.max_age + DEFAULT_SKEW)


def target_uri(scope: Mapping[str, Any], public_url: str = "") -> str:
    """The request's `@target-uri` (RFC 9421 §2.2.2) as this hub must see it: the hub's own
    scheme and authority (`public_url`, else the address the server is bound to) and the
    request target exactly as received (not percent-decoded). Raises AuthError when the
    request's Host names another authority, so that a signature is bound to this hub."""
    raw_path = scope.get("raw_path") or scope.get("path", "/").encode("utf-8")
    query = scope.get("query_string", b"")
    target = raw_path.decode("latin-1") + ("?" + query.decode("latin-1") if query else "")
    host = _header(scope, b"host")
    if public_url:
        parts = urlsplit(public_url)
        scheme, authority = parts.scheme.lower(), _authority(parts.scheme, parts.netloc)
    else:
        scheme = str(scope.get("scheme", "http")).lower()
        server = scope.get("server")
        if not server or str(server[0]) in _WILDCARD:
            authority = _authority(scheme, host)  # bound to every address: set public_url
        else:
            server_host = str(server[0])
            if ":" in server_host:
                server_host = f"[{server_host}]"
            authority = _authority(scheme, f"{server_host}:{server[1]}")
            if server_host in _LOOPBACK and _authority(scheme, host) == _authority(
                scheme, f"localhost:{server[1]}"
            ):
                authority = _authority(scheme, host)  # localhost names the loopback too
    if host and _authority(scheme, host) != authority:
        raise AuthError(
            f"request sent to {host}, but this hub is {scheme}://{authority}: sign requests "
            "for the hub's own URL (the operator sets it as public_url)"
        )
    return f"{scheme}://{authority}{target}"


_WILDCARD = ("0.0.0.0", "::", "")
_LOOPBACK = ("127.0.0.1", "[::1]")


def _header(scope: Mapping[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return ""


def _authority(scheme: str, netloc: str) -> str:
    hostport = netloc.rsplit("@", 1)[-1].lower()
    host, sep, port = hostport.rpartition(":")
    if (
        sep
        and port.isdigit()
        and not host.endswith(":")
        and _DEFAULT_PORTS.get(scheme) == int(port)
    ):
        return host
    return hostport


_DEFAULT_PORTS = {"http": 80, "https": 443}


class _NonceSeen:
    """Remembers a nonce only as long as its request could pass the freshness check."""

    def __init__(self, cache: StoreNonces, now: int, horizon: int) -> None:
        self._cache, self._now, self._horizon = cache, now, horizon

    def __call__(self, nonce: str, expires_at: int) -> bool:
        until = min(expires_at, self._now + self._horizon)
        return self._cache.seen(nonce, until=until, now=self._now)
