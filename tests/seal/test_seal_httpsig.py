"""RFC 9421 HTTP message signatures: the RFC's own Ed25519 example and refusal cases."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key
from hypothesis import given, settings
from hypothesis import strategies as st
from seal_fixtures import NOW, counter_random

from silkgate.errors import AuthError, NotFoundError
from silkgate.seal import content_digest, create_keyring, sign_request, verify_request
from silkgate.seal.httpsig import create_signature, signature_base
from silkgate.seal.sfv import parse_dictionary, serialize_dictionary

VECTOR = json.loads(
    (Path(__file__).parent.parent / "vectors" / "rfc9421" / "b26_ed25519.json").read_text()
)


# --- RFC 9421 Appendix B.2.6 -----------------------------------------------------------------


def _rfc_request() -> tuple[str, str, dict[str, str], bytes]:
    req = VECTOR["request"]
    return req["method"], req["url"], dict(req["headers"]), req["body"].encode()


def _rfc_params() -> list[tuple[str, Any]]:
    return [(k, v) for k, v in VECTOR["params"]]


def test_rfc9421_b26_signature_base_is_exact() -> None:
    method, url, headers, _ = _rfc_request()
    base, _ = signature_base(method, url, headers, VECTOR["components"], _rfc_params())
    assert base.decode() == VECTOR["signature_base"]


def test_rfc9421_b26_signature_is_exact() -> None:
    key = load_pem_private_key(VECTOR["private_key_pem"].encode(), None)
    assert isinstance(key, Ed25519PrivateKey)
    method, url, headers, _ = _rfc_request()
    fields = create_signature(
        method, url, headers, VECTOR["components"], _rfc_params(), key, label=VECTOR["label"]
    )
    assert fields["Signature-Input"] == VECTOR["signature_input"]
    assert fields["Signature"] == VECTOR["signature"]


def test_rfc9421_b26_verifies() -> None:
    public = load_pem_public_key(VECTOR["public_key_pem"].encode())
    assert isinstance(public, Ed25519PublicKey)
    method, url, headers, body = _rfc_request()
    headers["Signature-Input"] = VECTOR["signature_input"]
    headers["Signature"] = VECTOR["signature"]
    created = datetime.fromtimestamp(1618884473, UTC)
    keyid = verify_request(
        method, url, headers, body,
        resolve_key={VECTOR["key_id"]: public}.__getitem__,
        now=created + timedelta(seconds=10),
        nonce_seen=lambda nonce, until: False,
        required=("@method", "@path", "@authority"),
        require_nonce=False,
    )  # fmt: skip
    assert keyid == "test-key-ed25519"


def test_rfc9421_content_digest_sha512_matches_body() -> None:
    _, _, headers, body = _rfc_request()
    assert content_digest(body, "sha-512") == headers["Content-Digest"]


# --- our profile ------------------------------------------------------------------------------

RING = create_keyring("cn-exporter", NOW, random=counter_random("client"))
KEY_ID, KEY = RING.current_signing(NOW)
OTHER_KEY = create_keyring("x", NOW, random=counter_random("other")).current_signing(NOW)[1]
URL = "https://hub.example:443/v1/batches?dry_run=1"
BODY = b'{"records":[{"waybill":"EE123456789CN"}]}'


class NonceBook:
    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def __call__(self, nonce: str, until: int) -> bool:
        if nonce in self.seen:
            return True
        self.seen[nonce] = until
        return False


def _resolve(key_id: str) -> Ed25519PublicKey:
    if key_id != KEY_ID:
        raise NotFoundError(f"no key {key_id}")
    return KEY.public_key()


def _signed(
    body: bytes = BODY, nonce: str = "n-1", key: Ed25519PrivateKey = KEY, **kw: Any
) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    ttl = kw.pop("ttl", 60)
    added = sign_request("POST", URL, headers, body, key, KEY_ID, NOW, nonce, ttl, **kw)
    return {**headers, **added}


def _verify(
    headers: dict[str, str],
    *,
    method: str = "POST",
    url: str = URL,
    body: bytes = BODY,
    now: datetime = NOW,
    nonces: NonceBook | None = None,
    **kw: Any,
) -> str:
    return verify_request(
        method, url, headers, body, _resolve, now, nonces or NonceBook(), 300, **kw
    )


def test_sign_then_verify_returns_keyid() -> None:
    headers = _signed()
    assert headers["Content-Digest"].startswith("sha-256=:")
    assert '"@method" "@target-uri" "content-digest"' in headers["Signature-Input"]
    assert 'alg="ed25519"' in headers["Signature-Input"]
    assert _verify(headers) == KEY_ID


def test_header_names_are_case_insensitive() -> None:
    headers = {k.lower(): v for k, v in _signed().items()}
    assert _verify(headers) == KEY_ID


def test_wrong_key_is_refused() -> None:
    with pytest.raises(AuthError, match="does not verify"):
        _verify(_signed(key=OTHER_KEY))


def test_unknown_keyid_is_refused() -> None:
    headers = _signed()
    headers["Signature-Input"] = headers["Signature-Input"].replace(KEY_ID, "ed25519:nobody")
    with pytest.raises(AuthError, match="unknown or unusable signing key"):
        _verify(headers)


def test_stale_created_is_refused() -> None:
    """`created` older than max_age is refused even if the signer chose a long `expires`."""
    with pytest.raises(AuthError, match="stale"):
        _verify(_signed(ttl=3600), now=NOW + timedelta(seconds=301))


def test_expired_is_refused_before_max_age() -> None:
    with pytest.raises(AuthError, match="expired"):
        _verify(_signed(), now=NOW + timedelta(seconds=61))


def test_created_in_the_future_is_refused() -> None:
    with pytest.raises(AuthError, match="future"):
        _verify(_signed(), now=NOW - timedelta(seconds=120))


def test_reused_nonce_is_refused() -> None:
    nonces = NonceBook()
    headers = _signed()
    _verify(headers, nonces=nonces)
    with pytest.raises(AuthError, match="replayed"):
        _verify(headers, nonces=nonces)
    assert nonces.seen == {"n-1": int(NOW.timestamp()) + 60}


def test_bad_signature_does_not_burn_the_nonce() -> None:
    nonces = NonceBook()
    with pytest.raises(AuthError):
        _verify(_signed(key=OTHER_KEY), nonces=nonces)
    assert nonces.seen == {}


def test_altered_body_is_refused() -> None:
    with pytest.raises(AuthError, match="Content-Digest"):
        _verify(_signed(), body=BODY + b" ")


def test_altered_digest_and_body_is_refused() -> None:
    headers = _signed()
    headers["Content-Digest"] = content_digest(b"{}")
    with pytest.raises(AuthError, match="does not verify"):
        _verify(headers, body=b"{}")


@pytest.mark.parametrize(
    "url",
    [
        "https://hub.example:443/v1/batches?dry_run=0",
        "https://hub.example:443/v1/other?dry_run=1",
        "https://evil.example:443/v1/batches?dry_run=1",
    ],
)
def test_altered_target_is_refused(url: str) -> None:
    with pytest.raises(AuthError, match="does not verify"):
        _verify(_signed(), url=url)


def test_altered_method_is_refused() -> None:
    with pytest.raises(AuthError, match="does not verify"):
        _verify(_signed(), method="PUT")


def test_missing_required_component_is_refused() -> None:
    headers = _signed(components=("@method", "@path", "content-digest"))
    with pytest.raises(AuthError, match="does not cover @target-uri"):
        _verify(headers)


def test_unsigned_request_is_refused() -> None:
    with pytest.raises(AuthError, match="not signed"):
        _verify({"Content-Type": "application/json"})


def test_missing_nonce_is_refused_when_required() -> None:
    headers = _signed()
    headers["Signature-Input"] = headers["Signature-Input"].replace(';nonce="n-1"', "")
    with pytest.raises(AuthError, match="no `nonce`"):
        _verify(headers)


def test_other_algorithm_is_refused() -> None:
    headers = _signed()
    headers["Signature-Input"] = headers["Signature-Input"].replace("ed25519", "rsa-pss-sha512")
    with pytest.raises(AuthError, match="not supported"):
        _verify(headers)


def test_body_without_content_digest_is_refused() -> None:
    headers = _signed(components=("@method", "@target-uri"))
    del headers["Content-Digest"]
    with pytest.raises(AuthError, match="no Content-Digest"):
        _verify(headers, required=("@method", "@target-uri"))


def test_derived_components() -> None:
    url = "HTTPS://Hub.Example:443/a/b?x=1&y=2"
    headers = {"X-Trace": "  t1 "}
    comps = ["@authority", "@scheme", "@path", "@query", "@request-target", "x-trace"]
    base, _ = signature_base("GET", url, headers, comps, [("created", 1)])
    assert base.decode().splitlines()[:-1] == [
        '"@authority": hub.example',
        '"@scheme": https',
        '"@path": /a/b',
        '"@query": ?x=1&y=2',
        '"@request-target": /a/b?x=1&y=2',
        '"x-trace": t1',
    ]


def test_non_default_port_is_kept_in_authority() -> None:
    base, _ = signature_base("GET", "http://h.example:8080/", {}, ["@authority"], [])
    assert base.startswith(b'"@authority": h.example:8080\n')


SF_KEYS = st.from_regex(r"[a-z*][a-z0-9_\-.*]{0,6}", fullmatch=True)
SF_ITEMS = (
    st.integers(-(10**15) + 1, 10**15 - 1)
    | st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=10)
    | st.binary(max_size=20)
    | st.booleans()
)


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        SF_KEYS,
        st.tuples(
            SF_ITEMS | st.lists(st.tuples(SF_ITEMS, st.just([])), max_size=3),
            st.lists(st.tuples(SF_KEYS, SF_ITEMS), max_size=2, unique_by=lambda kv: kv[0]),
        ),
        max_size=3,
    )
)
def test_structured_dictionary_round_trips(members: dict[str, Any]) -> None:
    text = serialize_dictionary(members)
    assert serialize_dictionary(parse_dictionary(text)) == text
