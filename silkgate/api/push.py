"""The importer's push registration: where the hub POSTs its envelopes (silkgate.mailbox.delivery).
One registration per importer, always the caller's own; pull keeps working beside it."""

from __future__ import annotations

import msgspec
from fastapi import APIRouter
from fastapi.responses import Response

from silkgate.api.authz import authorize, scopes
from silkgate.api.deps import Auth, State, decode_body, json_response
from silkgate.api.openapi import ERRORS, json_body, json_reply
from silkgate.errors import NotFoundError
from silkgate.mailbox.delivery import check_push_url, requeue_pending
from silkgate.store.base import PushEndpoint

router = APIRouter(tags=["mailbox"], responses=ERRORS)


class PushBody(msgspec.Struct, frozen=True, kw_only=True):
    """Where to push: https to a public host (other hosts only if the operator allows them)."""

    url: str


@router.post(
    "/mailbox/push",
    status_code=201,
    summary="Register (or replace) the caller's push endpoint; waiting envelopes are queued",
    openapi_extra=json_body(PushBody),
    responses=json_reply(PushEndpoint, 201),
)
def register_push(auth: Auth, state: State) -> Response:
    scopes(auth.caller, "push.write")
    body = decode_body(auth.body, PushBody, "push registration")
    now = state.clock()
    endpoint = PushEndpoint(
        importer=auth.caller.id,
        url=check_push_url(body.url, state.hub.settings.push_allow_hosts),
        created_at=now,
    )
    authorize(auth.caller, "push.write", endpoint, what="push endpoint of", obj_id=auth.caller.id)
    state.hub.store.put_push_endpoint(endpoint)
    requeue_pending(state.hub.store, state.hub.transport, now, [auth.caller.id])
    return json_response(endpoint, 201)


def _own(state: State, auth: Auth) -> PushEndpoint:
    try:
        endpoint = state.hub.store.get_push_endpoint(auth.caller.id)
    except NotFoundError:
        raise NotFoundError(
            f"{auth.caller.id} has no push endpoint; envelopes wait in the mailbox "
            "(GET /v1/mailbox), or register one with POST /v1/mailbox/push"
        ) from None
    authorize(auth.caller, "push.read", endpoint, what="push endpoint of", obj_id=auth.caller.id)
    return endpoint


@router.get(
    "/mailbox/push",
    summary="The caller's push endpoint",
    responses=json_reply(PushEndpoint),
)
def read_push(auth: Auth, state: State) -> Response:
    scopes(auth.caller, "push.read")
    return json_response(_own(state, auth))


@router.delete(
    "/mailbox/push",
    status_code=204,
    summary="Stop pushing to the caller (envelopes stay in the mailbox for pull)",
    response_class=Response,
)
def delete_push(auth: Auth, state: State) -> Response:
    scopes(auth.caller, "push.write")
    endpoint = _own(state, auth)
    state.hub.store.delete_push_endpoint(endpoint.importer)
    return Response(status_code=204)
