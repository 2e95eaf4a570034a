"""NATS JetStream Transport: the work and notification bus shared by every hub process.

One work-queue stream (retention ``workqueue``) holds every subject under a prefix
(``silkgate.>`` by default): the transport's subject ``deliver.vn`` is the NATS subject
``silkgate.deliver.vn``. ``publish`` sets ``Nats-Msg-Id`` to the message id, so the
stream drops a republished id inside its duplicate window (the outbox is published after
its batch commits, and published again after a crash: the copy is dropped). ``fetch`` pulls
from a durable pull consumer named after the subject pattern: every process fetching the
same pattern shares one consumer, so each message goes to one of them; a message not acked
within ``ack_wait`` is redelivered with its delivery count raised. Acks are synchronous (the
server has the ack when ``ack`` returns). A work queue allows one consumer per subject, so
patterns fetched from one stream must not overlap (``deliver.>`` and ``deliver.vn`` may not
both be used); the server's refusal becomes a TransportError.

nats-py is asyncio; this adapter runs its own event loop in a daemon thread and offers the
synchronous Transport protocol on top. Reconnection after a server restart is the
client's: calls made while the server is away fail with TransportError, and the caller
retries (the outbox keeps what was not published).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import threading
import time
from collections.abc import Coroutine
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit, urlunsplit

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import api
from nats.js.errors import NotFoundError as JsNotFound

from silkgate.errors import ConfigError, TransportError
from silkgate.transport.base import Message
from silkgate.transport.inproc import check_subject

T = TypeVar("T")
MSG_ID = "Nats-Msg-Id"
_CALL_TIMEOUT = 10.0  # seconds for one publish, ack or management call
_PULL_GRACE = 5.0  # seconds a pull may take beyond its own expiry (else: server gone)
_STATUS_NO_MESSAGES = {"404", "408", "409"}  # no messages / request expired / limits


class JetStreamTransport:
    def __init__(
        self,
        url: str = "nats://127.0.0.1:4222",
        *,
        stream: str = "SILKGATE",
        prefix: str = "silkgate",
        ack_wait: float = 30.0,
        dedupe_window: float = 120.0,
        connect_timeout: float = 10.0,
    ) -> None:
        """Connect to the server(s) at `url` (comma-separated for a cluster) and make sure
        the work-queue `stream` over ``<prefix>.>`` exists."""
        if ack_wait <= 0 or dedupe_window <= 0:
            raise TransportError("ack_wait and dedupe_window must be > 0")
        check_subject(prefix, wildcard_ok=False)
        self.url, self.stream, self.prefix = url, stream, prefix
        self._ack_wait, self._window = ack_wait, dedupe_window
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="silkgate-nats", daemon=True
        )
        self._thread.start()
        self._consumers: dict[str, _Consumer] = {}
        # message id -> (when fetched, the delivery to ack); older than a few ack waits is
        # dropped: the server has redelivered it by then, and acking it would be moot.
        self._unacked: dict[str, tuple[float, Msg]] = {}
        self._closed = False
        try:
            self._nc: Client = self._call(self._connect(connect_timeout), connect_timeout + 1)
            self._call(self._ensure_stream())
        except BaseException:
            self._stop_loop()
            raise

    # -- the Transport protocol --------------------------------------------------------
    def publish(self, subject: str, message_id: str, payload: bytes) -> bool:
        check_subject(subject, wildcard_ok=False)
        self._check_open()
        ack = self._call(
            self._nc.jetstream().publish(
                f"{self.prefix}.{subject}",
                payload,
                stream=self.stream,
                headers={MSG_ID: message_id},
                timeout=_CALL_TIMEOUT,
            )
        )
        return not ack.duplicate

    def fetch(
        self, subject: str, *, max_messages: int = 100, timeout: float = 0.0
    ) -> list[Message]:
        check_subject(subject, wildcard_ok=True)
        if max_messages < 1:
            raise TransportError(f"max_messages must be at least 1, got {max_messages}")
        self._check_open()
        wait = max(timeout, 0.0)
        got: list[Msg] = self._call(self._fetch(subject, max_messages, wait), wait + _CALL_TIMEOUT)
        now = time.monotonic()
        for stale in [k for k, (at, _) in self._unacked.items() if now - at > 3 * self._ack_wait]:
            self._unacked.pop(stale, None)
        out = []
        for raw in got:
            message = Message(
                subject=raw.subject.removeprefix(self.prefix + "."),
                message_id=(raw.headers or {}).get(MSG_ID, ""),
                payload=raw.data,
                delivery=raw.metadata.num_delivered,
            )
            self._unacked[message.message_id] = (now, raw)
            out.append(message)
        return out

    def ack(self, message: Message) -> None:
        """Acknowledge (the server has it on return); acking twice, or a delivery this
        process no longer holds, is harmless."""
        held = self._unacked.pop(message.message_id, None)
        if held is None:
            return
        self._check_open()
        self._call(held[1].ack_sync(timeout=_CALL_TIMEOUT))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(TransportError):
            self._call(self._nc.close(), 10.0)
        self._stop_loop()

    # -- internals ---------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise TransportError("transport is closed")

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float = _CALL_TIMEOUT) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout)
        except TransportError:
            raise
        except TimeoutError as exc:
            future.cancel()
            raise TransportError(f"NATS at {_redact(self.url)} did not answer in time") from exc
        except (nats.errors.Error, OSError) as exc:
            raise TransportError(f"NATS at {_redact(self.url)}: {exc}") from exc

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5.0)

    async def _connect(self, timeout: float) -> Client:
        return await nats.connect(
            servers=self.url.split(","),
            connect_timeout=timeout,
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.2,
            allow_reconnect=True,
            name="silkgate",
        )

    async def _ensure_stream(self) -> None:
        js = self._nc.jetstream()
        config = api.StreamConfig(
            name=self.stream,
            subjects=[f"{self.prefix}.>"],
            retention=api.RetentionPolicy.WORK_QUEUE,
            storage=api.StorageType.FILE,
            duplicate_window=self._window,
        )
        try:
            await js.stream_info(self.stream)
        except JsNotFound:
            await js.add_stream(config)

    async def _consumer(self, pattern: str) -> _Consumer:
        found = self._consumers.get(pattern)
        if found is not None:
            return found
        durable = "c" + hashlib.sha256(pattern.encode()).hexdigest()[:24]
        config = api.ConsumerConfig(
            durable_name=durable,
            filter_subject=f"{self.prefix}.{pattern}",
            ack_policy=api.AckPolicy.EXPLICIT,
            ack_wait=self._ack_wait,
            max_deliver=-1,
            max_ack_pending=20_000,
            deliver_policy=api.DeliverPolicy.ALL,
        )
        try:
            await self._nc.jetstream().add_consumer(self.stream, config)
        except nats.js.errors.BadRequestError as exc:
            raise TransportError(
                f"NATS refused a consumer for {pattern!r} on stream {self.stream}: "
                f"{exc.description}; on a work queue the subject patterns fetched must not "
                "overlap (fetch 'deliver.vn' or 'deliver.>', not both)"
            ) from exc
        inbox = self._nc.new_inbox()
        made = _Consumer(
            next_subject=f"$JS.API.CONSUMER.MSG.NEXT.{self.stream}.{durable}",
            inbox=inbox,
            sub=await self._nc.subscribe(inbox),
            lock=asyncio.Lock(),
        )
        self._consumers[pattern] = made
        return made

    async def _fetch(self, pattern: str, limit: int, timeout: float) -> list[Msg]:
        consumer = await self._consumer(pattern)
        async with consumer.lock:
            got = consumer.drain(limit)  # delivered to us after an earlier fetch returned
            if len(got) < limit:
                got += await consumer.pull(self._nc, limit - len(got), expires=None)
            if not got and timeout > 0:
                # Wait for one message (a request for one leaves nothing behind once it is
                # answered), then take what else is there without waiting.
                got = await consumer.pull(self._nc, 1, expires=timeout)
                if got and limit > 1:
                    got += await consumer.pull(self._nc, limit - 1, expires=None)
            return got


class _Consumer:
    """One durable pull consumer and the inbox its pulled messages arrive at."""

    def __init__(self, next_subject: str, inbox: str, sub: Subscription, lock: asyncio.Lock):
        self.next_subject, self.inbox, self.sub, self.lock = next_subject, inbox, sub, lock
        self.buffer: list[Msg] = []

    def drain(self, limit: int) -> list[Msg]:
        while True:
            try:
                msg = self.sub._pending_queue.get_nowait()
            except asyncio.QueueEmpty:
                break
            self.sub._pending_size -= len(msg.data)
            if not _is_status(msg):
                self.buffer.append(msg)
        taken, self.buffer = self.buffer[:limit], self.buffer[limit:]
        return taken

    async def pull(self, nc: Client, batch: int, *, expires: float | None) -> list[Msg]:
        """One pull request: without `expires` the server answers at once with what it has
        (then a 404/408 status if short); with it, it waits up to `expires` seconds."""
        request: dict[str, Any] = {"batch": batch}
        if expires is None:
            request["no_wait"] = True
            local = _PULL_GRACE
        else:
            request["expires"] = int(expires * 1e9)
            local = expires + _PULL_GRACE
        await nc.publish(self.next_subject, json.dumps(request).encode(), reply=self.inbox)
        got: list[Msg] = []
        deadline = asyncio.get_running_loop().time() + local
        while len(got) < batch:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TransportError("NATS did not answer a pull request in time")
            try:
                msg = await self.sub.next_msg(timeout=remaining)
            except nats.errors.TimeoutError:
                raise TransportError("NATS did not answer a pull request in time") from None
            if _is_status(msg):
                status = (msg.headers or {}).get("Status", "")
                if status in _STATUS_NO_MESSAGES:
                    break
                continue  # heartbeats and the like
            got.append(msg)
        return got


def _is_status(msg: Msg) -> bool:
    return not msg.data and bool(msg.headers) and "Status" in (msg.headers or {})


def _redact(url: str) -> str:
    parts = urlsplit(url.split(",")[0])
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def open_nats(url: str) -> JetStreamTransport:
    """``nats://host:port[,nats://host2:port][?stream=NAME&prefix=silkgate&ack_wait=30]``."""
    base, _, query = url.partition("?")
    options = {k: v[-1] for k, v in parse_qs(query).items()}
    unknown = set(options) - {"stream", "prefix", "ack_wait", "dedupe_window"}
    if unknown:
        raise ConfigError(f"unknown option(s) {sorted(unknown)} in transport URL {_redact(url)}")
    try:
        return JetStreamTransport(
            base,
            stream=options.get("stream", "SILKGATE"),
            prefix=options.get("prefix", "silkgate"),
            ack_wait=float(options.get("ack_wait", "30")),
            dedupe_window=float(options.get("dedupe_window", "120")),
        )
    except ValueError as exc:
        raise ConfigError(f"bad number in transport URL {_redact(url)}: {exc}") from None
