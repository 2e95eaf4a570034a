"""Health, the hub's public identity, the caller's identity, the dry-run check, metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

import silkgate
from silkgate.api.authz import scopes
from silkgate.api.deps import Auth, State, json_response
from silkgate.api.metrics import CONTENT_TYPE
from silkgate.api.openapi import json_reply
from silkgate.api.wire import HubIdentity, HubKey
from silkgate.seal.keys import ed25519_key_id, ed25519_public_bytes

router = APIRouter()
metrics_router = APIRouter()


@router.get("/health", tags=["operations"], summary="Liveness and basic state (no signature)")
def health(state: State) -> Response:
    store = state.hub.store
    return json_response(
        {
            "status": "ok",
            "version": getattr(silkgate, "__version__", "0"),
            "schema_version": store.schema_version(),
            "ledger_size": store.ledger_size(),
        }
    )


@router.get(
    "/hub",
    tags=["operations"],
    summary="The hub's public keys (no signature)",
    responses=json_reply(HubIdentity),
)
def hub_identity(state: State) -> Response:
    public = ed25519_public_bytes(state.hub.secrets.signing_key)
    keys = state.hub.envelope_public_keys()
    return json_response(
        HubIdentity(
            signing_key=public,
            key_id=ed25519_key_id(public),
            log_origin=state.hub.log.origin,
            log_key=state.hub.log.vkey,
            signing_keys=tuple(
                HubKey(key_id=k, public=ed25519_public_bytes(v)) for k, v in keys.items()
            ),
        )
    )


@router.get("/whoami", tags=["operations"], summary="The participant the request was signed as")
def whoami(auth: Auth) -> Response:
    caller = auth.caller
    body: dict[str, Any] = {
        "id": caller.id,
        "roles": list(caller.roles),
        "key_id": caller.key_id,
        "name": caller.participant.name,
        "jurisdiction": caller.participant.jurisdiction,
        "active": caller.participant.active,
    }
    return json_response(body)


@metrics_router.get("/metrics", tags=["operations"], summary="Prometheus metrics")
def metrics(state: State) -> Response:
    return Response(state.metrics.render(), media_type=CONTENT_TYPE)


def require_check(auth: Auth) -> None:
    scopes(auth.caller, "check")
