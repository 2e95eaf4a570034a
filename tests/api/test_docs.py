"""docs/api.md is checked against the code: the authorization table is the one enforced,
and the signed request example verifies."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from silkgate.api.authz import policy_table
from silkgate.seal.httpsig import DEFAULT_COMPONENTS, signature_base, verify_request
from silkgate.seal.keys import ed25519_key_id

DOC = (Path(__file__).parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
EXAMPLE_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


def _block(lang: str, index: int = 0) -> str:
    blocks = re.findall(rf"```{lang}\n(.*?)```", DOC, flags=re.S)
    return str(blocks[index])


def _example() -> tuple[str, str, dict[str, str], bytes]:
    head, _, body = _block("http").partition("\n\n")
    request_line, *header_lines = head.splitlines()
    method, path, _ = request_line.split(" ")
    headers = dict(line.split(": ", 1) for line in header_lines)
    return method, f"https://{headers['Host']}{path}", headers, body.strip().encode()


def test_authorization_table_is_the_enforced_one() -> None:
    assert policy_table() in DOC


def test_signed_request_example_verifies() -> None:
    method, url, headers, body = _example()
    created = int(re.search(r"created=(\d+)", headers["Signature-Input"]).group(1))  # type: ignore[union-attr]

    def resolve(key_id: str) -> Ed25519PublicKey:
        assert key_id == ed25519_key_id(EXAMPLE_KEY)
        return EXAMPLE_KEY.public_key()

    now = datetime.fromtimestamp(created + 1, UTC)
    required = (*DEFAULT_COMPONENTS, "idempotency-key")  # as the hub requires with the header
    assert "Idempotency-Key" in headers
    found = verify_request(
        method, url, headers, body, resolve, now, lambda n, e: False, required=required
    )
    assert found == ed25519_key_id(EXAMPLE_KEY)


def test_signature_base_example_is_exact() -> None:
    method, url, headers, _ = _example()
    inner = headers["Signature-Input"].removeprefix("sig1=")
    components = re.findall(r'"([^"]+)"', inner.split(")")[0])
    params = re.findall(r';(\w+)=("[^"]*"|\d+)', inner)
    parsed = [(k, v.strip('"') if v.startswith('"') else int(v)) for k, v in params]
    base, _ = signature_base(method, url, headers, components, parsed)
    assert base.decode() == _block("text").strip()


@pytest.mark.parametrize("needle", ["/v1/batches", "/v1/mailbox", "Idempotency-Key", "/v1/check"])
def test_doc_mentions(needle: str) -> None:
    assert needle in DOC
