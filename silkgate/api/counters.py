"""Distinct individuals per exporter against the thresholds (GET /v1/counters): an
exporter sees its own, a regulator every exporter's (silkgate.flow.thresholds)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from silkgate.api.authz import ALL, scopes
from silkgate.api.deps import Auth, State, json_response
from silkgate.api.openapi import ERRORS, json_reply
from silkgate.errors import ForbiddenError
from silkgate.flow.thresholds import (
    WARN_AT,
    CategoryCounter,
    CounterReport,
    ExporterCounters,
    Threshold,
    hub_counter_report,
)

DOCUMENTED = [CounterReport, ExporterCounters, CategoryCounter, Threshold]

router = APIRouter(tags=["counters"], responses=ERRORS)


@router.get(
    "/counters",
    summary="Distinct individuals per exporter this year against each threshold, with a "
    "warning level (paged by exporter id with limit and offset; all when limit is omitted)",
    responses=json_reply(CounterReport),
)
def counters(
    auth: Auth,
    state: State,
    exporter: str | None = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    limit: Annotated[int | None, Query(ge=1, le=500)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    warn_at: Annotated[float, Query(gt=0, le=1)] = WARN_AT,
) -> Response:
    fields = scopes(auth.caller, "counters.read")
    if ALL not in fields:
        if exporter not in (None, auth.caller.id):
            raise ForbiddenError(
                f"{auth.caller.id} may not read the counters of {exporter}: only its own"
            )
        exporter = auth.caller.id
    hub = state.hub
    report = hub_counter_report(
        hub.store,
        hub.live_engine(),
        year or state.clock().year,
        exporter,
        limit=limit,
        offset=offset,
        warn_at=warn_at,
    )
    return json_response(report)
