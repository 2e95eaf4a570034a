"""The FastAPI application: ``create_app(data_dir)`` or ``create_app(hub=hub)``.

Every /v1 route except health, the hub's identity and ledger reads requires an RFC 9421
signature (see silkgate.api.auth); authorization is the table in silkgate.api.authz.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import Response

import silkgate
from silkgate.api import batches, check, classify_routes, holds, mailbox, misc, push, registry, wire
from silkgate.api import counters as counter_routes
from silkgate.api import products as product_routes
from silkgate.api.auth import Authenticator
from silkgate.api.deps import ApiState
from silkgate.api.errors import install_error_handlers
from silkgate.api.metrics import Metrics
from silkgate.api.openapi import install_openapi
from silkgate.api.replay import StoreNonces
from silkgate.checkpointing import CheckpointPublisher, run_periodically, witness_link
from silkgate.clock import Clock
from silkgate.errors import ConfigError
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
        hub = open_hub(data_dir)
    clock = clock or hub.pipeline.clock
    age = max_request_age if max_request_age is not None else hub.settings.max_request_age_seconds
    state = ApiState(
        hub=hub,
        auth=Authenticator(hub.store, clock, max_age=age, nonces=StoreNonces(hub.store)),
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
    )
    app.state.silkgate = state
    install_error_handlers(app)
    install_openapi(app, DOCUMENTED)
    _mount(app, state)
    app.middleware("http")(_count_requests)
    return app


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
    app.include_router(misc.metrics_router)
    _mount_ledger(app, state)
    _mount_sandbox(app)


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
    run_periodically(publisher.run_once, every, stop, "silkgate-checkpoints")
    return stop


_log = logging.getLogger("silkgate.http")


async def _count_requests(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    started = time.perf_counter()
    response = await call_next(request)
    state: ApiState = request.app.state.silkgate
    route = _template(request)
    state.metrics.http_requests.inc(request.method, route, str(response.status_code))
    _log.info(
        "%s %s %s",
        request.method,
        route,
        response.status_code,
        extra=fields(
            method=request.method,
            route=route,
            status=response.status_code,
            ms=round((time.perf_counter() - started) * 1000, 2),
        ),
    )
    return response


def _template(request: Request) -> str:
    """The route template (``/v1/batches/{batch_id}``): one label value per route."""
    if request.scope.get("route") is None:
        return "unmatched"
    segments = request.url.path.split("/")
    for name, value in request.scope.get("path_params", {}).items():
        segments = [f"{{{name}}}" if s == str(value) else s for s in segments]
    return "/".join(segments)
