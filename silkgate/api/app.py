"""The FastAPI application: ``create_app(data_dir)`` or ``create_app(hub=hub)``.

Every /v1 route except health, the hub's identity and ledger reads requires an RFC 9421
signature (see silkgate.api.auth); authorization is the table in silkgate.api.authz.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

import silkgate
from silkgate.api import (
    batches,
    check,
    classify_routes,
    console_routes,
    holds,
    mailbox,
    misc,
    push,
    registry,
    wire,
)
from silkgate.api import counters as counter_routes
from silkgate.api import products as product_routes
from silkgate.api.auth import Authenticator
from silkgate.api.deps import ApiState
from silkgate.api.errors import install_error_handlers
from silkgate.api.limits import (
    ASGIApp,
    EdgeLimits,
    Limits,
    Message,
    Receive,
    Scope,
    Send,
    participant_rate_limiter,
)
from silkgate.api.metrics import Metrics
from silkgate.api.openapi import PUBLIC_PATHS, install_openapi
from silkgate.api.replay import StoreNonces
from silkgate.api.static import SecurityHeaders, static_router
from silkgate.checkpointing import CheckpointPublisher, run_periodically, witness_link
from silkgate.clock import Clock
from silkgate.config import DATABASE_FILE, check_private_files
from silkgate.errors import ConfigError, LedgerVerificationError, SilkgateError, StoreError
from silkgate.hub import Hub, open_hub
from silkgate.ledger.witness import http_submit
from silkgate.logs import fields
from silkgate.mailbox.delivery import Background, PushPolicy
from silkgate.model import Agreement, BatchResult, Filing, Participant, Receipt
from silkgate.store.base import PushEndpoint

API_PREFIX = "/v1"
DOCUMENTED: list[type[Any]] = [
    wire.SubmitBody,
    BatchResult,
    wire.BatchList,
    wire.BatchReceipts,
    wire.MailboxPage,
    push.PushBody,
    PushEndpoint,
    Receipt,
    Participant,
    Agreement,
    wire.AgreementBody,
    Filing,
    wire.FilingBody,
    wire.HubIdentity,
    wire.ErrorBody,
    wire.CheckBody,
    wire.CheckResult,
    *holds.DOCUMENTED,
    *batches.DOCUMENTED,
    *counter_routes.DOCUMENTED,
    *product_routes.DOCUMENTED,
    *console_routes.DOCUMENTED,
]
DESCRIPTION = """\
The silkgate hub's HTTP API. Requests are signed with RFC 9421 HTTP Message Signatures
(Ed25519 over `@method`, `@target-uri` and `content-digest`, with `created`, `expires`,
`nonce` and `keyid`), using the key the participant registered. See docs/api.md.
"""


def create_app(
    data_dir: Path | None = None,
    *,
    hub: Hub | None = None,
    clock: Clock | None = None,
    max_request_age: int | None = None,
    background: bool = False,
) -> FastAPI:
    """Build the app over `hub`, or over the hub in `data_dir` (opened now, closed on
    shutdown). `clock` (default: the hub's) judges request freshness. `background` runs
    push delivery and retention (silkgate.mailbox.delivery.Background) while the app is up."""
    owned = hub is None
    if hub is None:
        if data_dir is None:
            raise ConfigError("create_app needs a data_dir or a hub")
        check_private_files(data_dir)  # refuse to serve from a directory others can read
        hub = open_hub(data_dir)
        try:
            verify_before_serving(hub)
        except BaseException:
            hub.close()
            raise
    clock = clock or hub.pipeline.clock
    age = max_request_age if max_request_age is not None else hub.settings.max_request_age_seconds
    state = ApiState(
        hub=hub,
        auth=Authenticator(
            hub.store,
            clock,
            max_age=age,
            nonces=StoreNonces(hub.store),
            rate=participant_rate_limiter(hub.settings),
        ),
        metrics=Metrics(),
        clock=clock,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = _background(state.hub) if background else None
        publishing = _publish_checkpoints(state.hub) if background else None
        try:
            yield
        finally:
            if publishing is not None:
                publishing.set()
            if services is not None:
                services.stop()
            if owned:
                state.hub.close()

    app = FastAPI(
        title="silkgate",
        version=silkgate.__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served from the package by silkgate.api.static (no CDN)
        redoc_url=None,
    )
    app.state.silkgate = state
    install_error_handlers(app)
    install_openapi(app, DOCUMENTED)
    _mount(app, state)
    _document_every_answer(app)
    app.add_middleware(EdgeLimits, limits=Limits.from_settings(state.hub.settings))
    app.add_middleware(RequestLog, state=state)
    app.add_middleware(SecurityHeaders)
    return app


_ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
_EDGE_ANSWERS = {
    "413": "Request body over max_body_bytes (refused before it is read)",
    "422": "Invalid input, or over a limit of docs/operations.md (JSON depth, sizes, integers)",
    "429": "Rate limit (per address or participant); see the Retry-After header",
}
_SIGNED_ANSWERS = {
    "401": "Missing, bad, stale or replayed RFC 9421 signature",
    "403": "The caller's roles or tenant do not allow this",
}


def _document_every_answer(app: FastAPI) -> None:
    """Document, on every operation, the answers any route can give: the edge limits (413,
    422, 429, silkgate.api.limits), 401 and 403 on signed routes, 404 where a path names an
    object; and /metrics as Prometheus text."""
    build = app.openapi

    def document() -> dict[str, Any]:
        doc = build()
        for path, operations in doc.get("paths", {}).items():
            for operation in operations.values():
                answers = operation.setdefault("responses", {})
                wanted = dict(_EDGE_ANSWERS)
                if path not in PUBLIC_PATHS:  # the routes anyone may call (openapi.py)
                    wanted |= _SIGNED_ANSWERS
                if "{" in path or path.startswith("/v1/ledger/"):
                    wanted["404"] = "No such object"
                for status, description in wanted.items():
                    answers.setdefault(
                        status,
                        {
                            "description": description,
                            "content": {"application/json": {"schema": _ERROR_REF}},
                        },
                    )
        metrics = doc.get("paths", {}).get("/metrics", {}).get("get", {})
        if metrics:
            metrics["responses"]["200"] = {
                "description": "Prometheus text exposition format",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            }
        return doc

    app.openapi = document  # type: ignore[method-assign]


def verify_before_serving(hub: Hub) -> None:
    """Refuse to serve a damaged database: SQLite's own page check (`PRAGMA quick_check`) on
    the default SQLite file, then the whole ledger recomputed from its entries against the
    stored nodes and the latest signed checkpoint (setting verify_on_start)."""
    if not hub.settings.verify_on_start:
        return
    database = hub.data_dir / DATABASE_FILE
    if not hub.settings.store_url and database.exists():
        try:
            with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
                found = [row[0] for row in db.execute("PRAGMA quick_check").fetchall()]
        except sqlite3.DatabaseError as exc:
            found = [str(exc)]
        if found != ["ok"]:
            raise StoreError(
                f"{database} is damaged ({'; '.join(found[:3])}); silkgate will not serve it: "
                "restore the data directory from a backup"
            )
    try:
        hub.log.verify_log()
    except (SilkgateError, sqlite3.DatabaseError) as exc:
        raise LedgerVerificationError(
            f"the ledger in {hub.data_dir} does not verify ({exc}); the database is damaged or "
            "was altered, and silkgate will not serve it: restore it from a backup"
        ) from None


def _mount(app: FastAPI, state: ApiState) -> None:
    app.include_router(misc.router, prefix=API_PREFIX)
    app.include_router(batches.router, prefix=API_PREFIX)
    app.include_router(mailbox.router, prefix=API_PREFIX)
    app.include_router(push.router, prefix=API_PREFIX)
    app.include_router(registry.router, prefix=API_PREFIX)
    app.include_router(check.router, prefix=API_PREFIX)
    app.include_router(classify_routes.router, prefix=API_PREFIX)
    app.include_router(holds.router, prefix=API_PREFIX)
    app.include_router(counter_routes.router, prefix=API_PREFIX)
    app.include_router(product_routes.router, prefix=API_PREFIX)
    app.include_router(console_routes.router, prefix=API_PREFIX)
    app.include_router(misc.metrics_router)
    _mount_ledger(app, state)
    _mount_sandbox(app)
    app.include_router(static_router())


def _mount_ledger(app: FastAPI, state: ApiState) -> None:
    from silkgate.api.ledger_routes import ledger_router

    app.include_router(ledger_router(lambda: state.hub.log), prefix=f"{API_PREFIX}/ledger")


def _mount_sandbox(app: FastAPI) -> None:
    from silkgate.api.sandbox_routes import sandbox_router

    app.include_router(sandbox_router(), prefix=f"{API_PREFIX}/sandbox")


def _background(hub: Hub) -> Background:
    services = Background(
        hub.store,
        hub.transport,
        hub.secrets.signing_key,
        retention=timedelta(days=hub.settings.envelope_retention_days),
        clock=hub.pipeline.clock,
        policy=PushPolicy.from_settings(hub.settings),
    )
    services.start()
    return services


def _publish_checkpoints(hub: Hub) -> threading.Event:
    """Sign checkpoints and collect the configured witnesses' cosignatures periodically;
    returns the event that stops it."""
    http = httpx.Client(timeout=30, follow_redirects=False)
    links = [witness_link(w.key, http_submit(w.url, http)) for w in hub.settings.witnesses]
    publisher = CheckpointPublisher(hub.log, links)
    stop = threading.Event()
    every = hub.settings.checkpoint_every_seconds
    run_periodically(publisher.lead_once, every, stop, "silkgate-checkpoints")
    return stop


_log = logging.getLogger("silkgate.http")


class RequestLog:
    """Outermost ASGI middleware: counts every request (refusals at the edge included) by
    method, route template and status, and logs one line per request."""

    def __init__(self, app: ASGIApp, state: ApiState) -> None:
        self.app, self.state = app, state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def recording(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recording)
        finally:
            method = str(scope.get("method", ""))
            if method not in HTTP_METHODS:
                method = "other"  # any token is a method to HTTP: not one label each
            route = route_label(scope)
            if route.startswith(REGISTRY_ROUTES) and method != "GET" and status < 300:
                self.state.auth.keys.invalidate()  # new keys are accepted at once
            self.state.metrics.http_requests.inc(method, route, str(status))
            ms = round((time.perf_counter() - started) * 1000, 2)
            _log.info(
                "%s %s %s",
                method,
                route,
                status,
                extra=fields(method=method, route=route, status=status, ms=ms),
            )


REGISTRY_ROUTES = f"{API_PREFIX}/participants"
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_label(scope: Scope) -> str:
    """The matched route's template (``/v1/batches/{batch_id}``, ``/docs``), never the raw
    path, so that the number of label values is bounded by the number of routes."""
    if scope.get("silkgate.refused"):
        return "refused"  # at the edge, before routing (silkgate.api.limits)
    fastapi_scope = scope.get("fastapi")
    context = (
        fastapi_scope.get("effective_route_context") if isinstance(fastapi_scope, dict) else None
    )
    path = getattr(context, "path", None)
    if isinstance(path, str):
        return path
    endpoint = scope.get("endpoint")  # plain Starlette routes: /docs, /openapi.json, /redoc
    router = getattr(scope.get("app"), "router", None)
    if endpoint is not None and router is not None:
        for route in router.routes:
            if getattr(route, "endpoint", None) is endpoint:
                return str(getattr(route, "path", "unmatched"))
    return "unmatched"
