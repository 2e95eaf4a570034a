"""Raw signed requests for the security tests."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence

import httpx
from api.cast import BASE_URL, Env

from silkgate.api.deps import ApiState
from silkgate.seal.httpsig import DEFAULT_COMPONENTS, sign_request


def signed(
    env: Env,
    method: str,
    target: str,
    body: bytes = b"",
    *,
    who: str = "cn-exporter",
    headers: Mapping[str, str] | None = None,
    components: Sequence[str] = DEFAULT_COMPONENTS,
    nonce: str | None = None,
    signed_url: str | None = None,
) -> httpx.Request:
    """`method` `target` (raw, sent as is) with `body`, signed as `who` over `components`;
    `signed_url` signs another URL than the one sent (to forge a mismatch)."""
    key_id, key = env.rings[who].current_signing(env.clock())
    url = BASE_URL + target
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    all_headers |= sign_request(
        method, signed_url or url, all_headers, body, key, key_id, env.clock(),
        nonce or secrets.token_hex(12), 60, components=components,
    )  # fmt: skip
    return httpx.Request(method, httpx.URL(url), content=body, headers=all_headers)


def send(env: Env, request: httpx.Request) -> httpx.Response:
    response: httpx.Response = env.http.send(request)
    return response


def app_state(env: Env) -> ApiState:
    """The served app's state (metrics, authenticator)."""
    state: ApiState = getattr(env.http.app, "state").silkgate  # noqa: B009
    return state
