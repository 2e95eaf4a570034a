"""Held batches over HTTP (mounted by the app under /v1/holds; see silkgate.flow.holds).

`holds.list`: regulators see every held batch, an exporter its own (metadata only), as a
list or one by one. `holds.release` and `holds.reject` carry the regulator's signature over
the action (silkgate.flow.holds.hold_message) besides the request's.
`holds.release` and `holds.reject`: regulators. `holds.recheck`: regulators (any or every
exporter) and an exporter for its own held batches. The table is silkgate.api.authz.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from fastapi import APIRouter, Query
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from silkgate.api.authz import ALL, Caller, authorize, scopes, visible
from silkgate.api.deps import Auth, State, decode_body, json_response
from silkgate.api.openapi import BAD_APPROVAL, ERRORS, json_body, json_reply
from silkgate.flow.holds import HeldBatch, HoldAction, HoldService, RecheckReport
from silkgate.sandbox.auth import Approval


class HeldList(msgspec.Struct, frozen=True, kw_only=True):
    holds: list[HeldBatch]
    total: int | None = None  # held batches the caller may see, over every page


class DecisionBody(msgspec.Struct, frozen=True, kw_only=True):
    """Why the regulator releases or rejects (recorded in the ledger), and its Ed25519
    signature (base64) over silkgate.flow.holds.hold_message(action, envelope_id, reason,
    regulator id), made with `key_id` (default: the key that signed the request)."""

    reason: str
    signature: bytes
    key_id: str | None = None


class RecheckBody(msgspec.Struct, frozen=True, kw_only=True):
    """Which exporter's held batches to re-check: every exporter's if omitted (regulator);
    an exporter may only name itself (the default for an exporter)."""

    exporter: str | None = None


DOCUMENTED = [HeldList, HeldBatch, DecisionBody, HoldAction, RecheckBody, RecheckReport]

router = APIRouter(prefix="/holds", tags=["holds"], responses=ERRORS)


@router.get(
    "",
    summary="Held batches the caller may see (metadata only), oldest first; paged with limit "
    "and offset (all when limit is omitted)",
    responses=json_reply(HeldList),
)
def list_holds(
    auth: Auth,
    state: State,
    exporter: str | None = None,
    limit: Annotated[int | None, Query(ge=1, le=500)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    fields = scopes(auth.caller, "holds.list")
    wanted = exporter if ALL in fields else auth.caller.id
    if exporter not in (None, wanted):
        return json_response(HeldList(holds=[], total=0))
    service = HoldService.for_hub(state.hub)
    held = service.list_held(exporter=wanted, limit=limit, offset=offset)
    return json_response(
        HeldList(
            holds=visible(auth.caller, "holds.list", held),
            total=service.count_held(exporter=wanted),
        )
    )


def _approval(caller: Caller, body: DecisionBody) -> Approval:
    return Approval(by=caller.id, key_id=body.key_id or caller.key_id, signature=body.signature)


@router.get(
    "/{envelope_id}",
    summary="One held batch the caller may see (metadata only)",
    responses=json_reply(HeldBatch),
)
def show_hold(envelope_id: str, auth: Auth, state: State) -> Response:
    scopes(auth.caller, "holds.list")
    held = HoldService.for_hub(state.hub).get(envelope_id)
    authorize(auth.caller, "holds.list", held, what="held batch", obj_id=envelope_id)
    return json_response(held)


@router.post(
    "/{envelope_id}/release",
    summary="Release a held envelope for delivery (regulator)",
    openapi_extra=json_body(DecisionBody),
    responses={**BAD_APPROVAL, **json_reply(HoldAction)},
)
async def release_hold(envelope_id: str, auth: Auth, state: State) -> Response:
    scopes(auth.caller, "holds.release")
    body = decode_body(auth.body, DecisionBody, "release")
    service = HoldService.for_hub(state.hub)
    approval = _approval(auth.caller, body)
    action = await run_in_threadpool(
        service.release, envelope_id, approval=approval, reason=body.reason
    )
    await state.signal.notify()  # wake long-polling mailboxes
    return json_response(action)


@router.post(
    "/{envelope_id}/reject",
    summary="Reject a held envelope; its sealed data is dropped (regulator)",
    openapi_extra=json_body(DecisionBody),
    responses={**BAD_APPROVAL, **json_reply(HoldAction)},
)
def reject_hold(envelope_id: str, auth: Auth, state: State) -> Response:
    scopes(auth.caller, "holds.reject")
    body = decode_body(auth.body, DecisionBody, "rejection")
    service = HoldService.for_hub(state.hub)
    approval = _approval(auth.caller, body)
    return json_response(service.reject(envelope_id, approval=approval, reason=body.reason))


@router.post(
    "/recheck",
    summary="Re-decide held batches against today's filings; release those now allowed",
    openapi_extra=json_body(RecheckBody),
    responses=json_reply(RecheckReport),
)
async def recheck_holds(auth: Auth, state: State) -> Response:
    body = decode_body(auth.body, RecheckBody, "re-check") if auth.body else RecheckBody()
    exporter = _recheck_scope(auth.caller, body)
    service = HoldService.for_hub(state.hub)
    report = await run_in_threadpool(
        service.recheck, exporter=exporter, requested_by=auth.caller.id
    )
    if report.released:
        await state.signal.notify()
    return json_response(report)


def _recheck_scope(caller: Caller, body: RecheckBody) -> str | None:
    """The exporter to re-check (None = all); refuses another tenant's."""
    fields = scopes(caller, "holds.recheck")
    if ALL in fields:
        return body.exporter
    exporter = body.exporter or caller.id
    target = RecheckBody(exporter=exporter)
    authorize(caller, "holds.recheck", target, what="held batches of exporter", obj_id=exporter)
    return exporter
