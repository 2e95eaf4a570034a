"""RFC 9421 HTTP Message Signatures (Ed25519) with RFC 9530 Content-Digest, for requests.

Signing covers ``@method``, ``@target-uri`` and ``content-digest`` by default, with the
parameters ``created``, ``expires``, ``nonce``, ``keyid`` and ``alg="ed25519"``. Verification
rebuilds the signature base (RFC 9421 §2.5) from the received request and refuses (AuthError)
a missing component, an unknown key, a bad signature, a stale or future ``created``, a past
``expires``, a reused nonce or a body that does not match its Content-Digest.

Derived components supported: ``@method``, ``@target-uri``, ``@authority``, ``@scheme``,
``@request-target``, ``@path``, ``@query``; plus any header field (lower-cased name).
Component parameters (``;sf``, ``;key``, ``;bs``, ``;req``, ``;name``) are not supported.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from silkgate.errors import AuthError, SilkgateError
from silkgate.seal import sfv
from silkgate.seal.sfv import Item, Params

DEFAULT_COMPONENTS: tuple[str, ...] = ("@method", "@target-uri", "content-digest")
DEFAULT_LABEL = "sig1"
DEFAULT_MAX_AGE = 300  # seconds a signature may be old
DEFAULT_SKEW = 30  # seconds a signer's clock may be ahead
_DEFAULT_PORTS = {"http": 80, "https": 443}
_DIGESTS: dict[str, Callable[[bytes], bytes]] = {
    "sha-256": lambda b: hashlib.sha256(b).digest(),
    "sha-512": lambda b: hashlib.sha512(b).digest(),
}

ResolveKey = Callable[[str], Ed25519PublicKey]
NonceSeen = Callable[[str, int], bool]


# --- Content-Digest (RFC 9530) -------------------------------------------------------------


def content_digest(body: bytes, algorithm: str = "sha-256") -> str:
    """The Content-Digest field value, e.g. ``sha-256=:X48E9q...=:``."""
    digest = _DIGESTS[algorithm](body)
    return sfv.serialize_dictionary({algorithm: (digest, [])})


def check_content_digest(value: str, body: bytes) -> None:
    """Raise AuthError unless every known algorithm in `value` matches `body` (≥ one known)."""
    try:
        members = sfv.parse_dictionary(value)
    except ValueError as exc:
        raise AuthError(f"Content-Digest is not a valid structured field: {exc}") from exc
    known = [(alg, item) for alg, (item, _) in members.items() if alg in _DIGESTS]
    if not known:
        raise AuthError("Content-Digest has no supported algorithm (sha-256 or sha-512)")
    for alg, item in known:
        if not isinstance(item, bytes) or not hmac.compare_digest(item, _DIGESTS[alg](body)):
            raise AuthError(f"request body does not match its Content-Digest ({alg})")


# --- components ----------------------------------------------------------------------------


def _lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        clean = " ".join(value.strip().splitlines())
        out[key] = f"{out[key]}, {clean}" if key in out else clean
    return out


def _authority(scheme: str, netloc: str) -> str:
    hostport = netloc.rsplit("@", 1)[-1].lower()
    host, sep, port = hostport.rpartition(":")
    if sep and port.isdigit() and _DEFAULT_PORTS.get(scheme) == int(port):
        return host
    return hostport


def component_value(name: str, method: str, url: str, headers: Mapping[str, str]) -> str:
    """The value of one covered component (RFC 9421 §2.1, §2.2). `headers` lower-cased."""
    parts = urlsplit(url)
    derived = {
        "@method": lambda: method,
        "@target-uri": lambda: url,
        "@authority": lambda: _authority(parts.scheme.lower(), parts.netloc),
        "@scheme": lambda: parts.scheme.lower(),
        "@path": lambda: parts.path or "/",
        "@query": lambda: "?" + parts.query,
        "@request-target": lambda: (parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
    }
    if name.startswith("@"):
        if name not in derived:
            raise AuthError(f"unsupported derived component {name}")
        return derived[name]()
    if name not in headers:
        raise AuthError(f"covered header field {name!r} is missing from the request")
    return headers[name]


def signature_base(
    method: str,
    url: str,
    headers: Mapping[str, str],
    components: Sequence[str],
    params: Params,
) -> tuple[bytes, str]:
    """``(signature base bytes, serialized signature params)`` per RFC 9421 §2.5."""
    lower = _lower_headers(headers)
    lines = []
    for name in components:
        value = component_value(name, method, url, lower)
        if "\n" in value or "\r" in value:
            raise AuthError(f"component {name} contains a newline")
        lines.append(f"{sfv.serialize_string(name)}: {value}")
    serialized = sfv.serialize_inner_list([(c, []) for c in components], params)
    lines.append(f'"@signature-params": {serialized}')
    try:
        return "\n".join(lines).encode("ascii"), serialized
    except UnicodeEncodeError as exc:
        raise AuthError("signature base must be ASCII; a covered value is not") from exc


# --- signing -------------------------------------------------------------------------------


def create_signature(
    method: str,
    url: str,
    headers: Mapping[str, str],
    components: Sequence[str],
    params: Params,
    key: Ed25519PrivateKey,
    *,
    label: str = DEFAULT_LABEL,
) -> dict[str, str]:
    """Signature-Input and Signature fields for exactly these components and parameters."""
    base, serialized = signature_base(method, url, headers, components, params)
    signature = key.sign(base)
    return {
        "Signature-Input": f"{label}={serialized}",
        "Signature": sfv.serialize_dictionary({label: (signature, [])}),
    }


def sign_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    key: Ed25519PrivateKey,
    key_id: str,
    now: datetime,
    nonce: str,
    ttl: int = DEFAULT_MAX_AGE,
    *,
    components: Sequence[str] = DEFAULT_COMPONENTS,
    label: str = DEFAULT_LABEL,
) -> dict[str, str]:
    """Headers to add to the request: Content-Digest, Signature-Input, Signature."""
    digest = content_digest(body)
    signed_headers = {**headers, "Content-Digest": digest}
    created = int(now.timestamp())
    params: Params = [
        ("created", created),
        ("expires", created + ttl),
        ("nonce", nonce),
        ("keyid", key_id),
        ("alg", "ed25519"),
    ]
    fields = create_signature(method, url, signed_headers, components, params, key, label=label)
    return {"Content-Digest": digest, **fields}


# --- verification --------------------------------------------------------------------------


def _pick(headers: Mapping[str, str], label: str | None) -> tuple[str, list[str], Params, bytes]:
    lower = _lower_headers(headers)
    if "signature-input" not in lower or "signature" not in lower:
        raise AuthError("request is not signed: Signature-Input and Signature are required")
    try:
        inputs = sfv.parse_dictionary(lower["signature-input"])
        signatures = sfv.parse_dictionary(lower["signature"])
    except ValueError as exc:
        raise AuthError(f"malformed signature fields: {exc}") from exc
    chosen = label if label is not None else next(iter(inputs), "")
    if chosen not in inputs or chosen not in signatures:
        raise AuthError(f"no signature labelled {chosen!r} in both Signature-Input and Signature")
    value, params = inputs[chosen]
    signature = signatures[chosen][0]
    if not isinstance(value, list) or not isinstance(signature, bytes):
        raise AuthError(f"signature {chosen!r}: wrong structured-field types")
    components = []
    for item, item_params in value:
        if not isinstance(item, str) or item_params or item != item.lower():
            raise AuthError(f"unsupported covered component {item!r} in {chosen!r}")
        components.append(item)
    return chosen, components, params, signature


def _param(params: Params, name: str) -> Item | None:
    return next((v for k, v in params if k == name), None)


def _check_times(params: Params, now: datetime, max_age: int, skew: int) -> tuple[int, int]:
    created, expires = _param(params, "created"), _param(params, "expires")
    if not isinstance(created, int) or isinstance(created, bool):
        raise AuthError("signature has no integer `created` parameter")
    now_ts = int(now.timestamp())
    if created > now_ts + skew:
        raise AuthError(f"signature created in the future ({created - now_ts} s ahead)")
    if now_ts - created > max_age:
        raise AuthError(f"signature is stale: created {now_ts - created} s ago (max {max_age})")
    if expires is not None:
        if not isinstance(expires, int) or isinstance(expires, bool):
            raise AuthError("signature `expires` parameter is not an integer")
        if now_ts > expires:
            raise AuthError(f"signature expired {now_ts - expires} s ago")
        return created, expires
    return created, created + max_age


def _check_params(params: Params, require_nonce: bool) -> tuple[str, str | None]:
    alg, keyid, nonce = (_param(params, n) for n in ("alg", "keyid", "nonce"))
    if alg is not None and alg != "ed25519":
        raise AuthError(f"signature algorithm {alg!r} is not supported (ed25519 only)")
    if not isinstance(keyid, str) or not keyid:
        raise AuthError("signature has no `keyid` parameter")
    if nonce is not None and not isinstance(nonce, str):
        raise AuthError("signature `nonce` parameter is not a string")
    if require_nonce and not nonce:
        raise AuthError("signature has no `nonce` parameter")
    return keyid, nonce


def _resolve(resolve_key: ResolveKey, keyid: str) -> Ed25519PublicKey:
    try:
        return resolve_key(keyid)
    except (SilkgateError, KeyError) as exc:
        # Not why: the caller may not own the key (the resolver logs the reason).
        raise AuthError(f"unknown or unusable signing key {keyid!r}") from exc


def verify_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    resolve_key: ResolveKey,
    now: datetime,
    nonce_seen: NonceSeen,
    max_age: int = DEFAULT_MAX_AGE,
    *,
    required: Sequence[str] = DEFAULT_COMPONENTS,
    require_nonce: bool = True,
    label: str | None = None,
    skew: int = DEFAULT_SKEW,
) -> str:
    """Verify a signed request and return its ``keyid``; raise AuthError on any failure.

    `nonce_seen(nonce, expires_at)` must record the nonce until `expires_at` (Unix time) and
    return True if it was already recorded; it is called only once the signature verified.
    """
    chosen, components, params, signature = _pick(headers, label)
    missing = [c for c in required if c not in components]
    if missing:
        raise AuthError(f"signature {chosen!r} does not cover {', '.join(missing)}")
    _, expires_at = _check_times(params, now, max_age, skew)
    keyid, nonce = _check_params(params, require_nonce)
    lower = _lower_headers(headers)
    if "content-digest" in lower:
        check_content_digest(lower["content-digest"], body)
    elif body or "content-digest" in components:
        raise AuthError("request has a body but no Content-Digest")
    key = _resolve(resolve_key, keyid)
    base, _ = signature_base(method, url, headers, components, params)
    try:
        key.verify(signature, base)
    except InvalidSignature as exc:
        raise AuthError(f"signature {chosen!r} does not verify with key {keyid!r}") from exc
    if nonce and nonce_seen(nonce, expires_at):
        raise AuthError(f"nonce {nonce!r} was already used: replayed request")
    return keyid
