"""POST /v1/check: the dry run of silkgate.policy.check over HTTP (nothing committed)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from fastapi import APIRouter
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from silkgate.api.authz import scopes
from silkgate.api.deps import ApiState, Auth, Authed, State, decode_body, json_response
from silkgate.api.openapi import ERRORS, json_body, json_reply
from silkgate.api.wire import CheckBody, CheckedRecord, CheckResult
from silkgate.errors import InputError
from silkgate.model import JURISDICTIONS, OUTCOMES, Decision
from silkgate.paths import format_path
from silkgate.policy.check import CheckOptions, check_records, record_paths
from silkgate.products import get_product

router = APIRouter(tags=["check"], responses=ERRORS)


def _options(body: CheckBody, state: ApiState) -> CheckOptions:
    for field in ("origin", "destination"):
        value: str = getattr(body, field)
        if value.upper() not in JURISDICTIONS:
            known = " ".join(JURISDICTIONS)
            raise InputError(
                f"{value!r} is not CN or an ASEAN member ({known})", path=format_path([field])
            )
    return CheckOptions(
        origin=body.origin.upper(),
        destination=body.destination.upper(),
        product=body.product,
        on=body.on or state.clock().date(),
        purpose=body.purpose,
        prior_pi=body.prior_pi,
        prior_sensitive_pi=body.prior_sensitive_pi,
        filings=tuple(body.filings),
        instrument=body.instrument,
        ciio=body.ciio,
        transit=body.transit,
        sector=body.sector,
    )


def _check(auth: Authed, state: ApiState) -> CheckResult:
    scopes(auth.caller, "check")
    body = decode_body(auth.body, CheckBody, "check request")
    product = get_product(body.product)
    if not body.records:
        raise InputError("records is empty: send at least one record", path="$['records']")
    for index, record in enumerate(body.records):
        product.validate(record, index=index)
    opts = _options(body, state)
    classified = state.classifier(product).classify_batch(body.records)
    paths = [record_paths(r) for r in body.records]
    decisions = check_records(state.hub.engine, classified, opts, paths=paths, records=body.records)
    return check_result(opts.effective_purpose, decisions)


def check_result(purpose: str, decisions: Sequence[Decision]) -> CheckResult:
    """A dry run's answer: outcome totals and each record's decision, by index."""
    outcomes: Counter[str] = Counter(d.outcome for d in decisions)
    return CheckResult(
        purpose=purpose,
        outcomes={o: outcomes.get(o, 0) for o in OUTCOMES},
        decisions=[CheckedRecord(index=i, decision=d) for i, d in enumerate(decisions)],
    )


@router.post(
    "/check",
    summary="Dry run: the decision each record would get (nothing committed)",
    openapi_extra=json_body(CheckBody),
    responses=json_reply(CheckResult),
)
async def check(auth: Auth, state: State) -> Response:
    return json_response(await run_in_threadpool(_check, auth, state))
