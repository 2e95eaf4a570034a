"""The registry: participants (with their public keys), agreements and filings.
Reads: operator and regulator see all, a participant its own. Writes: operator only."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import msgspec
from fastapi import APIRouter
from fastapi.responses import Response

from silkgate.api.authz import scopes, visible
from silkgate.api.deps import ApiState, Auth, State, decode_body, json_response
from silkgate.api.openapi import ERRORS, json_body, json_reply
from silkgate.api.wire import AgreementBody, FilingBody
from silkgate.errors import ConflictError, CryptoError, InputError, NotFoundError
from silkgate.model import Agreement, Filing, Participant
from silkgate.products import get_product
from silkgate.seal.keys import ed25519_key_id, ed25519_public_from_bytes, hpke_public_from_bytes

router = APIRouter(tags=["registry"], responses=ERRORS)
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


def _check_id(value: str, field: str) -> None:
    if not _ID.match(value):
        raise InputError(
            f"{value!r} is not a valid id: 1-128 letters, digits, '.', '_', ':' or '-'",
            path=f"$['{field}']",
        )


def _party(state: ApiState, participant_id: str, role: str, field: str) -> None:
    try:
        participant = state.hub.store.get_participant(participant_id)
    except NotFoundError:
        raise NotFoundError(
            f"{field} {participant_id!r} is not registered; POST /v1/participants first"
        ) from None
    if role not in participant.roles:
        raise InputError(f"{participant_id!r} is not registered as an {role}", path=f"$['{field}']")


# -- participants ---------------------------------------------------------------------------


@router.get(
    "/participants",
    summary="Registered participants the caller may see",
    responses=json_reply(Participant, many=True),
)
def list_participants(auth: Auth, state: State) -> Response:
    return json_response(
        visible(auth.caller, "participants.list", state.hub.store.list_participants())
    )


def _check_keys(state: ApiState, participant: Participant) -> None:
    try:
        ed25519_public_from_bytes(participant.signing_key)
    except CryptoError as exc:
        raise InputError(str(exc), path="$['signing_key']") from None
    try:
        hpke_public_from_bytes(participant.hpke_key)
    except (CryptoError, ValueError) as exc:
        raise InputError(str(exc), path="$['hpke_key']") from None
    key_id = ed25519_key_id(participant.signing_key)
    for other in state.hub.store.list_participants():
        if other.id != participant.id and other.signing_key == participant.signing_key:
            raise ConflictError(
                f"signing key {key_id} is already registered to {other.id}; "
                "every participant needs its own key"
            )


@router.post(
    "/participants",
    status_code=201,
    summary="Register or update a participant (operator)",
    openapi_extra=json_body(Participant),
    responses=json_reply(Participant, 201),
)
def put_participant(auth: Auth, state: State) -> Response:
    scopes(auth.caller, "participants.write")
    participant = decode_body(auth.body, Participant, "participant")
    _check_id(participant.id, "id")
    if not participant.roles:
        raise InputError("a participant needs at least one role", path="$['roles']")
    _check_keys(state, participant)
    state.hub.store.put_participant(participant)
    return json_response(participant, 201)


# -- agreements -----------------------------------------------------------------------------


@router.get(
    "/agreements",
    summary="Agreements the caller may see",
    responses=json_reply(Agreement, many=True),
)
def list_agreements(auth: Auth, state: State) -> Response:
    return json_response(visible(auth.caller, "agreements.list", state.hub.store.list_agreements()))


@router.post(
    "/agreements",
    status_code=201,
    summary="Record an agreement (operator)",
    openapi_extra=json_body(AgreementBody),
    responses=json_reply(Agreement, 201),
)
def put_agreement(auth: Auth, state: State) -> Response:
    scopes(auth.caller, "agreements.write")
    body = decode_body(auth.body, AgreementBody, "agreement")
    get_product(body.product)
    _party(state, body.exporter, "exporter", "exporter")
    _party(state, body.importer, "importer", "importer")
    fields: dict[str, Any] = msgspec.structs.asdict(body)
    fields["id"] = body.id or f"agr-{body.exporter}-{body.importer}-{body.product}-{body.purpose}"
    fields["valid_from"] = body.valid_from or _today(state)
    _check_id(fields["id"], "id")
    agreement = Agreement(**fields)
    state.hub.store.put_agreement(agreement)
    return json_response(agreement, 201)


# -- filings --------------------------------------------------------------------------------


@router.get(
    "/filings",
    summary="Filings the caller may see",
    responses=json_reply(Filing, many=True),
)
def list_filings(auth: Auth, state: State) -> Response:
    return json_response(visible(auth.caller, "filings.list", state.hub.store.list_filings()))


@router.post(
    "/filings",
    status_code=201,
    summary="Record a filing (operator)",
    openapi_extra=json_body(FilingBody),
    responses=json_reply(Filing, 201),
)
def put_filing(auth: Auth, state: State) -> Response:
    scopes(auth.caller, "filings.write")
    body = decode_body(auth.body, FilingBody, "filing")
    _party(state, body.exporter, "exporter", "exporter")
    if body.recipient is not None:
        _party(state, body.recipient, "importer", "recipient")
    fields: dict[str, Any] = msgspec.structs.asdict(body)
    fields["id"] = body.id or f"fil-{body.exporter}-{body.kind}-{body.recipient or 'any'}"
    fields["valid_from"] = body.valid_from or _today(state)
    _check_id(fields["id"], "id")
    filing = Filing(**fields)
    state.hub.store.put_filing(filing)
    return json_response(filing, 201)


def _today(state: ApiState) -> date:
    return state.clock().date()
