"""The registry: participants (with their public keys), agreements and filings.
Reads: operator and regulator see all, a participant its own. Writes: operator only, except
key rotation and revocation, which a participant may do for itself."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import msgspec
from fastapi import APIRouter
from fastapi.responses import Response

from silkgate.api.authz import Action, authorize, scopes, visible
from silkgate.api.deps import ApiState, Auth, State, decode_body, json_response
from silkgate.api.openapi import ERRORS, json_body, json_reply
from silkgate.api.wire import AgreementBody, FilingBody
from silkgate.errors import ConflictError, InputError, NotFoundError
from silkgate.flow.holds import HoldService
from silkgate.model import Agreement, Filing, Participant
from silkgate.products import get_product
from silkgate.registry.keys import (
    MAX_OVERLAP,
    merge_registration,
    revoke,
    rotate,
    signing_history,
)
from silkgate.seal.keys import DEFAULT_OVERLAP

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


def _check_unique(state: ApiState, participant: Participant) -> None:
    """No key of `participant` may belong to another participant's key history."""
    mine = {k.key_id for k in signing_history(participant)}
    for other in state.hub.store.list_participants():
        if other.id == participant.id:
            continue
        for key in signing_history(other):
            if key.key_id in mine:
                raise ConflictError(
                    f"signing key {key.key_id} is already registered to {other.id}; "
                    "every participant needs its own key"
                )


def _existing(state: ApiState, participant_id: str) -> Participant | None:
    try:
        return state.hub.store.get_participant(participant_id)
    except NotFoundError:
        return None


@router.post(
    "/participants",
    status_code=201,
    summary="Register or update a participant (operator)",
    openapi_extra=json_body(Participant),
    responses=json_reply(Participant, 201),
)
def put_participant(auth: Auth, state: State) -> Response:
    scopes(auth.caller, "participants.write")
    posted = decode_body(auth.body, Participant, "participant")
    _check_id(posted.id, "id")
    if not posted.roles:
        raise InputError("a participant needs at least one role", path="$['roles']")
    with state.hub.store.transaction():
        existing = _existing(state, posted.id)
        participant = merge_registration(existing, posted, state.clock())
        _check_unique(state, participant)
        state.hub.store.put_participant(participant)
    return json_response(participant, 201)


class KeysBody(msgspec.Struct, frozen=True, kw_only=True):
    """New public keys (raw, base64 in JSON); the previous ones stay valid `overlap_days`."""

    signing_key: bytes
    hpke_key: bytes
    overlap_days: float = DEFAULT_OVERLAP.days


def _own_participant(auth: Auth, state: State, participant_id: str, action: Action) -> Participant:
    scopes(auth.caller, action)
    try:
        participant = state.hub.store.get_participant(participant_id)
    except NotFoundError:
        raise NotFoundError(f"participant {participant_id!r} is not registered") from None
    authorize(auth.caller, action, participant, what="participant", obj_id=participant_id)
    return participant


@router.post(
    "/participants/{participant_id}/keys",
    summary="Register rotated keys (the participant itself, or the operator)",
    openapi_extra=json_body(KeysBody),
    responses=json_reply(Participant),
)
def rotate_keys(participant_id: str, auth: Auth, state: State) -> Response:
    body = decode_body(auth.body, KeysBody, "keys")
    if not 0 <= body.overlap_days <= MAX_OVERLAP.days:
        raise InputError(f"overlap_days must be 0 to {MAX_OVERLAP.days}", path="$['overlap_days']")
    with state.hub.store.transaction():
        participant = _own_participant(auth, state, participant_id, "participants.keys")
        overlap = timedelta(days=body.overlap_days)
        rotated = rotate(participant, body.signing_key, body.hpke_key, state.clock(), overlap)
        _check_unique(state, rotated)
        state.hub.store.put_participant(rotated)
    return json_response(rotated)


@router.post(
    "/participants/{participant_id}/keys/{key_id}/revoke",
    summary="Revoke one of a participant's keys (the participant itself, or the operator)",
    responses=json_reply(Participant),
)
def revoke_key(participant_id: str, key_id: str, auth: Auth, state: State) -> Response:
    with state.hub.store.transaction():
        participant = _own_participant(auth, state, participant_id, "participants.revoke_key")
        revoked = revoke(participant, key_id, state.clock())
        state.hub.store.put_participant(revoked)
    return json_response(revoked)


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
    HoldService.for_hub(state.hub).record_filing(filing)  # may release what it covers
    return json_response(filing, 201)


def _today(state: ApiState) -> date:
    return state.clock().date()
