"""RFC 9421 refusals over HTTP: each is a 401 with an error body, and nothing is done."""

from __future__ import annotations

from datetime import timedelta

import httpx
import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from api.cast import BASE_URL, NOW, PRODUCT, PURPOSE, Env, waybill
from silkgate.api.app import create_app
from silkgate.api.replay import StoreNonces
from silkgate.errors import AuthError
from silkgate.seal.httpsig import content_digest, sign_request
from silkgate.seal.keys import create_keyring, ed25519_key_id
from silkgate.store import MemoryStore


def _body() -> bytes:
    return msgspec.json.encode(
        {"importer": "vn-importer", "product": PRODUCT, "purpose": PURPOSE, "records": [waybill(1)]}
    )


def signed(
    env: Env,
    *,
    method: str = "POST",
    path: str = "/v1/batches",
    body: bytes | None = None,
    key: Ed25519PrivateKey | None = None,
    key_id: str | None = None,
    at_offset: float = 0,
    ttl: int = 60,
    nonce: str = "n-0001",
) -> httpx.Request:
    """A request signed as cn-exporter (or with the given key / key id), `at_offset` seconds
    from the server's now."""
    content = _body() if body is None and method == "POST" else (body or b"")
    real_id, real_key = env.rings["cn-exporter"].current_signing(NOW)
    url = BASE_URL + path
    headers = {"Content-Type": "application/json"}
    headers |= sign_request(
        method,
        url,
        headers,
        content,
        key or real_key,
        key_id or real_id,
        env.clock() + timedelta(seconds=at_offset),
        nonce,
        ttl,
    )
    return httpx.Request(method, url, content=content, headers=headers)


def refused(env: Env, request: httpx.Request, reason: str) -> None:
    response = env.http.send(request)
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "auth"
    assert reason in response.json()["message"]
    # An unauthenticated caller learns nothing about who owns a key or why it is refused.
    assert "cn-exporter" not in response.json()["message"]
    assert "revoked" not in response.json()["message"]
    assert "deactivated" not in response.json()["message"]
    assert response.headers["WWW-Authenticate"].startswith("Signature")


def test_a_well_signed_request_passes(env: Env) -> None:
    assert env.http.send(signed(env)).status_code == 201


def test_unsigned_request(env: Env) -> None:
    refused(env, httpx.Request("GET", BASE_URL + "/v1/batches"), "not signed")


def test_unregistered_key(env: Env) -> None:
    stranger = create_keyring("stranger", NOW)
    key_id, key = stranger.current_signing(NOW)
    refused(env, signed(env, key=key, key_id=key_id), "unknown or unusable")
    assert env.hub.store.ledger_size() == 0


def test_wrong_key_for_a_registered_key_id(env: Env) -> None:
    impostor = Ed25519PrivateKey.generate()
    refused(env, signed(env, key=impostor), "does not verify")
    assert env.hub.store.ledger_size() == 0


def test_key_id_of_another_participant(env: Env) -> None:
    other_id = ed25519_key_id(env.rings["vn-importer"].signing[-1].public)
    refused(env, signed(env, key_id=other_id), "does not verify")


def test_stale_created(env: Env) -> None:
    refused(env, signed(env, at_offset=-(env.hub.settings.max_request_age_seconds + 5)), "stale")


def test_created_in_the_future(env: Env) -> None:
    refused(env, signed(env, at_offset=600), "future")


def test_expired(env: Env) -> None:
    request = signed(env, ttl=10)
    env.clock.advance(11)
    refused(env, request, "expired")


def test_reused_nonce(env: Env) -> None:
    first = signed(env, nonce="once")
    assert env.http.send(first).status_code == 201
    refused(env, signed(env, nonce="once"), "already used")
    size = env.hub.store.ledger_size()
    refused(env, first, "already used")  # the very same request, replayed
    assert env.hub.store.ledger_size() == size


def test_altered_body(env: Env) -> None:
    request = signed(env)
    tampered = request.content.replace(b"Secret1", b"Secret2")
    altered = httpx.Request("POST", request.url, content=tampered, headers=request.headers)
    refused(env, altered, "Content-Digest")
    assert env.hub.store.ledger_size() == 0


def test_altered_body_with_a_fresh_digest(env: Env) -> None:
    request = signed(env)
    tampered = request.content.replace(b"Secret1", b"Secret2")
    headers = dict(request.headers) | {"Content-Digest": content_digest(tampered)}
    refused(env, httpx.Request("POST", request.url, content=tampered, headers=headers), "verify")


def test_altered_target(env: Env) -> None:
    request = signed(env, method="GET", path="/v1/batches?limit=1")
    moved = httpx.Request("GET", BASE_URL + "/v1/batches?limit=2", headers=request.headers)
    refused(env, moved, "does not verify")


def test_deactivated_participant(env: Env) -> None:
    exporter = env.hub.store.get_participant("cn-exporter")
    env.hub.store.put_participant(msgspec.structs.replace(exporter, active=False))
    refused(env, signed(env), "unknown or unusable")


def test_rotated_key_stops_working_at_once(env: Env) -> None:
    replacement = create_keyring("cn-exporter", NOW)
    exporter = env.hub.store.get_participant("cn-exporter")
    env.hub.store.put_participant(
        msgspec.structs.replace(exporter, signing_key=replacement.signing[-1].public)
    )
    refused(env, signed(env), "unknown or unusable")
    assert env.client(replacement).whoami()["id"] == "cn-exporter"


def test_sdk_raises_auth_error(env: Env) -> None:
    stranger = env.client(create_keyring("stranger", NOW))
    with pytest.raises(AuthError, match="unknown or unusable"):
        stranger.list_batches()


def test_auth_failures_are_counted(env: Env) -> None:
    env.http.send(httpx.Request("GET", BASE_URL + "/v1/batches"))
    assert "silkgate_auth_failures_total 1" in env.http.get("/metrics").text


def test_store_nonces_forget_after_their_window() -> None:
    store = MemoryStore()
    nonces = StoreNonces(store, purge_interval=60)
    assert nonces.seen("a", until=10, now=0) is False
    assert nonces.seen("a", until=10, now=5) is True
    assert nonces.seen("a", until=30, now=59) is True  # expired, but not purged yet
    assert nonces.seen("a", until=90, now=60) is False  # purged at the interval: accepted
    assert nonces.seen("b", until=90, now=61) is False
    assert nonces.purge(now=200) == 2


def test_replays_are_refused_across_two_api_processes(env: Env) -> None:
    """Two apps on one data dir (two SQLite connections, as two uvicorn workers would have):
    a request accepted by one is a replay for the other."""
    other = create_app(env.hub.data_dir, clock=env.clock)
    with TestClient(other, base_url=BASE_URL) as second:
        request = signed(env, method="GET", path="/v1/whoami", nonce="shared-nonce")
        assert env.http.send(request).status_code == 200
        replayed = second.send(request)
        assert replayed.status_code == 401, replayed.text
        assert "already used" in replayed.json()["message"]
        fresh = signed(env, method="GET", path="/v1/whoami", nonce="second-first")
        assert second.send(fresh).status_code == 200
        refused(env, fresh, "already used")
