"""HTTP routes of the ledger: checkpoint, C2SP tiles, proofs, and a tlog-witness endpoint.

GET  /checkpoint                          the latest checkpoint note (signed on demand)
GET  /tile/<L>/<N>[.p/<W>]                C2SP tlog-tiles hash tiles
GET  /tile/entries/<N>[.p/<W>]            entry bundles
GET  /proof/inclusion?index=&size=        {"index", "size", "proof": [base64, ...]}
GET  /proof/consistency?from=&to=         {"from", "to", "proof": [base64, ...]}
GET  /proof/bundle?index=                 a proof bundle (docs/ledger.md)
POST /add-checkpoint                      tlog-witness, served by `witness_router`
"""

from __future__ import annotations

import base64
from collections.abc import Callable

from fastapi import APIRouter, HTTPException, Query, Request, Response

from silkgate.errors import InputError, LedgerVerificationError, NotFoundError
from silkgate.ledger import TransparencyLog
from silkgate.ledger.tiles import parse_tile_path, read_tile
from silkgate.ledger.witness import Witness, WitnessError

_TEXT = "text/plain; charset=utf-8"
_IMMUTABLE = "public, max-age=31536000, immutable"


def _b64(hashes: list[bytes]) -> list[str]:
    return [base64.b64encode(h).decode() for h in hashes]


def _not_found(exc: Exception) -> HTTPException:
    return HTTPException(status_code=404, detail=str(exc))


def ledger_router(get_log: Callable[[], TransparencyLog]) -> APIRouter:
    router = APIRouter(tags=["ledger"])

    @router.get("/checkpoint", response_class=Response)
    def checkpoint() -> Response:
        note = get_log().checkpoint().note
        return Response(note, media_type=_TEXT, headers={"Cache-Control": "no-cache"})

    @router.get("/tile/{path:path}", response_class=Response)
    def tile(path: str) -> Response:
        log = get_log()
        try:
            ref = parse_tile_path("tile/" + path)
            data = read_tile(log.store, ref, log.size())
        except (InputError, NotFoundError) as exc:
            raise _not_found(exc) from exc
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
    def bundle(index: int = Query(ge=0)) -> Response:
        try:
            text = get_log().prove(index).to_json()
        except NotFoundError as exc:
            raise _not_found(exc) from exc
        return Response(text, media_type="application/json")

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
