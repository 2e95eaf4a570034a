"""HTTP routes of the ledger: checkpoint, C2SP tiles, proofs, and a tlog-witness endpoint.

A private ledger with public proofs: what witnesses and mirrors need (checkpoints, hash
tiles, hash-only proofs) is public; what an entry says (who sent to whom, purposes, counts,
reasons) is served only through `entry_gate`, which on a hub admits signed requests of
the entry's parties and of regulators (`hub_entry_gate`, the `ledger.entries` row of
silkgate.api.authz).

GET  /checkpoint                          public: the latest checkpoint note (signed on demand)
GET  /tile/<L>/<N>[.p/<W>]                public: C2SP tlog-tiles hash tiles
GET  /tile/entries/<N>[.p/<W>]            gated: entry bundles (a party of every entry)
GET  /proof/inclusion?index=&size=        public: {"index", "size", "proof": [base64, ...]}
GET  /proof/consistency?from=&to=         public: {"from", "to", "proof": [base64, ...]}
GET  /proof/bundle?index=                 gated: a proof bundle with its entry (docs/ledger.md)
POST /add-checkpoint                      tlog-witness, served by `witness_router`
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, Sequence

import msgspec
from fastapi import APIRouter, HTTPException, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from silkgate.api.authz import ALL, owns, scopes
from silkgate.api.deps import authenticated, get_state
from silkgate.errors import ForbiddenError, InputError, LedgerVerificationError, NotFoundError
from silkgate.ledger import TransparencyLog
from silkgate.ledger.leaves import Parties, ReceiptLeaf, decode_leaf, parties
from silkgate.ledger.tiles import parse_tile_path, read_tile, split_entry_bundle
from silkgate.ledger.witness import Witness, WitnessError
from silkgate.store.base import Store

# Checks that the request may read these entries ((index, entry bytes) pairs); raises.
EntryGate = Callable[[Request, Sequence[tuple[int, bytes]]], Awaitable[None]]

_TEXT = "text/plain; charset=utf-8"
_IMMUTABLE = "public, max-age=31536000, immutable"


def _b64(hashes: list[bytes]) -> list[str]:
    return [base64.b64encode(h).decode() for h in hashes]


def _not_found(exc: Exception) -> HTTPException:
    return HTTPException(status_code=404, detail=str(exc))


def entry_parties(store: Store, entry: bytes) -> Parties:
    """Who may read an entry besides regulators: the parties its leaf names (and, for a
    receipt, its batch's exporter). An entry of no known kind: regulators only."""
    try:
        leaf = decode_leaf(entry)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return Parties()
    found = parties(leaf)
    if isinstance(leaf, ReceiptLeaf):
        try:
            exporter = store.get_batch_result(leaf.batch_id).exporter
        except NotFoundError:
            exporter = ""
        found = msgspec.structs.replace(found, exporter=exporter)
    return found


async def hub_entry_gate(request: Request, entries: Sequence[tuple[int, bytes]]) -> None:
    """On a hub: a signed request (401 otherwise) by a regulator, or by a party of every
    entry asked for (403 otherwise)."""
    caller = (await authenticated(request)).caller
    fields = scopes(caller, "ledger.entries")
    if ALL in fields:
        return
    store = get_state(request).hub.store
    for index, entry in entries:
        found = await run_in_threadpool(entry_parties, store, entry)
        if not owns(caller.id, fields, found):
            raise ForbiddenError(
                f"ledger entry {index} does not concern {caller.id}: an entry's contents are "
                "served to its parties and to regulators only; checkpoints, hash tiles and "
                "/proof/inclusion are public"
            )


def ledger_router(
    get_log: Callable[[], TransparencyLog], entry_gate: EntryGate = hub_entry_gate
) -> APIRouter:
    """The ledger's routes over `get_log()`; entry contents pass `entry_gate` first."""
    router = APIRouter(tags=["ledger"])

    @router.get("/checkpoint", response_class=Response)
    def checkpoint() -> Response:
        note = get_log().checkpoint().note
        return Response(note, media_type=_TEXT, headers={"Cache-Control": "no-cache"})

    @router.get("/tile/{path:path}", response_class=Response)
    async def tile(path: str, request: Request) -> Response:
        log = get_log()
        try:
            ref = parse_tile_path("tile/" + path)
            data = await run_in_threadpool(read_tile, log.store, ref, log.size())
        except (InputError, NotFoundError) as exc:
            raise _not_found(exc) from exc
        if ref.level is None:  # entry bundle: contents
            first = ref.index * 256
            await entry_gate(request, list(enumerate(split_entry_bundle(data), first)))
        return Response(
            data, media_type="application/octet-stream", headers={"Cache-Control": _IMMUTABLE}
        )

    @router.get("/proof/inclusion")
    def inclusion(index: int = Query(ge=0), size: int = Query(ge=1)) -> dict[str, object]:
        try:
            proof = get_log().inclusion_proof(index, size)
        except NotFoundError as exc:
            raise _not_found(exc) from exc
        return {"index": index, "size": size, "proof": _b64(proof)}

    @router.get("/proof/consistency")
    def consistency(
        size1: int = Query(alias="from", ge=1), size2: int = Query(alias="to", ge=1)
    ) -> dict[str, object]:
        try:
            proof = get_log().consistency_proof(size1, size2)
        except NotFoundError as exc:
            raise _not_found(exc) from exc
        return {"from": size1, "to": size2, "proof": _b64(proof)}

    @router.get("/proof/bundle")
    async def bundle(request: Request, index: int = Query(ge=0)) -> Response:
        log = get_log()
        try:
            entry = await run_in_threadpool(log.entry, index)
        except NotFoundError as exc:
            raise _not_found(exc) from exc
        await entry_gate(request, [(index, entry)])
        made = await run_in_threadpool(log.prove, index)
        return Response(made.to_json(), media_type="application/json")

    return router


def witness_router(get_witness: Callable[[], Witness]) -> APIRouter:
    """The C2SP tlog-witness ``add-checkpoint`` endpoint of a witness."""
    router = APIRouter(tags=["witness"])

    @router.post("/add-checkpoint", response_class=Response)
    async def add_checkpoint(request: Request) -> Response:
        body = await request.body()
        try:
            lines = get_witness().add_checkpoint(body)
        except WitnessError as exc:
            return Response(exc.body, status_code=exc.status, media_type=exc.content_type)
        except LedgerVerificationError as exc:
            return Response(str(exc) + "\n", status_code=422, media_type=_TEXT)
        return Response(lines, media_type=_TEXT)

    return router
