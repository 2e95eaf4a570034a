"""What every route needs: the app's state, the authenticated caller with the raw body,
body decoding that names the offending path, and JSON responses encoded by msgspec."""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

import msgspec
from fastapi import Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from silkgate.api.auth import Authenticator, target_uri
from silkgate.api.authz import Caller
from silkgate.api.metrics import Metrics
from silkgate.classify import Classifier
from silkgate.clock import Clock
from silkgate.errors import AuthError, InputError
from silkgate.hub import Hub
from silkgate.paths import from_msgspec_path
from silkgate.products import Product

T = TypeVar("T")
MAX_BODY = 32 * 1024 * 1024  # bytes; larger submissions should be split into batches


class MailboxSignal:
    """Wakes long-polling mailbox requests when this process delivers something."""

    def __init__(self) -> None:
        self._condition: asyncio.Condition | None = None

    def _get(self) -> asyncio.Condition:
        if self._condition is None:
            self._condition = asyncio.Condition()
        return self._condition

    async def notify(self) -> None:
        condition = self._get()
        async with condition:
            condition.notify_all()

    async def wait(self, timeout: float) -> None:
        condition = self._get()
        async with condition:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(condition.wait(), timeout)


@dataclass
class ApiState:
    hub: Hub
    auth: Authenticator
    metrics: Metrics
    clock: Clock
    signal: MailboxSignal = field(default_factory=MailboxSignal)
    classifiers: dict[str, Classifier] = field(default_factory=dict)

    def classifier(self, product: Product) -> Classifier:
        """One classifier per product, built on first use (building one is not cheap)."""
        found = self.classifiers.get(product.id)
        if found is None:
            found = self.classifiers[product.id] = Classifier(product)
        return found


def get_state(request: Request) -> ApiState:
    state: ApiState = request.app.state.silkgate
    return state


State = Annotated[ApiState, Depends(get_state)]


@dataclass(frozen=True)
class Authed:
    caller: Caller
    body: bytes


async def authenticated(request: Request) -> Authed:
    """Verify the request's RFC 9421 signature; the caller is the key's participant."""
    state = get_state(request)
    body = await request.body()
    if len(body) > MAX_BODY:
        raise InputError(f"request body is {len(body)} bytes; the limit is {MAX_BODY}")
    headers = _merged_headers(request)
    try:
        url = target_uri(request.scope, state.hub.settings.public_url)
        caller = await run_in_threadpool(
            state.auth.authenticate, request.method, url, headers, body
        )
    except AuthError:
        state.metrics.auth_failures.inc()
        raise
    return Authed(caller, body)


Auth = Annotated[Authed, Depends(authenticated)]


def _merged_headers(request: Request) -> dict[str, str]:
    merged: dict[str, str] = {}
    for name, value in request.headers.items():
        merged[name] = f"{merged[name]}, {value}" if name in merged else value
    return merged


_MSGSPEC_PATH = re.compile(r" - at `(\$[^`]*)`$")


def decode_body(body: bytes, kind: type[T], what: str = "request body") -> T:
    """Decode JSON into `kind`; a mismatch is an InputError naming the record and path."""
    if not body:
        raise InputError(f"{what} is empty; send a JSON object")
    try:
        return msgspec.json.decode(body, type=kind)
    except msgspec.ValidationError as exc:
        message = str(exc)
        match = _MSGSPEC_PATH.search(message)
        path = _normalized(match.group(1)) if match else None
        detail = message[: match.start()] if match else message
        record = _record_index(path)
        raise InputError(f"{what}: {detail}", record=record, path=path) from None
    except msgspec.DecodeError as exc:
        raise InputError(f"{what} is not valid JSON: {exc}") from None
    except UnicodeDecodeError:
        raise InputError(f"{what} is not valid UTF-8") from None


def _normalized(msgspec_path: str) -> str:
    """``$.records[3].consignee`` -> ``$['records'][3]['consignee']`` (RFC 9535)."""
    return from_msgspec_path(msgspec_path)


def _record_index(path: str | None) -> int | None:
    match = re.match(r"^\$\['records'\]\[(\d+)\]", path or "")
    return int(match.group(1)) if match else None


def json_response(
    value: Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        msgspec.json.encode(value),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )
