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
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpcore
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
from silkgate.store.base import PushEndpoint, StoredEnvelope, iter_all_envelopes
from silkgate.store.ports import MailboxPort, NoncePort, SandboxPort, Transactional
from silkgate.transport.base import Message, Transport


class DeliveryStore(MailboxPort, NoncePort, SandboxPort, Transactional, Protocol):
    """What pushing reads and writes: envelopes, push endpoints, retry times (and, for the
    retention pass the worker runs, expired nonces)."""


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
    """False for an IP literal that is not public; True for names (checked when resolved,
    at delivery) and public IPs."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return True
    return is_public_address(address)


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052 well-known prefix
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215 local-use
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated ::a.b.c.d (RFC 4291 §2.5.5.1)
_TEREDO = ipaddress.ip_network("2001::/32")
_SITE_LOCAL = ipaddress.ip_network("fec0::/10")  # deprecated, but still not public


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries, for the forms that route to it:
    IPv4-mapped ``::ffff:a.b.c.d``, IPv4-compatible ``::a.b.c.d``, NAT64 ``64:ff9b::/96``
    and 6to4 ``2002::/16``. (Teredo is refused whole by `is_public_address`.)"""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public_address(address: IPAddress) -> bool:
    """True only for a globally routable unicast address: not private, loopback,
    link-local, shared (100.64/10), reserved, multicast, unspecified or documentation, and
    for IPv6 not site-local, not Teredo, not local-use NAT64, and not an IPv4-embedding
    form whose IPv4 address is any of those."""
    if isinstance(address, ipaddress.IPv6Address):
        if address in _SITE_LOCAL or address in _TEREDO or address in _NAT64_LOCAL:
            return False
        inner = embedded_ipv4(address)
        if inner is not None:
            return is_public_address(inner)
    if address.is_multicast or address.is_unspecified or address.is_reserved:
        return False
    return bool(address.is_global)


Resolve = Callable[[str, int], Sequence[str]]


def system_resolve(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to (getaddrinfo), in the resolver's order."""
    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def resolve_push_destination(
    url: str, allow_hosts: Collection[str], resolve: Resolve = system_resolve
) -> str:
    """At delivery: resolve the URL's host once and return the address to connect to (the
    push then connects to exactly that address: no second resolution that a rebinding DNS
    server could answer differently). Every address of the name must be public unless the
    host is allowed (setting push_allow_hosts). Raises InputError."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = list(resolve(host, port))
        except OSError as exc:
            raise InputError(f"push host {host!r} does not resolve: {exc}") from None
    if not addresses:
        raise InputError(f"push host {host!r} resolves to no address")
    if host in allow_hosts:
        return addresses[0]
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        if not is_public_address(address):
            raise InputError(
                f"push host {host!r} resolves to {address}, which is not public; refused"
            )
    return addresses[0]


def check_push_destination(
    url: str, allow_hosts: Collection[str], resolve: Resolve = system_resolve
) -> None:
    """At delivery: every address the URL's host resolves to must be public (unless the host
    is allowed), so that a name pointing inside the hub's network is refused."""
    resolve_push_destination(url, allow_hosts, resolve)


def requeue_pending(
    store: MailboxPort, transport: Transport, now: datetime, importers: Iterable[str] | None = None
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
    timeout: float = 10.0  # seconds to connect, and between two reads or writes
    deadline: float = 30.0  # seconds for a whole push, connection to last byte of the answer
    max_response_bytes: int = 65536  # a longer answer is a failed push (not read further)
    workers: int = 8  # pushes in flight at once; one importer has at most one
    signature_ttl: int = 300  # `expires` of the hub's signature, after `created`
    allow_hosts: frozenset[str] = frozenset()  # non-public hosts allowed (see check_push_url)
    verify_tls: bool = True
    tls_context: ssl.SSLContext | None = None  # e.g. trusting a private CA; default: certifi

    @classmethod
    def from_settings(cls, settings: Settings) -> PushPolicy:
        """The limits set in silkgate.toml or SILKGATE_PUSH_* (silkgate.config)."""
        return cls(
            max_attempts=settings.push_max_attempts,
            backoff=settings.push_backoff_seconds,
            max_backoff=settings.push_max_backoff_seconds,
            timeout=settings.push_timeout_seconds,
            deadline=settings.push_deadline_seconds,
            max_response_bytes=settings.push_max_response_bytes,
            workers=settings.push_workers,
            allow_hosts=frozenset(settings.push_allow_hosts),
        )

    def delay(self, attempts: int) -> timedelta:
        """How long to wait after the `attempts`-th failed push."""
        exponent = min(max(attempts - 1, 0), 32)
        return timedelta(seconds=min(self.max_backoff, self.backoff * 2**exponent))


# When the next push of an envelope is due, kept in the store (its generic document table)
# so that the backoff survives a restart: a receiver that fails is not hammered again at
# every restart of the hub. An empty value: no backoff pending.
DUE_KIND = "push.due"


@dataclass
class DeliveryWorker:
    """Consumes delivery messages and pushes envelopes (see the module docstring).

    Each push resolves the receiver's name once and connects to the address it checked
    (`send_push`), has a total deadline and reads at most `policy.max_response_bytes` of the
    answer. `run_once` pushes one message after another (tests, tools); `dispatch` hands the
    messages to a thread pool, at most one push in flight per importer, so that a slow
    receiver holds one worker and never stalls the pushes to other importers."""

    store: DeliveryStore
    transport: Transport
    signing_key: Ed25519PrivateKey
    clock: Clock = system_clock
    random: Random = system_random
    policy: PushPolicy = field(default_factory=PushPolicy)
    resolve: Resolve = system_resolve
    _queues: dict[str, list[Message]] = field(default_factory=dict)  # importers in flight
    _queued: set[str] = field(default_factory=set)  # message ids queued or in flight
    _busy_lock: threading.Lock = field(default_factory=threading.Lock)
    max_queued: int = 200  # per importer; more stay unacked in the transport meanwhile

    def run_once(self, *, timeout: float = 0.0, max_messages: int = 50) -> Counter[str]:
        """Handle the messages available now (waiting up to `timeout` s for the first);
        returns how many ended in each outcome."""
        outcomes: Counter[str] = Counter()
        for message in self.transport.fetch(
            PUSH_SUBJECTS, max_messages=max_messages, timeout=timeout
        ):
            outcomes[self.handle(message)] += 1
        return outcomes

    def dispatch(
        self, pool: Executor, *, timeout: float = 0.0, max_messages: int = 50
    ) -> list[Future[Counter[str]]]:
        """Fetch the messages available now and push them on `pool`: one task per importer,
        its messages in order. Messages of an importer whose task is running are queued for
        that task (up to `max_queued`; beyond, they stay unacked and the transport hands
        them out again later), so an importer never has two pushes in flight and never
        takes a second worker. Returns the tasks started."""
        groups: dict[str, list[Message]] = {}
        for message in self.transport.fetch(
            PUSH_SUBJECTS, max_messages=max_messages, timeout=timeout
        ):
            groups.setdefault(message.subject.rsplit(".", 1)[-1], []).append(message)
        futures = []
        for importer, messages in groups.items():
            with self._busy_lock:
                fresh = [m for m in messages if m.message_id not in self._queued]
                queue = self._queues.get(importer)
                if queue is not None:
                    taken = fresh[: max(0, self.max_queued - len(queue))]
                    queue.extend(taken)
                    self._queued.update(m.message_id for m in taken)
                    continue
                self._queues[importer] = []
                self._queued.update(m.message_id for m in fresh)
            futures.append(pool.submit(self._drain, importer, fresh))
        return futures

    def _drain(self, importer: str, messages: list[Message]) -> Counter[str]:
        outcomes: Counter[str] = Counter()
        while True:
            for message in messages:
                try:
                    outcomes[self.handle(message)] += 1
                except Exception as exc:  # the pool outlives any one failure; redelivered
                    _log_failure(f"push delivery to {importer}", exc)
                finally:
                    with self._busy_lock:
                        self._queued.discard(message.message_id)
            with self._busy_lock:
                messages = self._queues.get(importer) or []
                if not messages:
                    self._queues.pop(importer, None)
                    return outcomes
                self._queues[importer] = []

    def handle(self, message: Message) -> str:
        """Push one message's envelope if due. Outcomes: ``delivered``; ``failed`` and
        ``deferred`` (left unacked, redelivered later); ``done`` (acked: nothing to push)."""
        try:
            ref = read_delivered(message.payload)
            envelope = self.store.get_envelope(ref.envelope_id)
        except (InputError, NotFoundError) as exc:
            log.warning("dropping delivery message %s: %s", message.message_id, exc)
            return self._finish(message, "", "done", backoff=False)
        endpoint = self._endpoint(envelope)
        due = self._due(envelope.id)
        if endpoint is None:
            return self._finish(message, envelope.id, "done", backoff=due is not None)
        if due is not None and self.clock() < due:
            return "deferred"
        attempts = count_attempt(self.store, envelope.id)
        if attempts is None:
            return self._finish(message, envelope.id, "done", backoff=due is not None)
        if self._push(endpoint.url, envelope, attempts):
            return self._finish(message, envelope.id, "delivered", backoff=due is not None)
        self._set_due(envelope.id, self.clock() + self.policy.delay(attempts))
        return "failed"

    def _due(self, envelope_id: str) -> datetime | None:
        raw = self.store.get_sandbox_doc(DUE_KIND, envelope_id)
        return datetime.fromisoformat(raw.decode()) if raw else None

    def _set_due(self, envelope_id: str, when: datetime | None) -> None:
        value = when.isoformat().encode() if when is not None else b""
        self.store.put_sandbox_doc(DUE_KIND, envelope_id, value)

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
            address = resolve_push_destination(url, self.policy.allow_hosts, self.resolve)
        except InputError as exc:
            log.warning("push of %s not sent (attempt %d): %s", envelope.id, attempt, exc)
            return False
        request = push_request(
            url, envelope, attempt, self.signing_key, self.clock(), self.random(16).hex(),
            self.policy.signature_ttl,
        )  # fmt: skip
        result = send_push(request, address, self.policy)
        if result.ok:
            return True
        log.info("push of %s to %s failed (attempt %d): %s", envelope.id, url, attempt,
                 result.detail)  # fmt: skip
        return False

    def _finish(self, message: Message, envelope_id: str, outcome: str, *, backoff: bool) -> str:
        self.transport.ack(message)
        if backoff:
            self._set_due(envelope_id, None)
        return outcome


# ----------------------------------------------------------------------------- the connection


@dataclass(frozen=True)
class PushResult:
    ok: bool
    status: int | None
    detail: str


def send_push(request: httpx.Request, address: str, policy: PushPolicy) -> PushResult:
    """Send `request` to `address` (already checked) with the URL's name as Host and TLS
    server name; at most `policy.deadline` seconds in all and `policy.max_response_bytes` of
    answer. Never raises for what the receiver does."""
    deadline = time.monotonic() + policy.deadline
    tls = policy.tls_context or httpx.create_ssl_context(verify=policy.verify_tls, trust_env=False)
    transport = _PinnedTransport(address, deadline, tls)
    timeout = httpx.Timeout(policy.timeout)
    try:
        with httpx.Client(
            transport=transport, timeout=timeout, follow_redirects=False, trust_env=False
        ) as client:
            response = client.send(request, stream=True)
            try:
                return _read_answer(response, policy.max_response_bytes)
            finally:
                response.close()
    except httpx.TimeoutException as exc:
        if time.monotonic() >= deadline:
            return PushResult(False, None, f"no complete answer within {policy.deadline:g} s")
        return PushResult(False, None, f"timed out: {exc}")
    except httpx.HTTPError as exc:
        return PushResult(False, None, str(exc) or type(exc).__name__)


def _read_answer(response: httpx.Response, cap: int) -> PushResult:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        return PushResult(False, response.status_code, f"answer of {declared} bytes (max {cap})")
    size = 0
    for chunk in response.iter_raw():
        size += len(chunk)
        if size > cap:
            return PushResult(False, response.status_code, f"answer over {cap} bytes")
    if response.is_success:
        return PushResult(True, response.status_code, "")
    return PushResult(False, response.status_code, f"answered {response.status_code}")


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read, write and TLS handshake waits at most until the
    push's deadline: a receiver dribbling bytes cannot hold a push longer than that."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: float) -> None:
        self._inner, self._deadline = inner, deadline

    def _left(self, timeout: float | None, error: type[Exception]) -> float:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise error("the push's deadline passed")
        return left if timeout is None else min(timeout, left)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        left = self._left(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, left),
                               self._deadline)  # fmt: skip

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _PinnedBackend(httpcore.NetworkBackend):
    """Connects to one checked address whatever host the URL names (the URL's host still
    goes into the Host header, the TLS server name and the certificate check)."""

    def __init__(self, address: str, deadline: float) -> None:
        self._address, self._deadline = address, deadline
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise httpcore.ConnectTimeout("the push's deadline passed")
        wait = left if timeout is None else min(timeout, left)
        stream = self._inner.connect_tcp(self._address, port, wait, local_address, socket_options)
        return _DeadlineStream(stream, self._deadline)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("pushes go over TCP only")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class _PinnedTransport(httpx.HTTPTransport):
    def __init__(self, address: str, deadline: float, tls: ssl.SSLContext) -> None:
        super().__init__(verify=tls, trust_env=False, retries=0)
        self._pool = httpcore.ConnectionPool(
            ssl_context=tls,
            max_connections=1,
            network_backend=_PinnedBackend(address, deadline),
        )


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
    """The worker (a dispatcher thread feeding a pool of `policy.workers` push threads) and
    the periodic purge in daemon threads (started by `silkgate serve`)."""

    store: DeliveryStore
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
        worker = DeliveryWorker(
            self.store, self.transport, self.signing_key, self.clock, policy=self.policy
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
        pool = ThreadPoolExecutor(max(1, self.policy.workers), thread_name_prefix="silkgate-push")
        try:
            while not self._stop.is_set():
                try:
                    futures = worker.dispatch(pool, timeout=self.poll)
                    if not futures:
                        continue
                    # go on fetching as soon as one push finished (a slow one holds its own
                    # worker only), but do not spin when every importer is busy
                    wait(futures, timeout=self.poll, return_when=FIRST_COMPLETED)
                except Exception as exc:  # the thread must outlive any one failure
                    if self._stop.is_set():
                        return
                    _log_failure("push delivery", exc)
                    self._stop.wait(self.poll)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

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
