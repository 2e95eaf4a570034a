"""The importer's side: its mailbox (paging and long-poll), raw sealed envelopes, receipts.

Every read of sealed bytes and every receipt goes through the envelope state machine
(silkgate.mailbox.service): bytes are served only for `pending` or `acknowledged`
envelopes (409 for held, rejected and expired ones, 404 once retention dropped the data);
a receipt is accepted only for a `pending` envelope with its data (409 otherwise).
"""

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
from silkgate.errors import InputError
from silkgate.mailbox.delivery import ENVELOPE_MEDIA_TYPE
from silkgate.mailbox.service import MailboxService
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
    return MailboxService.for_hub(state.hub).pending(caller.id, after=after, limit=limit)


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
    description="Served only while the envelope is `pending` or `acked` and still holds its "
    "data: 409 `conflict` naming the state for a held, rejected or expired envelope, 404 once "
    "retention dropped an acknowledged envelope's data. A fetch of a pending envelope counts "
    "as a delivery attempt.",
    response_class=Response,
    responses={200: {"content": {ENVELOPE_MEDIA_TYPE: {}}}},
)
def fetch_envelope(envelope_id: str, auth: Auth, state: State) -> Response:
    _envelope_for(state, auth.caller, envelope_id, "read")
    envelope = MailboxService.for_hub(state.hub).fetch(envelope_id)
    return Response(
        envelope.data,
        media_type=ENVELOPE_MEDIA_TYPE,
        headers={"ETag": f'"{envelope_digest(envelope.data).hex()}"'},
    )


def _acknowledge(auth: Authed, state: ApiState, envelope_id: str) -> Receipt:
    receipt = decode_body(auth.body, Receipt, "receipt")
    if receipt.envelope_id != envelope_id:
        raise InputError(
            f"the receipt is for envelope {receipt.envelope_id}, posted to {envelope_id}",
            path="$['envelope_id']",
        )
    _envelope_for(state, auth.caller, envelope_id, "ack")
    return MailboxService.for_hub(state.hub).acknowledge(receipt, caller=auth.caller.id)


@router.post(
    "/envelopes/{envelope_id}/receipt",
    status_code=201,
    summary="Post the importer's signed receipt; it is verified and appended to the ledger",
    description="Accepted only for a `pending` envelope that still holds its data (409 "
    "`conflict` naming the state otherwise: held, rejected, expired). Posting the same "
    "genuine receipt again answers the first one.",
    openapi_extra=json_body(Receipt),
    responses=json_reply(Receipt, 201),
)
async def post_receipt(envelope_id: str, auth: Auth, state: State) -> Response:
    stored = await run_in_threadpool(_acknowledge, auth, state, envelope_id)
    state.metrics.receipts.inc()
    return json_response(stored, 201)
