"""Error translation at the HTTP boundary: every error body is
``{"error": kind, "message": ...}`` (plus ``record`` and ``path`` for input errors)."""

from __future__ import annotations

import re
from typing import Any

import msgspec
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from silkgate.errors import (
    AuthError,
    ConflictError,
    ForbiddenError,
    InputError,
    NotFoundError,
    SilkgateError,
    StoreError,
)

_STATUS: tuple[tuple[type[SilkgateError], int], ...] = (
    (InputError, 422),  # SchemaError is an InputError
    (NotFoundError, 404),
    (ConflictError, 409),
    (AuthError, 401),
    (ForbiddenError, 403),
    (StoreError, 503),  # the hub's storage failed (disk full, database locked): retry later
)
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def error_kind(exc: SilkgateError) -> str:
    """``NotFoundError`` -> ``not_found``, ``SchemaError`` -> ``schema``."""
    name = type(exc).__name__.removesuffix("Error") or "silkgate"
    return _CAMEL.sub("_", name).lower()


def status_of(exc: SilkgateError) -> int:
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return status
    return 400


def error_body(kind: str, message: str, **extra: Any) -> bytes:
    body: dict[str, Any] = {"error": kind, "message": message}
    body.update({k: v for k, v in extra.items() if v is not None})
    return msgspec.json.encode(body)


def error_response(exc: SilkgateError) -> Response:
    extra: dict[str, Any] = {}
    if isinstance(exc, InputError):
        extra = {"record": exc.record, "path": exc.path}
    headers = (
        {"WWW-Authenticate": 'Signature realm="silkgate"'} if isinstance(exc, AuthError) else None
    )
    retry_after = getattr(exc, "retry_after", None)
    status = status_of(exc)
    if isinstance(retry_after, int):  # silkgate.api.limits.RateLimited
        headers, status = {"Retry-After": str(retry_after)}, 429
    limit_status = getattr(exc, "status", None)
    if isinstance(limit_status, int) and 400 <= limit_status < 500:  # limits.LimitError
        status = limit_status
    return Response(
        error_body(error_kind(exc), str(exc), **extra),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


async def _silkgate_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SilkgateError)
    return error_response(exc)


async def _validation_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()))
    message = f"{where}: {first.get('msg', 'invalid request')}" if where else str(exc)
    return Response(error_body("input", message), status_code=422, media_type="application/json")


async def _http_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    kind = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(
        exc.status_code, "http"
    )
    return Response(
        error_body(kind, str(exc.detail)),
        status_code=exc.status_code,
        media_type="application/json",
        headers=exc.headers,
    )


async def _overflow_handler(request: Request, exc: Exception) -> Response:
    """Last line of defence behind silkgate.api.limits: input that made Python recurse too
    deep or overflow an integer is the caller's fault (422), never a 500 with a traceback."""
    what = (
        "nested too deeply"
        if isinstance(exc, RecursionError)
        else "text that is not valid UTF-8"
        if isinstance(exc, UnicodeError)
        else "a number out of range"
    )
    message = f"the request holds {what} for this hub; see the limits in docs/operations.md"
    return Response(error_body("input", message), status_code=422, media_type="application/json")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(SilkgateError, _silkgate_handler)
    app.add_exception_handler(RecursionError, _overflow_handler)
    app.add_exception_handler(OverflowError, _overflow_handler)
    app.add_exception_handler(UnicodeError, _overflow_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(StarletteHTTPException, _http_handler)
