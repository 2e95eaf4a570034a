"""Batches: submit (idempotent per caller), list, read, and receipts with inclusion proofs."""

from __future__ import annotations

import logging
import re
from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, Header, Query
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from silkgate.api.authz import ALL, Caller, authorize, scopes
from silkgate.api.check import check_result
from silkgate.api.deps import ApiState, Auth, Authed, State, decode_body, json_response
from silkgate.api.openapi import ERRORS, json_body, json_reply
from silkgate.api.views import batch_view
from silkgate.api.wire import (
    BatchList,
    BatchReceipts,
    BatchSummary,
    CheckResult,
    DryRunBody,
    ReceiptWithProof,
    SubmitBody,
)
from silkgate.clock import new_id
from silkgate.errors import InputError, NotFoundError
from silkgate.flow.batch_report import BatchReport, EnvelopeState, FiredRule, hub_batch_report
from silkgate.logs import fields
from silkgate.model import Batch, BatchResult

router = APIRouter(tags=["batches"], responses=ERRORS)
DOCUMENTED = [BatchReport, FiredRule, EnvelopeState]
MAX_DRY_RUN_BATCH = 10_000
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")


def summary(result: BatchResult) -> BatchSummary:
    return BatchSummary(
        batch_id=result.batch_id,
        exporter=result.exporter,
        importer=result.importer,
        product=result.product,
        purpose=result.purpose,
        records=result.records,
        outcomes=result.outcomes,
        envelope_id=result.envelope_id,
        held_id=result.held_id,
        ledger_index=result.ledger_index,
        policy_version=result.policy_version,
        committed_at=result.committed_at,
    )


def _batch(caller: Caller, body: SubmitBody, key: str | None, state: ApiState) -> Batch:
    if not body.records:
        raise InputError("records is empty: a batch holds at least one record", path="$['records']")
    if key is not None and not _IDEMPOTENCY_KEY.match(key):
        raise InputError("Idempotency-Key must be 1 to 200 printable ASCII characters, no spaces")
    batch = Batch(
        id=new_id("b", state.hub.pipeline.random),
        exporter=body.exporter or caller.id,
        importer=body.importer,
        product=body.product,
        purpose=body.purpose,
        records=body.records,
        idempotency_key=key,
        submitted_at=state.clock(),
        transit=body.transit,
    )
    authorize(caller, "batches.submit", batch, what="a batch for exporter", obj_id=batch.exporter)
    return batch


def _submit(auth: Authed, state: ApiState, idempotency_key: str | None) -> BatchResult:
    body = decode_body(auth.body, SubmitBody)
    batch = _batch(auth.caller, body, idempotency_key, state)
    return state.hub.pipeline.submit(batch, caller=auth.caller.id)


def _dry_run(auth: Authed, state: ApiState) -> CheckResult:
    body = decode_body(auth.body, DryRunBody)
    if not 1 <= body.batch_size <= MAX_DRY_RUN_BATCH:
        raise InputError(f"batch_size must be 1 to {MAX_DRY_RUN_BATCH}", path="$['batch_size']")
    batches = [
        _batch(
            auth.caller,
            SubmitBody(
                importer=body.importer, product=body.product, purpose=body.purpose,
                records=body.records[start : start + body.batch_size], exporter=body.exporter,
                transit=body.transit,
            ),
            None,
            state,
        )
        for start in range(0, max(len(body.records), 1), body.batch_size)
    ]  # fmt: skip
    return check_result(body.purpose, [d for ds in state.hub.pipeline.check(batches) for d in ds])


@router.post(
    "/batches/check",
    summary="Dry run of a submission: what POST /v1/batches would decide now (nothing committed)",
    openapi_extra=json_body(DryRunBody),
    responses=json_reply(CheckResult),
)
async def dry_run_batch(auth: Auth, state: State) -> Response:
    return json_response(await run_in_threadpool(_dry_run, auth, state))


_log = logging.getLogger("silkgate.batches")


@router.post(
    "/batches",
    status_code=201,
    summary="Submit a batch (the caller is the exporter)",
    openapi_extra=json_body(SubmitBody),
    responses={**json_reply(BatchResult, 201), **json_reply(BatchResult, 200)},
)
async def submit_batch(
    auth: Auth,
    state: State,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Response:
    result = await run_in_threadpool(_submit, auth, state, idempotency_key)
    if result.replayed:
        return json_response(result, 200, {"Idempotent-Replayed": "true"})
    state.metrics.batches.inc()
    for outcome, count in result.outcomes.items():
        state.metrics.records.inc(outcome, amount=count)
    _log.info(
        "batch %s committed",
        result.batch_id,
        extra=fields(
            batch_id=result.batch_id,
            exporter=result.exporter,
            importer=result.importer,
            product=result.product,
            records=result.records,
            outcomes=result.outcomes,
            ledger_index=result.ledger_index,
        ),
    )
    if result.envelope_id is not None:
        await state.signal.notify()
    return json_response(result, 201)


@router.get(
    "/batches",
    summary="List batches the caller may see (newest first)",
    responses=json_reply(BatchList),
)
def list_batches(
    auth: Auth,
    state: State,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
    exporter: str | None = None,
    importer: str | None = None,
) -> Response:
    fields = scopes(auth.caller, "batches.list")
    wanted = {"exporter": exporter, "importer": importer}
    store = state.hub.store
    if ALL in fields:
        found = store.list_batch_results(
            exporter=exporter, importer=importer, limit=limit, offset=offset
        )
    else:
        merged: dict[str, BatchResult] = {}
        for owned in sorted(fields):
            if wanted[owned] not in (None, auth.caller.id):
                continue
            filters = {**wanted, owned: auth.caller.id}
            for result in store.list_batch_results(
                exporter=filters["exporter"], importer=filters["importer"], limit=offset + limit
            ):
                merged[result.batch_id] = result
        ordered = sorted(merged.values(), key=lambda r: r.committed_at, reverse=True)
        found = ordered[offset : offset + limit]
    return json_response(BatchList(batches=[summary(r) for r in found], offset=offset, limit=limit))


@router.get(
    "/batches/{batch_id}",
    summary="One batch: metadata and per-record decisions",
    responses=json_reply(BatchResult),
)
def get_batch(batch_id: str, auth: Auth, state: State) -> Response:
    result = state.hub.store.get_batch_result(batch_id)
    authorize(auth.caller, "batches.read", result, what="batch", obj_id=batch_id)
    return json_response(batch_view(auth.caller, result))


@router.get(
    "/batches/idempotency/{key}",
    summary="The caller's own batch committed under this Idempotency-Key (404 if none): "
    "lets a resumed upload skip what the hub already has",
    responses=json_reply(BatchResult),
)
def batch_by_key(key: str, auth: Auth, state: State) -> Response:
    scopes(auth.caller, "batches.submit")  # keys are scoped to the exporter that used them
    seen = state.hub.store.get_idempotency(auth.caller.id, key)
    if seen is None:
        raise NotFoundError(f"{auth.caller.id} committed no batch under idempotency key {key!r}")
    result = state.hub.store.get_batch_result(seen[1])
    return json_response(msgspec.structs.replace(result, replayed=True))


@router.get(
    "/batches/{batch_id}/report",
    summary="One batch explained: rules fired with citations, hold/deny reasons, envelope "
    "and receipt state, ledger index (a unique prefix of the id is accepted)",
    responses=json_reply(BatchReport),
)
def batch_report(batch_id: str, auth: Auth, state: State) -> Response:
    result = _resolve(batch_id, auth.caller, state)
    return json_response(hub_batch_report(state.hub, result))


def _resolve(batch_id: str, caller: Caller, state: ApiState) -> BatchResult:
    """The batch with this id, or the one visible batch whose id starts with it."""
    store = state.hub.store
    try:
        result = store.get_batch_result(batch_id)
    except NotFoundError:
        fields = scopes(caller, "batches.read")
        matches = [
            r for r in _visible_batches(store, caller, fields) if r.batch_id.startswith(batch_id)
        ]
        if len(matches) != 1:
            found = "no batch" if not matches else f"{len(matches)} batches"
            raise NotFoundError(
                f"{found} visible to {caller.id} with an id starting {batch_id!r}; "
                "give more of the id (silkgate batches list)"
            ) from None
        result = matches[0]
    authorize(caller, "batches.read", result, what="batch", obj_id=result.batch_id)
    return result


def _visible_batches(store: Any, caller: Caller, fields: frozenset[str]) -> list[BatchResult]:
    if ALL in fields:
        return list(store.list_batch_results(limit=PREFIX_SCAN))
    found: dict[str, BatchResult] = {}
    for owned in fields:
        for r in store.list_batch_results(limit=PREFIX_SCAN, **{owned: caller.id}):
            found[r.batch_id] = r
    return list(found.values())


PREFIX_SCAN = 10_000  # the newest batches searched for an id prefix


@router.get(
    "/batches/{batch_id}/receipts",
    summary="The importer's receipts for a batch, each with an inclusion proof",
    responses=json_reply(BatchReceipts),
)
def batch_receipts(batch_id: str, auth: Auth, state: State) -> Response:
    result = state.hub.store.get_batch_result(batch_id)
    authorize(auth.caller, "receipts.read", result, what="batch", obj_id=batch_id)
    log = state.hub.log
    receipts = state.hub.store.list_receipts(batch_id=batch_id)
    with_proofs = [
        ReceiptWithProof(receipt=r, proof=log.prove(r.ledger_index).to_dict())
        for r in receipts
        if r.ledger_index is not None
    ]
    batch_proof = (
        log.prove(result.ledger_index).to_dict() if result.ledger_index is not None else None
    )
    return json_response(
        BatchReceipts(
            batch_id=batch_id,
            log_origin=log.origin,
            log_key=log.vkey,
            batch_proof=batch_proof,
            receipts=with_proofs,
        )
    )
