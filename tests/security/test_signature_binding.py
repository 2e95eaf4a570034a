"""Finding 8 of issue #11, signatures: `@target-uri` was rebuilt from the percent-decoded
path (a client encoding `:` as `%3A` got 401) and the Host was not checked, so a signature
was not bound to this hub; `Idempotency-Key` was not covered by the signature."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import httpx
import msgspec
import pytest
import requests
from api.cast import BASE_URL, PRODUCT, PURPOSE, Env, serve_cast, waybill
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from http_message_signatures import HTTPMessageSigner, HTTPSignatureKeyResolver, algorithms

from security.helpers import send, signed
from silkgate.api.auth import target_uri
from silkgate.errors import AuthError
from silkgate.seal.httpsig import DEFAULT_COMPONENTS


def _submit_body(n: int = 1) -> bytes:
    return msgspec.json.encode(
        {"importer": "vn-importer", "product": PRODUCT, "purpose": PURPOSE, "records": [waybill(n)]}
    )


def test_a_percent_encoded_colon_in_the_path_verifies(env: Env) -> None:
    response = send(env, signed(env, "GET", "/v1/batches/b_x%3Ay"))
    assert response.status_code == 404, response.text  # authenticated; no such batch
    response = send(env, signed(env, "GET", "/v1/batches?exporter=cn%3Aexporter"))
    assert response.status_code in (200, 403), response.text


def test_the_target_signed_must_be_the_target_received(env: Env) -> None:
    forged = signed(env, "GET", "/v1/batches/b_x%3Ay", signed_url=BASE_URL + "/v1/batches/b_x:y")
    assert send(env, forged).status_code == 401


def test_a_signature_made_for_another_hub_is_refused(env: Env) -> None:
    elsewhere = signed(env, "GET", "/v1/whoami", signed_url="http://other-hub.example/v1/whoami")
    response = send(env, elsewhere)
    assert response.status_code == 401
    # Sent to this hub with the other hub's Host header: refused, naming the authority.
    request = signed(env, "GET", "/v1/whoami", signed_url="http://other-hub.example/v1/whoami")
    request.headers["Host"] = "other-hub.example"
    response = send(env, request)
    assert response.status_code == 401
    assert "this hub is http://testserver" in response.json()["message"]


def test_public_url_sets_the_authority_signatures_must_name(tmp_path: Path) -> None:
    with serve_cast(tmp_path, 'public_url = "https://hub.silkgate.example"\n') as env:
        good = signed(env, "GET", "/v1/whoami",
                      signed_url="https://hub.silkgate.example/v1/whoami")  # fmt: skip
        good.headers["Host"] = "hub.silkgate.example"
        assert send(env, good).status_code == 200, send(env, good).text
        bad = signed(env, "GET", "/v1/whoami")  # signed for http://testserver
        assert send(env, bad).status_code == 401


def test_an_idempotency_key_not_covered_by_the_signature_is_refused(env: Env) -> None:
    request = signed(env, "POST", "/v1/batches", _submit_body(), headers={"Idempotency-Key": "k-1"})
    response = send(env, request)
    assert response.status_code == 401
    assert "idempotency-key" in response.json()["message"]


def test_a_swapped_idempotency_key_breaks_the_signature(env: Env) -> None:
    components = (*DEFAULT_COMPONENTS, "idempotency-key")
    request = signed(env, "POST", "/v1/batches", _submit_body(), components=components,
                     headers={"Idempotency-Key": "k-1"})  # fmt: skip
    request.headers["Idempotency-Key"] = "k-2"
    assert send(env, request).status_code == 401
    good = signed(env, "POST", "/v1/batches", _submit_body(), components=components,
                  headers={"Idempotency-Key": "k-1"})  # fmt: skip
    assert send(env, good).status_code == 201


def test_the_sdk_covers_the_idempotency_key(env: Env) -> None:
    exporter = env.clients["cn-exporter"]
    first = exporter.submit_batch("vn-importer", PRODUCT, [waybill(1)], purpose=PURPOSE,
                                  idempotency_key="order-77")  # fmt: skip
    again = exporter.submit_batch("vn-importer", PRODUCT, [waybill(1)], purpose=PURPOSE,
                                  idempotency_key="order-77")  # fmt: skip
    assert again.batch_id == first.batch_id and again.replayed


class _Keys(HTTPSignatureKeyResolver):
    def __init__(self, key: Ed25519PrivateKey) -> None:
        self.key = key

    def resolve_private_key(self, key_id: str) -> Ed25519PrivateKey:
        return self.key

    def resolve_public_key(self, key_id: str) -> object:
        return self.key.public_key()


def test_a_request_signed_by_an_independent_rfc_9421_library_verifies(env: Env) -> None:
    """http-message-signatures (not silkgate's code) signs; the hub verifies, with an
    encoded colon in the query and an Idempotency-Key covered."""
    key_id, key = env.rings["cn-exporter"].current_signing(env.clock())
    body = _submit_body(5)
    prepared = requests.Request(
        "POST", BASE_URL + "/v1/batches?note=a%3Ab", data=body,
        headers={"Content-Type": "application/json", "Idempotency-Key": "indep-1"},
    ).prepare()  # fmt: skip
    signer = HTTPMessageSigner(signature_algorithm=algorithms.ED25519, key_resolver=_Keys(key))
    signer.sign(
        prepared, key_id=key_id, created=env.clock(), expires=env.clock() + timedelta(minutes=1),
        nonce=secrets.token_hex(8), body=body,
        covered_component_ids=("@method", "@target-uri", "content-digest", "idempotency-key"),
    )  # fmt: skip
    request = httpx.Request("POST", str(prepared.url), content=body, headers=dict(prepared.headers))
    response = send(env, request)
    assert response.status_code == 201, response.text
    assert response.json()["exporter"] == "cn-exporter"


def test_target_uri_uses_the_bound_address_and_accepts_localhost_on_loopback() -> None:
    scope = {"scheme": "http", "server": ("127.0.0.1", 8420), "raw_path": b"/v1/a%3Ab",
             "query_string": b"x=%3A", "headers": [(b"host", b"localhost:8420")]}  # fmt: skip
    assert target_uri(scope) == "http://localhost:8420/v1/a%3Ab?x=%3A"
    scope["headers"] = [(b"host", b"127.0.0.1:8420")]
    assert target_uri(scope) == "http://127.0.0.1:8420/v1/a%3Ab?x=%3A"
    scope["headers"] = [(b"host", b"evil.example:8420")]
    with pytest.raises(AuthError, match=r"this hub is http://127\.0\.0\.1:8420"):
        target_uri(scope)
    scope["server"] = ("10.0.0.5", 8420)
    scope["headers"] = [(b"host", b"localhost:8420")]
    with pytest.raises(AuthError):
        target_uri(scope)  # localhost is this hub only when it listens on loopback
    public = target_uri(scope | {"headers": [(b"host", b"hub.example")]}, "https://hub.example")
    assert public == "https://hub.example/v1/a%3Ab?x=%3A"
