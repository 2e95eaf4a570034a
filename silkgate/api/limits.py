"""Limits at the edge, before any work: an ASGI middleware in front of the whole app.

For every request, in this order, before routing, parsing or signature verification:

1. per-client-address rate limit (token bucket; 429 with ``Retry-After``);
2. query integers: a query value that is an integer must fit in a signed 64-bit integer;
3. the body, read as a stream with a hard cap: a declared ``Content-Length`` over the cap is
   answered 413 without reading any of it, a streamed body as soon as it passes the cap;
4. a JSON body (first non-blank byte ``{`` or ``[``): nesting depth, string length, integers
   in 64 bits, finite numbers, array length (which bounds the records of a batch).

Every refusal is a JSON error body (``{"error": "too_large" | "input" | "rate_limited",
"message": ...}``) that names the limit and the setting that sets it; nothing is logged as a
traceback. The per-participant rate limit needs the verified caller, so it is applied by the
Authenticator (silkgate.api.auth) right after the signature verified.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import anyio.to_thread
import msgspec

from silkgate.api.errors import error_body
from silkgate.config import Settings
from silkgate.errors import SilkgateError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_INLINE_CHECK = 64 * 1024  # larger JSON bodies are checked in a worker thread
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)


class RateLimited(SilkgateError):
    """Too many requests from one client address or participant; retry after `retry_after`
    seconds (answered 429 with a ``Retry-After`` header)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class LimitError(SilkgateError):
    """A request exceeds a size limit (answered with `status`: 413 or 422)."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = 32 * 1024 * 1024
    max_json_depth: int = 64
    max_string_length: int = 1024 * 1024
    max_array_items: int = 100_000
    max_batch_records: int = 10_000
    rate_ip_per_second: float = 0.0  # 0: no limit
    rate_ip_burst: int = 0
    rate_participant_per_second: float = 0.0
    rate_participant_burst: int = 0

    @classmethod
    def from_settings(cls, s: Settings) -> Limits:
        return cls(
            max_body_bytes=s.max_body_bytes,
            max_json_depth=s.max_json_depth,
            max_string_length=s.max_string_length,
            max_array_items=s.max_array_items,
            max_batch_records=s.max_batch_records,
            rate_ip_per_second=s.rate_limit_ip_per_second,
            rate_ip_burst=s.rate_limit_ip_burst,
            rate_participant_per_second=s.rate_limit_participant_per_second,
            rate_participant_burst=s.rate_limit_participant_burst,
        )


# ----------------------------------------------------------------------------- rate limits


class RateLimiter:
    """Token buckets keyed by client address or participant: `rate` tokens per second up to
    `burst`; one token per request. Real (monotonic) time, never the hub's clock. At most
    `max_keys` buckets are kept (least recently used dropped), so a flood of addresses
    cannot grow memory without bound."""

    def __init__(
        self,
        rate: float,
        burst: int,
        what: str,
        setting: str,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.rate, self.burst, self.what, self.setting = rate, max(burst, 1), what, setting
        self._monotonic, self._max_keys = monotonic, max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def take(self, key: str) -> None:
        """Spend one token of `key`'s bucket, or raise RateLimited."""
        if not self.enabled:
            return
        now = self._monotonic()
        with self._lock:
            tokens, last = self._buckets.pop(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                wait = max(1, math.ceil((1.0 - tokens) / self.rate))
                raise RateLimited(
                    f"too many requests from {self.what} {key}: at most {self.rate:g}/s "
                    f"(burst {self.burst}, setting {self.setting}); retry after {wait} s",
                    wait,
                )
            self._buckets[key] = (tokens - 1.0, now)
            while len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)


def participant_rate_limiter(settings: Settings) -> RateLimiter:
    """The per-participant limit, charged once a request's signature verified."""
    return RateLimiter(
        settings.rate_limit_participant_per_second,
        settings.rate_limit_participant_burst,
        "participant",
        "rate_limit_participant_per_second",
    )


# ----------------------------------------------------------------------------- JSON shape


def check_json(body: bytes, limits: Limits) -> None:
    """Raise LimitError if a JSON body is nested too deep, holds a string or array over the
    limits, an integer outside 64 bits or a non-finite number. Bodies that are not JSON are
    left to the route (which refuses them with its own message)."""
    try:
        value = msgspec.json.decode(body)
    except RecursionError:
        raise LimitError(
            f"JSON nesting is deeper than {limits.max_json_depth} levels (setting max_json_depth)"
        ) from None
    except UnicodeDecodeError:
        raise LimitError("the JSON body is not valid UTF-8") from None
    except msgspec.ValidationError as exc:  # e.g. 1e400: "Number out of range"
        raise LimitError(
            f"a JSON number is out of range (not a finite 64-bit float): {exc}"
        ) from None
    except msgspec.DecodeError:
        return  # not JSON: the route answers 422 with the parser's message
    records = value.get("records") if isinstance(value, dict) else None
    if isinstance(records, list) and len(records) > limits.max_batch_records:
        raise LimitError(
            f"the batch holds {len(records)} records; at most {limits.max_batch_records} "
            "(setting max_batch_records); split it into several batches"
        )
    _check_value(value, limits)


def _check_value(root: Any, limits: Limits) -> None:
    stack: list[tuple[Any, int]] = [(root, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            _check_depth(depth, limits)
            for key, item in value.items():
                _check_string(key, limits)
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            _check_depth(depth, limits)
            if len(value) > limits.max_array_items:
                raise LimitError(
                    f"a JSON array holds {len(value)} items; at most {limits.max_array_items} "
                    "(setting max_array_items; split larger submissions into several batches)"
                )
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            _check_string(value, limits)
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int):
            if not INT64_MIN <= value <= INT64_MAX:
                raise LimitError(
                    f"a JSON integer has {len(str(abs(value)))} digits; integers must fit in "
                    "64 bits (-2^63 .. 2^63-1)"
                )
        elif isinstance(value, float) and not math.isfinite(value):
            raise LimitError("a JSON number is out of range (not a finite 64-bit float)")


def _check_depth(depth: int, limits: Limits) -> None:
    if depth > limits.max_json_depth:
        raise LimitError(
            f"JSON nesting is deeper than {limits.max_json_depth} levels (setting max_json_depth)"
        )


def _check_string(value: str, limits: Limits) -> None:
    if len(value) > limits.max_string_length:
        raise LimitError(
            f"a JSON string is {len(value)} characters; at most {limits.max_string_length} "
            "(setting max_string_length)"
        )


def check_query(query_string: bytes) -> None:
    """Raise LimitError if a query value is an integer outside 64 bits."""
    if not query_string:
        return
    try:
        pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    except ValueError:
        return
    for name, value in pairs:
        text = value.strip()
        digits = text[1:] if text[:1] in "+-" else text
        if digits.isdigit() and len(digits) > 18 and not INT64_MIN <= int(text) <= INT64_MAX:
            raise LimitError(
                f"query parameter {name!r} is {text[:40]}{'…' if len(text) > 40 else ''}; "
                "integers must fit in 64 bits (at most 2^63-1)"
            )


# ----------------------------------------------------------------------------- middleware


class EdgeLimits:
    """The ASGI middleware (see the module docstring)."""

    def __init__(self, app: ASGIApp, limits: Limits) -> None:
        self.app = app
        self.limits = limits
        self.per_ip = RateLimiter(
            limits.rate_ip_per_second, limits.rate_ip_burst, "address", "rate_limit_ip_per_second"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            client = scope.get("client") or ("unknown", 0)
            self.per_ip.take(str(client[0]))
            check_query(scope.get("query_string", b""))
            body = await self._read_body(scope, receive)
            if body.lstrip()[:1] in (b"{", b"["):
                if len(body) > _INLINE_CHECK:
                    await anyio.to_thread.run_sync(check_json, body, self.limits)
                else:
                    check_json(body, self.limits)
        except RateLimited as exc:
            scope["silkgate.refused"] = True
            await _answer(send, 429, "rate_limited", str(exc), exc.retry_after)
            return
        except LimitError as exc:
            scope["silkgate.refused"] = True
            kind = "too_large" if exc.status == 413 else "input"
            await _answer(send, exc.status, kind, str(exc))
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        cap = self.limits.max_body_bytes
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    raise LimitError("Content-Length is not an integer", 400) from None
                if declared > cap:
                    raise LimitError(_too_large(cap, f"Content-Length is {declared}"), 413)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away; the app sees an empty body
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > cap:
                raise LimitError(_too_large(cap, f"the body passed {cap} bytes"), 413)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def _too_large(cap: int, what: str) -> str:
    return (
        f"request body too large: {what}; the limit is {cap} bytes (setting max_body_bytes); "
        "split larger submissions into several batches"
    )


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # http.disconnect, once the client goes away

    return replay


async def _answer(
    send: Send, status: int, kind: str, message: str, retry_after: int | None = None
) -> None:
    body = error_body(kind, message)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    if status == 413:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
