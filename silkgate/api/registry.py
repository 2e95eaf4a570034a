"""The registry over HTTP: participants (with their public keys), agreements and filings.
Reads: operator and regulator see all, a participant its own. Writes (adding, ending an
agreement, withdrawing a filing): operator only, except
key rotation and revocation, which a participant may do for itself (silkgate/api/authz.py).
Every route authorizes, parses, calls silkgate.registry.service.RegistryService with the
key the request was signed with, and serializes; the service holds every rule."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Protocol, TypeVar
from urllib.parse import urlencode

import msgspec
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from silkgate.api.authz import Action, Caller, authorize, scopes, visible
from silkgate.api.deps import ApiState, Auth, State, decode_body, json_response
from silkgate.api.openapi import ERRORS, json_body, json_reply
from silkgate.api.wire import AgreementBody, FilingBody
from silkgate.model import Agreement, Filing, Participant
from silkgate.registry.service import (
    Actor,
    AgreementRequest,
    EndRequest,
    FilingRequest,
    RegistryService,
)
from silkgate.seal.keys import DEFAULT_OVERLAP

router = APIRouter(tags=["registry"], responses=ERRORS)

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Rows per page (1..{MAX_LIMIT})")]
After = Annotated[
    str | None,
    Query(
        description="The id of the last row of the previous page: rows with a greater id "
        "follow (rows are in order of id). A position only: it need not name a row the "
        "caller may see, or any row at all."
    ),
]
_LINK = {
    "Link": {
        "description": 'RFC 8288 `<...>; rel="next"`: the next page (the same query with '
        "`after` = the last id of this page), present only while more rows remain",
        "schema": {"type": "string"},
    }
}


def _paged_reply(kind: type[Any]) -> dict[int | str, Any]:
    responses = json_reply(kind, many=True)
    responses[200]["headers"] = _LINK
    return responses


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


_PAGED = (
    "In order of id, paged: `limit` rows after the id `after`; a `Link` header with "
    '`rel="next"` names the next page while more remain.'
)


Row = TypeVar("Row", bound=_Identified)


def _visible_page(
    read: Callable[[str | None, int], list[Row]],
    caller: Caller,
    action: Action,
    after: str | None,
    limit: int,
) -> tuple[list[Row], bool]:
    """The first `limit` rows the caller may see with an id greater than `after`, in order of
    id, and whether more remain. `read(after, n)` is the store's page of n rows after an id:
    the store is read a page at a time, never whole, and a page short of rows the caller may
    see is topped up from the next. The cursor is compared, never looked up, so it reveals
    nothing about the rows the caller may not see."""
    shown: list[Row] = []
    cursor = after
    while True:
        rows = read(cursor, limit + 1)
        shown += visible(caller, action, rows)
        if len(shown) > limit or len(rows) <= limit:
            return shown[:limit], len(shown) > limit
        cursor = rows[-1].id


def _page(request: Request, page: Sequence[_Identified], more: bool, limit: int) -> Response:
    """`page` as the response, with a `Link: rel="next"` header if `more` rows remain."""
    headers: dict[str, str] = {}
    if more:
        query = [
            (k, v) for k, v in request.query_params.multi_items() if k not in ("after", "limit")
        ]
        query += [("limit", str(limit)), ("after", page[-1].id)]
        target = request.scope.get("raw_path") or request.url.path.encode("utf-8")
        headers["Link"] = f'<{target.decode("latin-1")}?{urlencode(query)}>; rel="next"'
    return json_response(page, headers=headers)


def _service(state: ApiState) -> RegistryService:
    return RegistryService.for_hub(state.hub, clock=state.clock)


def _actor(auth: Auth) -> Actor:
    return Actor.signed(auth.caller.id, auth.caller.key_id)


def _inline_body(kind: type[Any]) -> dict[str, Any]:
    """`openapi_extra` for a flat body Struct of this module, its schema inline (it is not
    among the app's documented components)."""
    schema = msgspec.json.schema_components((kind,))[1][kind.__name__]
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


# -- participants ---------------------------------------------------------------------------


@router.get(
    "/participants",
    summary="Registered participants the caller may see",
    description=_PAGED,
    responses=_paged_reply(Participant),
)
def list_participants(
    request: Request,
    auth: Auth,
    state: State,
    limit: Limit = DEFAULT_LIMIT,
    after: After = None,
) -> Response:
    participants = _service(state).participants
    page, more = _visible_page(
        lambda cursor, n: participants(after=cursor, limit=n),
        auth.caller, "participants.list", after, limit,
    )  # fmt: skip
    return _page(request, page, more, limit)


def _own(auth: Auth, fields: frozenset[str], field: str, wanted: str | None) -> str | None:
    """The store filter on `field`: the caller's own id when those are the only rows it
    may see and it named no one (an exporter's agreements: not every row, then `visible`);
    else what it asked for. `visible` still decides what is shown."""
    return auth.caller.id if wanted is None and fields == {field} else wanted


@router.post(
    "/participants",
    status_code=201,
    summary="Register a new participant (operator)",
    openapi_extra=json_body(Participant),
    responses=json_reply(Participant, 201),
)
def put_participant(auth: Auth, state: State) -> Response:
    scopes(auth.caller, "participants.write")
    fields = decode_body(auth.body, dict[str, Any], "participant")
    return json_response(_service(state).add_participant(fields, _actor(auth)), 201)


class ParticipantChanges(msgspec.Struct, kw_only=True):
    """The fields of a registration to change, all optional; never the id or the keys
    (keys change by rotation). Checked by the rules of a registration."""

    name: str | None = None
    jurisdiction: str | None = None
    roles: list[str] | None = None
    ciio: bool | None = None
    sector: str | None = None
    active: bool | None = None  # False: authenticates nothing, takes part in no transfer
    free_trade_zone: str | None = None  # '' = none
    corporate_group: str | None = None  # '' = none
    enterprise_size: str | None = None  # one of model.ENTERPRISE_SIZES
    foreign_authority: bool | None = None


@router.patch(
    "/participants/{participant_id}",
    summary="Change a participant's registration, never its id or keys (operator)",
    openapi_extra=_inline_body(ParticipantChanges),
    responses=json_reply(Participant),
)
def update_participant(participant_id: str, auth: Auth, state: State) -> Response:
    scopes(auth.caller, "participants.write")
    changes = decode_body(auth.body, dict[str, Any], "participant")
    return json_response(_service(state).update_participant(participant_id, changes, _actor(auth)))


class KeysBody(msgspec.Struct, frozen=True, kw_only=True):
    """New public keys (raw, base64 in JSON); the previous ones stay valid `overlap_days`."""

    signing_key: bytes
    hpke_key: bytes
    overlap_days: float = DEFAULT_OVERLAP.days


def _authorize_keys(
    auth: Auth, service: RegistryService, participant_id: str, action: Action
) -> None:
    scopes(auth.caller, action)
    participant = service.participant(participant_id)
    authorize(auth.caller, action, participant, what="participant", obj_id=participant_id)


@router.post(
    "/participants/{participant_id}/keys",
    summary="Register rotated keys (the participant's current key, or the operator)",
    openapi_extra=_inline_body(KeysBody),
    responses=json_reply(Participant),
)
def rotate_keys(participant_id: str, auth: Auth, state: State) -> Response:
    body = decode_body(auth.body, KeysBody, "keys")
    service = _service(state)
    _authorize_keys(auth, service, participant_id, "participants.keys")
    rotated = service.rotate_keys(
        participant_id, body.signing_key, body.hpke_key, body.overlap_days, _actor(auth)
    )
    return json_response(rotated)


@router.post(
    "/participants/{participant_id}/keys/{key_id}/revoke",
    summary="Revoke one of a participant's keys (its current key, or the operator)",
    responses=json_reply(Participant),
)
def revoke_key(participant_id: str, key_id: str, auth: Auth, state: State) -> Response:
    service = _service(state)
    _authorize_keys(auth, service, participant_id, "participants.revoke_key")
    return json_response(service.revoke_key(participant_id, key_id, _actor(auth)))


# -- agreements -----------------------------------------------------------------------------


@router.get(
    "/agreements",
    summary="Agreements the caller may see",
    description=_PAGED + " `exporter` and `importer` narrow the list to one party's "
    "agreements (within what the caller may see).",
    responses=_paged_reply(Agreement),
)
def list_agreements(
    request: Request,
    auth: Auth,
    state: State,
    limit: Limit = DEFAULT_LIMIT,
    after: After = None,
    exporter: str | None = None,
    importer: str | None = None,
) -> Response:
    fields = scopes(auth.caller, "agreements.list")
    agreements = _service(state).agreements
    exporter = _own(auth, fields, "exporter", exporter)
    importer = _own(auth, fields, "importer", importer)
    page, more = _visible_page(
        lambda cursor, n: agreements(exporter=exporter, importer=importer, after=cursor, limit=n),
        auth.caller, "agreements.list", after, limit,
    )  # fmt: skip
    return _page(request, page, more, limit)


@router.post(
    "/agreements",
    status_code=201,
    summary="Record an agreement (operator)",
    openapi_extra=json_body(AgreementBody),
    responses=json_reply(Agreement, 201),
)
def put_agreement(auth: Auth, state: State) -> Response:
    scopes(auth.caller, "agreements.write")
    request = decode_body(auth.body, AgreementRequest, "agreement")
    return json_response(_service(state).add_agreement(request, _actor(auth)), 201)


@router.post(
    "/agreements/{agreement_id}/end",
    summary="End an agreement: its last day in force (operator)",
    description="`on` (YYYY-MM-DD, default today on the hub's clock) becomes the agreement's "
    "`valid_until`, the last day it is in force; never later than it already ends. A "
    "`reason` is required (the hub logs it with the caller). The same day again changes "
    "nothing.",
    openapi_extra=_inline_body(EndRequest),
    responses=json_reply(Agreement),
)
def end_agreement(agreement_id: str, auth: Auth, state: State) -> Response:
    scopes(auth.caller, "agreements.write")
    body = decode_body(auth.body, EndRequest, "end")
    ended = _service(state).end_agreement(agreement_id, body.on, body.reason, _actor(auth))
    return json_response(ended)


# -- filings --------------------------------------------------------------------------------


@router.get(
    "/filings",
    summary="Filings the caller may see",
    description=_PAGED + " `exporter` narrows the list to one exporter's filings (within "
    "what the caller may see).",
    responses=_paged_reply(Filing),
)
def list_filings(
    request: Request,
    auth: Auth,
    state: State,
    limit: Limit = DEFAULT_LIMIT,
    after: After = None,
    exporter: str | None = None,
) -> Response:
    fields = scopes(auth.caller, "filings.list")
    filings = _service(state).filings
    exporter = _own(auth, fields, "exporter", exporter)
    page, more = _visible_page(
        lambda cursor, n: filings(exporter=exporter, after=cursor, limit=n),
        auth.caller, "filings.list", after, limit,
    )  # fmt: skip
    return _page(request, page, more, limit)


@router.post(
    "/filings",
    status_code=201,
    summary="Record a filing (operator); re-checks the exporter's held batches",
    openapi_extra=json_body(FilingBody),
    responses=json_reply(Filing, 201),
)
def put_filing(auth: Auth, state: State) -> Response:
    scopes(auth.caller, "filings.write")
    request = decode_body(auth.body, FilingRequest, "filing")
    return json_response(_service(state).add_filing(request, _actor(auth)).filing, 201)


@router.post(
    "/filings/{filing_id}/withdraw",
    summary="Withdraw a filing: its last valid day (operator)",
    description="`on` (YYYY-MM-DD, default today on the hub's clock) becomes the filing's "
    "`valid_until`, the last day it covers; never later than its last valid day already is. "
    "A `reason` is required (the hub logs it with the caller). The same day again changes "
    "nothing. Held batches are not re-checked: a withdrawal only takes coverage away.",
    openapi_extra=_inline_body(EndRequest),
    responses=json_reply(Filing),
)
def withdraw_filing(filing_id: str, auth: Auth, state: State) -> Response:
    scopes(auth.caller, "filings.write")
    body = decode_body(auth.body, EndRequest, "withdrawal")
    withdrawn = _service(state).withdraw_filing(filing_id, body.on, body.reason, _actor(auth))
    return json_response(withdrawn)
