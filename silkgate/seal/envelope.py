"""Sealed envelopes: a hub-signed canonical header plus an HPKE-encrypted payload.

Byte layout (all integers big-endian; see docs/envelope.md for the full specification)::

    "SGE1" | uint32 H | header (H bytes) | Ed25519 signature (64) | enc (Nenc) | ciphertext

* header: canonical JSON of :class:`EnvelopeHeader` (silkgate.canonical);
* signature: Ed25519 by the hub over ``b"silkgate/envelope/v1/header\\x00" + header``;
* enc || ciphertext: single-shot HPKE base mode (RFC 9180) of the payload to the importer,
  with ``info = b"silkgate/envelope/v1/payload\\x00" + SHA-256(header)`` and empty AAD, so
  the ciphertext cannot be re-attached to another header.

Opening verifies the signature first, then decrypts, then checks the payload digest.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Literal, get_args

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from silkgate.canonical import canonical_json, canonical_json_lines
from silkgate.errors import CryptoError, VerificationError
from silkgate.seal.keys import (
    HpkePrivateKey,
    HpkePublicKey,
    VerifyKeys,
    ed25519_key_id,
    hpke_key_id,
    kem_of,
    resolve_verify_key,
)

Suite = Literal[
    "x25519-hkdf-sha256-chacha20poly1305",
    "mlkem768x25519-hkdf-sha256-chacha20poly1305",
]
SUITES: tuple[str, ...] = get_args(Suite)
DEFAULT_SUITE: Suite = "x25519-hkdf-sha256-chacha20poly1305"
ENVELOPE_VERSION = 1

MAGIC = b"SGE1"
SIGNATURE_CONTEXT = b"silkgate/envelope/v1/header\x00"
INFO_CONTEXT = b"silkgate/envelope/v1/payload\x00"
SIGNATURE_LEN = 64
MAX_HEADER_LEN = 1 << 20
_PREFIX = struct.Struct(">4sI")

_SUITE_KEM = {
    "x25519-hkdf-sha256-chacha20poly1305": (hpke.KEM.X25519, "x25519"),
    "mlkem768x25519-hkdf-sha256-chacha20poly1305": (hpke.KEM.MLKEM768_X25519, "mlkem768x25519"),
}


class EnvelopeHeader(msgspec.Struct, frozen=True, kw_only=True):
    """What the hub signs about a delivered batch. Contains no record contents."""

    version: int
    envelope_id: str
    batch_id: str
    exporter: str
    importer: str
    product: str
    purpose: str
    outcomes: dict[str, int]  # outcome -> record count in the batch
    policy_version: str
    record_count: int  # records in the payload
    payload_digest: bytes  # SHA-256 of the plaintext payload
    payload_length: int  # plaintext payload length in bytes
    created_at: datetime
    suite: str
    hub_key: str  # key id of the hub's Ed25519 key
    recipient_key: str  # key id of the importer's HPKE key
    tags: tuple[str, ...] = ()


class OpenedEnvelope(msgspec.Struct, frozen=True, kw_only=True):
    header: EnvelopeHeader
    payload: bytes

    def records(self) -> list[Any]:
        """The payload parsed as NDJSON records."""
        return decode_records(self.payload)


class _Parts(msgspec.Struct, frozen=True):
    header_bytes: bytes
    signature: bytes
    sealed: bytes  # enc || ciphertext


# --- payload convention --------------------------------------------------------------------


def encode_records(records: Iterable[Any]) -> bytes:
    """NDJSON: one canonical JSON document per record, each followed by ``\\n``."""
    return canonical_json_lines(records)


def record_lines(payload: bytes) -> list[bytes]:
    """Each record's line in an :func:`encode_records` payload, its ``\\n`` included.
    Canonical JSON escapes every control character inside strings, so a line holds exactly
    one record."""
    return payload.splitlines(keepends=True)


def join_record_lines(lines: Iterable[bytes]) -> bytes:
    """The :func:`encode_records` payload of records whose lines are `lines` (as
    :func:`record_lines` gives them): the same bytes, without encoding the records again."""
    return b"".join(lines)


def decode_records(payload: bytes) -> list[Any]:
    """Parse an NDJSON payload produced by :func:`encode_records`."""
    try:
        return [msgspec.json.decode(line) for line in payload.splitlines() if line]
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise CryptoError(f"payload is not NDJSON: {exc}") from exc


# --- building blocks (public so that vectors and other languages can be checked) -----------


def encode_header(header: EnvelopeHeader) -> bytes:
    return canonical_json(header)


def signature_input(header_bytes: bytes) -> bytes:
    return SIGNATURE_CONTEXT + header_bytes


def hpke_info(header_bytes: bytes) -> bytes:
    return INFO_CONTEXT + hashlib.sha256(header_bytes).digest()


def hpke_suite(suite: str) -> hpke.Suite:
    if suite not in _SUITE_KEM:
        raise CryptoError(f"unsupported envelope suite {suite!r}; supported: {', '.join(SUITES)}")
    kem, _ = _SUITE_KEM[suite]
    return hpke.Suite(kem, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)


def assemble(header_bytes: bytes, signature: bytes, sealed: bytes) -> bytes:
    """Concatenate the parts into envelope bytes."""
    return _PREFIX.pack(MAGIC, len(header_bytes)) + header_bytes + signature + sealed


def envelope_digest(data: bytes) -> bytes:
    """SHA-256 of the envelope bytes as delivered (what receipts sign)."""
    return hashlib.sha256(data).digest()


def _split(data: bytes) -> _Parts:
    if len(data) < _PREFIX.size:
        raise VerificationError(f"envelope too short ({len(data)} bytes)")
    magic, length = _PREFIX.unpack_from(data)
    if magic != MAGIC:
        raise VerificationError(f"not a silkgate envelope (magic {magic!r}, expected b'SGE1')")
    end = _PREFIX.size + length
    if length > MAX_HEADER_LEN or end + SIGNATURE_LEN > len(data):
        raise VerificationError(f"envelope truncated or header length {length} is wrong")
    signature_end = end + SIGNATURE_LEN
    return _Parts(data[_PREFIX.size : end], data[end:signature_end], data[signature_end:])


# --- sealing -------------------------------------------------------------------------------


def seal_envelope(
    *,
    envelope_id: str,
    batch_id: str,
    exporter: str,
    importer: str,
    product: str,
    purpose: str,
    outcomes: Mapping[str, int],
    policy_version: str,
    record_count: int,
    created_at: datetime,
    payload: bytes,
    recipient_public_key: HpkePublicKey,
    hub_signing_key: Ed25519PrivateKey,
    tags: Iterable[str] = (),
    suite: Suite = DEFAULT_SUITE,
    payload_digest: bytes | None = None,
) -> bytes:
    """Sign a header for `payload` with the hub's key and encrypt `payload` to the importer.

    The HPKE ephemeral key comes from the operating system's CSPRNG (inside
    ``cryptography``); ids and `created_at` are passed in. `payload_digest`: SHA-256 of
    `payload` when the caller has already computed it (it goes into the signed header as
    given: a wrong one makes an envelope no importer can open).
    """
    digest = hashlib.sha256(payload).digest() if payload_digest is None else payload_digest
    header = EnvelopeHeader(
        version=ENVELOPE_VERSION,
        envelope_id=envelope_id,
        batch_id=batch_id,
        exporter=exporter,
        importer=importer,
        product=product,
        purpose=purpose,
        outcomes=dict(outcomes),
        policy_version=policy_version,
        record_count=record_count,
        payload_digest=digest,
        payload_length=len(payload),
        created_at=created_at,
        suite=suite,
        hub_key=ed25519_key_id(hub_signing_key),
        recipient_key=hpke_key_id(recipient_public_key),
        tags=tuple(tags),
    )
    return _seal(header, payload, digest, recipient_public_key, hub_signing_key)


def seal_with_header(
    header: EnvelopeHeader,
    payload: bytes,
    recipient_public_key: HpkePublicKey,
    hub_signing_key: Ed25519PrivateKey,
) -> bytes:
    """Seal `payload` under a complete header (its digest, suite and key ids must match)."""
    digest = hashlib.sha256(payload).digest()
    return _seal(header, payload, digest, recipient_public_key, hub_signing_key)


def _seal(
    header: EnvelopeHeader,
    payload: bytes,
    payload_digest: bytes,
    recipient_public_key: HpkePublicKey,
    hub_signing_key: Ed25519PrivateKey,
) -> bytes:
    """`payload_digest`: SHA-256 of `payload`, computed once by the caller."""
    _check_header_for_sealing(
        header, payload_digest, len(payload), recipient_public_key, hub_signing_key
    )
    header_bytes = encode_header(header)
    signature = hub_signing_key.sign(signature_input(header_bytes))
    public = recipient_public_key
    raw_key = public if isinstance(public, X25519PublicKey) else public.key
    sealed = hpke_suite(header.suite).encrypt(payload, raw_key, info=hpke_info(header_bytes))
    return assemble(header_bytes, signature, sealed)


def _check_header_for_sealing(
    header: EnvelopeHeader,
    payload_digest: bytes,
    payload_length: int,
    recipient_public_key: HpkePublicKey,
    hub_signing_key: Ed25519PrivateKey,
) -> None:
    _, kem = _SUITE_KEM.get(header.suite, (None, None))
    if kem is None:
        raise CryptoError(f"unsupported envelope suite {header.suite!r}; supported: {SUITES}")
    if kem_of(recipient_public_key) != kem:
        raise CryptoError(
            f"suite {header.suite} needs a {kem} recipient key, "
            f"got a {kem_of(recipient_public_key)} key"
        )
    if header.created_at.tzinfo is None:
        raise CryptoError("created_at must be timezone-aware (UTC)")
    expected = (
        payload_digest,
        payload_length,
        ed25519_key_id(hub_signing_key),
        hpke_key_id(recipient_public_key),
    )
    actual = (header.payload_digest, header.payload_length, header.hub_key, header.recipient_key)
    if expected != actual:
        raise CryptoError("header does not match the payload or keys it is sealed with")


# --- opening -------------------------------------------------------------------------------


def _decode_header(header_bytes: bytes) -> EnvelopeHeader:
    try:
        header = msgspec.json.decode(header_bytes, type=EnvelopeHeader)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise VerificationError(f"envelope header is malformed: {exc}") from exc
    if header.version != ENVELOPE_VERSION:
        raise VerificationError(f"envelope version {header.version} is not supported (want 1)")
    if encode_header(header) != header_bytes:
        raise VerificationError("envelope header is not in canonical form")
    return header


class _Peek(msgspec.Struct):
    hub_key: str
    created_at: datetime | None = None


def _hub_key_id(header_bytes: bytes) -> tuple[str, datetime | None]:
    """The signer's key id and claimed time, read before the signature is checked."""
    try:
        peek = msgspec.json.decode(header_bytes, type=_Peek)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise VerificationError(f"envelope header is malformed: {exc}") from exc
    return peek.hub_key, peek.created_at


def _verified_parts(data: bytes, hub_public_keys: VerifyKeys) -> tuple[_Parts, EnvelopeHeader]:
    parts = _split(data)
    key_id, created_at = _hub_key_id(parts.header_bytes)
    key = resolve_verify_key(hub_public_keys, key_id, created_at)
    try:
        key.verify(parts.signature, signature_input(parts.header_bytes))
    except InvalidSignature as exc:
        raise VerificationError(
            f"envelope header signature does not verify with hub key {key_id}: "
            "the header or signature was altered, or another key signed it"
        ) from exc
    return parts, _decode_header(parts.header_bytes)


def read_header(data: bytes, hub_public_keys: VerifyKeys) -> EnvelopeHeader:
    """The verified header, without decrypting the payload."""
    return _verified_parts(data, hub_public_keys)[1]


def open_envelope(
    data: bytes,
    recipient_private_keys: Mapping[str, HpkePrivateKey],
    hub_public_keys: VerifyKeys,
) -> OpenedEnvelope:
    """Verify the hub's signature, decrypt with the matching key, check the payload digest."""
    parts, header = _verified_parts(data, hub_public_keys)
    key = recipient_private_keys.get(header.recipient_key)
    if key is None:
        known = ", ".join(sorted(recipient_private_keys)) or "none"
        raise CryptoError(
            f"envelope {header.envelope_id} is sealed to key {header.recipient_key}, "
            f"which is not among the keys given ({known})"
        )
    payload = _decrypt(header, parts, key)
    if len(payload) != header.payload_length:
        raise VerificationError(
            f"envelope {header.envelope_id}: payload has {len(payload)} bytes, "
            f"the signed header says {header.payload_length}"
        )
    if hashlib.sha256(payload).digest() != header.payload_digest:
        raise VerificationError(
            f"envelope {header.envelope_id}: payload digest does not match the signed header"
        )
    return OpenedEnvelope(header=header, payload=payload)


def _decrypt(header: EnvelopeHeader, parts: _Parts, key: HpkePrivateKey) -> bytes:
    suite = hpke_suite(header.suite)
    raw_key = key if isinstance(key, X25519PrivateKey) else key.key
    if _SUITE_KEM[header.suite][1] != kem_of(key):
        raise CryptoError(f"suite {header.suite} does not match the {kem_of(key)} key given")
    try:
        return suite.decrypt(parts.sealed, raw_key, info=hpke_info(parts.header_bytes))
    except Exception as exc:  # cryptography raises InvalidTag or ValueError here
        raise CryptoError(
            f"envelope {header.envelope_id}: payload does not decrypt with key "
            f"{header.recipient_key}: the ciphertext was altered or belongs to another header"
        ) from exc
