"""Push delivery and retention of the mailbox.

Push: after each commit the pipeline publishes ``silkgate.delivered.<importer>`` (its
outbox). The `DeliveryWorker` consumes those messages and, for an importer that registered a
push endpoint, POSTs the envelope's sealed bytes there, signed by the hub (RFC 9421). A
message is acked only when the push got a 2xx, or when pushing is over (the envelope was
acknowledged or expired, the importer pulls, or the attempts are used up); otherwise it stays
unacked and the transport redelivers it. Every push is counted in the envelope's `attempts`;
a retry waits `PushPolicy.delay(attempts)` (exponential, capped) and never less than the
transport's ack wait. Pull stays available throughout: a pushed envelope remains in the
mailbox until its receipt is posted.

Which envelopes may be pushed, and the counting of attempts, are the state machine's
(silkgate.mailbox.states, applied by silkgate.mailbox.service); the delivery message is
built in silkgate.mailbox.messages. Retention is silkgate.mailbox.retention (the plan) and
silkgate.mailbox.service.run_purge. `Background` runs pushing and retention in threads for
`silkgate serve`.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from silkgate.clock import Clock, Random, system_clock, system_random
from silkgate.config import Settings
from silkgate.errors import InputError, NotFoundError, SilkgateError
from silkgate.mailbox import states
from silkgate.mailbox.messages import PUSH_SUBJECTS, publish_delivered, read_delivered
from silkgate.mailbox.service import count_attempt, run_purge
from silkgate.seal.httpsig import sign_request
from silkgate.seal.keys import ed25519_key_id
from silkgate.store.base import PushEndpoint, Store, StoredEnvelope, iter_all_envelopes
from silkgate.transport.base import Message, Transport

log = logging.getLogger("silkgate.mailbox.delivery")

ENVELOPE_MEDIA_TYPE = "application/vnd.silkgate.envelope"
ENVELOPE_ID_HEADER = "Silkgate-Envelope-Id"
BATCH_ID_HEADER = "Silkgate-Batch-Id"
ATTEMPT_HEADER = "Silkgate-Attempt"
# What the hub's signature on a push covers; receivers should require all of it.
PUSH_COMPONENTS: tuple[str, ...] = (
    "@method",
    "@target-uri",
    "content-digest",
    "silkgate-envelope-id",
    "silkgate-batch-id",
)
MAX_URL_LENGTH = 2048


# ----------------------------------------------------------------------------- registration


def check_push_url(url: str, allow_hosts: Collection[str] = frozenset()) -> str:
    """The URL if it may receive pushes: absolute https to a public host. Hosts that are not
    public (loopback, private, link-local, ...) and plain http are accepted only for hosts
    listed in `allow_hosts` (setting `push_allow_hosts`). Raises InputError naming what to
    change."""
    if len(url) > MAX_URL_LENGTH:
        raise InputError(f"push URL is {len(url)} characters; at most {MAX_URL_LENGTH}")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InputError(
            f"push URL {url!r} is not an absolute http(s) URL; give e.g. "
            "https://carrier.example/silkgate/inbox",
            path="$['url']",
        )
    if parts.username or parts.password or parts.fragment:
        raise InputError("push URL must not carry credentials or a fragment", path="$['url']")
    host = parts.hostname
    if host in allow_hosts:
        return url
    if parts.scheme == "http":
        raise InputError(
            f"push URL {url!r} uses plain http; use https (http only to hosts the operator "
            "lists in push_allow_hosts)",
            path="$['url']",
        )
    if host == "localhost" or not _public_literal(host):
        raise InputError(
            f"push URL {url!r} names a host that is not public; the hub pushes only to public "
            "addresses unless the operator lists the host in push_allow_hosts",
            path="$['url']",
        )
    return url


def _public_literal(host: str) -> bool:
    """False for an IP literal that is not globally routable; True for names (checked when
    resolved, at delivery) and public IPs."""
    try:
        return ipaddress.ip_address(host).is_global
    except ValueError:
        return True


def check_push_destination(url: str, allow_hosts: Collection[str]) -> None:
    """At delivery: every address the URL's host resolves to must be public (unless the host
    is allowed), so that a name pointing inside the hub's network is refused."""
    host = urlsplit(url).hostname or ""
    if host in allow_hosts:
        return
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise InputError(f"push host {host!r} does not resolve: {exc}") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise InputError(
                f"push host {host!r} resolves to {address}, which is not public; refused"
            )


def requeue_pending(
    store: Store, transport: Transport, now: datetime, importers: Iterable[str] | None = None
) -> int:
    """Publish a delivery message for each pending envelope of the importers that have a
    push registration (all of them by default): after a restart of an in-process transport,
    or when an importer registers with mail already waiting. Returns how many."""
    wanted = None if importers is None else set(importers)
    published = 0
    for endpoint in store.list_push_endpoints():
        if wanted is not None and endpoint.importer not in wanted:
            continue
        for envelope in iter_all_envelopes(store, importer=endpoint.importer, state="pending"):
            message_id = f"{envelope.id}@{int(now.timestamp())}"
            published += publish_delivered(
                transport, envelope.importer, envelope.id, envelope.batch_id, message_id
            )
    return published


# ----------------------------------------------------------------------------- pushing


@dataclass(frozen=True)
class PushPolicy:
    max_attempts: int = 8  # pushes per envelope (pull fetches count too); then pull only
    backoff: float = 30.0  # seconds before the first retry, doubled per attempt
    max_backoff: float = 3600.0
    timeout: float = 10.0  # seconds per POST
    signature_ttl: int = 300  # `expires` of the hub's signature, after `created`
    allow_hosts: frozenset[str] = frozenset()  # non-public hosts allowed (see check_push_url)

    @classmethod
    def from_settings(cls, settings: Settings) -> PushPolicy:
        """The limits set in silkgate.toml or SILKGATE_PUSH_* (silkgate.config)."""
        return cls(
            max_attempts=settings.push_max_attempts,
            backoff=settings.push_backoff_seconds,
            max_backoff=settings.push_max_backoff_seconds,
            timeout=settings.push_timeout_seconds,
            allow_hosts=frozenset(settings.push_allow_hosts),
        )

    def delay(self, attempts: int) -> timedelta:
        """How long to wait after the `attempts`-th failed push."""
        exponent = min(max(attempts - 1, 0), 32)
        return timedelta(seconds=min(self.max_backoff, self.backoff * 2**exponent))


@dataclass
class DeliveryWorker:
    """Consumes delivery messages and pushes envelopes (see the module docstring)."""

    store: Store
    transport: Transport
    signing_key: Ed25519PrivateKey
    http: httpx.Client
    clock: Clock = system_clock
    random: Random = system_random
    policy: PushPolicy = field(default_factory=PushPolicy)
    _next_due: dict[str, datetime] = field(default_factory=dict)

    def run_once(self, *, timeout: float = 0.0, max_messages: int = 50) -> Counter[str]:
        """Handle the messages available now (waiting up to `timeout` s for the first);
        returns how many ended in each outcome."""
        outcomes: Counter[str] = Counter()
        for message in self.transport.fetch(
            PUSH_SUBJECTS, max_messages=max_messages, timeout=timeout
        ):
            outcomes[self.handle(message)] += 1
        return outcomes

    def handle(self, message: Message) -> str:
        """Push one message's envelope if due. Outcomes: ``delivered``; ``failed`` and
        ``deferred`` (left unacked, redelivered later); ``done`` (acked: nothing to push)."""
        try:
            ref = read_delivered(message.payload)
            envelope = self.store.get_envelope(ref.envelope_id)
        except (InputError, NotFoundError) as exc:
            log.warning("dropping delivery message %s: %s", message.message_id, exc)
            return self._finish(message, "", "done")
        endpoint = self._endpoint(envelope)
        if endpoint is None:
            return self._finish(message, envelope.id, "done")
        due = self._next_due.get(envelope.id)
        if due is not None and self.clock() < due:
            return "deferred"
        attempts = count_attempt(self.store, envelope.id)
        if attempts is None:
            return self._finish(message, envelope.id, "done")
        if self._push(endpoint.url, envelope, attempts):
            return self._finish(message, envelope.id, "delivered")
        self._next_due[envelope.id] = self.clock() + self.policy.delay(attempts)
        return "failed"

    def _endpoint(self, envelope: StoredEnvelope) -> PushEndpoint | None:
        """Where to push, or None when pushing this envelope is over."""
        if not states.counts_attempt(envelope) or not envelope.data:
            return None  # acknowledged, expired, rejected or purged
        if self.clock() >= envelope.expires_at:
            return None  # past the delivery TTL: retention expires it
        if envelope.attempts >= self.policy.max_attempts:
            log.warning("envelope %s: %d attempts, no more pushes", envelope.id, envelope.attempts)
            return None
        try:
            return self.store.get_push_endpoint(envelope.importer)
        except NotFoundError:
            return None  # the importer pulls

    def _push(self, url: str, envelope: StoredEnvelope, attempt: int) -> bool:
        try:
            check_push_destination(url, self.policy.allow_hosts)
        except InputError as exc:
            log.warning("push of %s not sent (attempt %d): %s", envelope.id, attempt, exc)
            return False
        request = push_request(
            url, envelope, attempt, self.signing_key, self.clock(), self.random(16).hex(),
            self.policy.signature_ttl,
        )  # fmt: skip
        try:
            response = self.http.send(request)
        except httpx.HTTPError as exc:
            log.info("push of %s to %s failed (attempt %d): %s", envelope.id, url, attempt, exc)
            return False
        if response.is_success:
            return True
        log.info("push of %s to %s answered %d (attempt %d)", envelope.id, url,
                 response.status_code, attempt)  # fmt: skip
        return False

    def _finish(self, message: Message, envelope_id: str, outcome: str) -> str:
        self.transport.ack(message)
        self._next_due.pop(envelope_id, None)
        return outcome


def push_request(
    url: str,
    envelope: StoredEnvelope,
    attempt: int,
    key: Ed25519PrivateKey,
    now: datetime,
    nonce: str,
    ttl: int,
) -> httpx.Request:
    """The POST the hub sends: the sealed bytes, their ids, signed by the hub's key."""
    headers = {
        "Content-Type": ENVELOPE_MEDIA_TYPE,
        ENVELOPE_ID_HEADER: envelope.id,
        BATCH_ID_HEADER: envelope.batch_id,
        ATTEMPT_HEADER: str(attempt),
    }
    headers |= sign_request(
        "POST", url, headers, envelope.data, key, ed25519_key_id(key), now, nonce, ttl,
        components=PUSH_COMPONENTS,
    )  # fmt: skip
    return httpx.Request("POST", url, content=envelope.data, headers=headers)


# ----------------------------------------------------------------------------- background


@dataclass
class Background:
    """The worker and the periodic purge in daemon threads (started by `silkgate serve`)."""

    store: Store
    transport: Transport
    signing_key: Ed25519PrivateKey
    retention: timedelta
    clock: Clock = system_clock
    policy: PushPolicy = field(default_factory=PushPolicy)
    poll: float = 1.0  # seconds a fetch waits for work
    purge_every: float = 3600.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        http = httpx.Client(timeout=self.policy.timeout, follow_redirects=False)
        worker = DeliveryWorker(
            self.store, self.transport, self.signing_key, http, self.clock, policy=self.policy
        )
        requeue_pending(self.store, self.transport, self.clock())
        self._threads = [
            threading.Thread(target=self._deliver, args=(worker,), name="silkgate-push"),
            threading.Thread(target=self._maintain, name="silkgate-retention"),
        ]
        for thread in self._threads:
            thread.daemon = True
            thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)

    def _deliver(self, worker: DeliveryWorker) -> None:
        try:
            while not self._stop.is_set():
                try:
                    worker.run_once(timeout=self.poll)
                except Exception as exc:  # the thread must outlive any one failure
                    if self._stop.is_set():
                        return
                    _log_failure("push delivery", exc)
                    self._stop.wait(self.poll)
        finally:
            worker.http.close()

    def _maintain(self) -> None:
        while not self._stop.is_set():
            try:
                report = run_purge(self.store, self.clock(), self.retention)
                log.info("retention: %s", msgspec.json.encode(report).decode())
            except Exception as exc:  # retried at the next interval
                _log_failure("retention", exc)
            self._stop.wait(self.purge_every)


def _log_failure(what: str, exc: Exception) -> None:
    if isinstance(exc, SilkgateError):
        log.error("%s: %s", what, exc)  # an expected kind of failure: the message says it
    else:
        log.exception("%s failed unexpectedly", what)
