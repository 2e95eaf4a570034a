"""The importer's side: its mailbox (paging and long-poll), raw sealed envelopes, receipts."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from silkgate.api.authz import Caller, authorize, scopes
from silkgate.api.deps import ApiState, Auth, Authed, State, decode_body, json_response
from silkgate.api.openapi import ERRORS, json_body, json_reply
from silkgate.api.wire import EnvelopeInfo, MailboxPage
from silkgate.errors import ConflictError, InputError, NotFoundError
from silkgate.mailbox.delivery import ENVELOPE_MEDIA_TYPE
from silkgate.model import Receipt
from silkgate.seal.envelope import envelope_digest
from silkgate.store.base import StoredEnvelope

router = APIRouter(tags=["mailbox"], responses=ERRORS)
MAX_WAIT = 30.0  # seconds a long-poll may wait


def info(envelope: StoredEnvelope, with_data: bool) -> EnvelopeInfo:
    return EnvelopeInfo(
        id=envelope.id,
        batch_id=envelope.batch_id,
        exporter=envelope.exporter,
        importer=envelope.importer,
        state=envelope.state,
        created_at=envelope.created_at,
        expires_at=envelope.expires_at,
        size=len(envelope.data),
        digest=envelope_digest(envelope.data),
        attempts=envelope.attempts,
        data=envelope.data if with_data else None,
    )


def _pending(
    state: ApiState, caller: Caller, after: str | None, limit: int
) -> list[StoredEnvelope]:
    return state.hub.store.list_envelopes(
        importer=caller.id, state="pending", after=after, limit=limit
    )


@router.get(
    "/mailbox",
    summary="The caller's pending envelopes, oldest first (long-poll: wait)",
    responses=json_reply(MailboxPage),
)
async def mailbox(
    auth: Auth,
    state: State,
    after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    wait: Annotated[float, Query(ge=0, le=MAX_WAIT)] = 0,
    data: Annotated[bool, Query(description="Include the sealed bytes (base64)")] = False,
) -> Response:
    scopes(auth.caller, "mailbox.read")
    deadline = time.monotonic() + wait
    found = await run_in_threadpool(_pending, state, auth.caller, after, limit)
    while not found and (remaining := deadline - time.monotonic()) > 0:
        # Woken at once by deliveries in this process; re-reads the store every second for
        # deliveries made by other processes sharing it.
        await state.signal.wait(min(remaining, 1.0))
        found = await run_in_threadpool(_pending, state, auth.caller, after, limit)
    page = MailboxPage(
        envelopes=[info(e, data) for e in found], next_after=found[-1].id if found else after
    )
    return json_response(page)


def _envelope_for(state: ApiState, caller: Caller, envelope_id: str, action: str) -> StoredEnvelope:
    envelope = state.hub.store.get_envelope(envelope_id)
    authorize(
        caller,
        "envelopes.read" if action == "read" else "envelopes.ack",
        envelope,
        what="envelope",
        obj_id=envelope_id,
    )
    return envelope


@router.get(
    "/envelopes/{envelope_id}",
    summary="The sealed envelope bytes (addressee only)",
    response_class=Response,
    responses={200: {"content": {ENVELOPE_MEDIA_TYPE: {}}}},
)
def fetch_envelope(envelope_id: str, auth: Auth, state: State) -> Response:
    envelope = _envelope_for(state, auth.caller, envelope_id, "read")
    if envelope.state == "held":
        raise ConflictError(
            f"envelope {envelope_id} is held until a legal step is recorded or a regulator "
            "releases it; it is not deliverable yet"
        )
    if not envelope.data:
        raise NotFoundError(f"envelope {envelope_id} has expired and its payload was purged")
    _count_attempt(state, envelope_id)
    return Response(
        envelope.data,
        media_type=ENVELOPE_MEDIA_TYPE,
        headers={"ETag": f'"{envelope_digest(envelope.data).hex()}"'},
    )


def _count_attempt(state: ApiState, envelope_id: str) -> None:
    """One more delivery attempt, unless a receipt has just acknowledged the envelope."""
    store = state.hub.store
    with store.transaction():
        current = store.get_envelope(envelope_id)
        if current.state == "pending":
            store.set_envelope_state(envelope_id, "pending", attempts=current.attempts + 1)


def _acknowledge(auth: Authed, state: ApiState, envelope_id: str) -> Receipt:
    receipt = decode_body(auth.body, Receipt, "receipt")
    if receipt.envelope_id != envelope_id:
        raise InputError(
            f"the receipt is for envelope {receipt.envelope_id}, posted to {envelope_id}",
            path="$['envelope_id']",
        )
    _envelope_for(state, auth.caller, envelope_id, "ack")
    return state.hub.pipeline.acknowledge(receipt, caller=auth.caller.id)


@router.post(
    "/envelopes/{envelope_id}/receipt",
    status_code=201,
    summary="Post the importer's signed receipt; it is verified and appended to the ledger",
    openapi_extra=json_body(Receipt),
    responses=json_reply(Receipt, 201),
)
async def post_receipt(envelope_id: str, auth: Auth, state: State) -> Response:
    stored = await run_in_threadpool(_acknowledge, auth, state, envelope_id)
    state.metrics.receipts.inc()
    return json_response(stored, 201)
