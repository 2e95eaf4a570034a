"""Importer-signed receipts over an envelope's digest.

The signed body is the canonical JSON (silkgate.canonical) of::

    {"type": "silkgate/receipt/v1", "envelope_id": ..., "batch_id": ..., "importer": ...,
     "envelope_digest": <base64 of SHA-256(envelope bytes)>, "received_at": <RFC 3339 UTC>,
     "key_id": <importer's Ed25519 key id>}

and the signature is Ed25519 over those bytes. `ledger_index` is assigned by the hub later
and is not signed.
"""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from silkgate.canonical import canonical_json
from silkgate.errors import CryptoError, VerificationError
from silkgate.model import Receipt
from silkgate.seal.keys import VerifyKeys, ed25519_key_id, resolve_verify_key

RECEIPT_TYPE = "silkgate/receipt/v1"


def receipt_body(
    *,
    envelope_id: str,
    batch_id: str,
    importer: str,
    envelope_digest: bytes,
    received_at: datetime,
    key_id: str,
) -> bytes:
    """The exact bytes an importer signs."""
    return canonical_json(
        {
            "type": RECEIPT_TYPE,
            "envelope_id": envelope_id,
            "batch_id": batch_id,
            "importer": importer,
            "envelope_digest": envelope_digest,
            "received_at": received_at,
            "key_id": key_id,
        }
    )


def _body_of(receipt: Receipt) -> bytes:
    return receipt_body(
        envelope_id=receipt.envelope_id,
        batch_id=receipt.batch_id,
        importer=receipt.importer,
        envelope_digest=receipt.envelope_digest,
        received_at=receipt.received_at,
        key_id=receipt.key_id,
    )


def sign_receipt(
    envelope_id: str,
    batch_id: str,
    importer: str,
    envelope_digest: bytes,
    received_at: datetime,
    signing_key: Ed25519PrivateKey,
) -> Receipt:
    """The importer's signed acknowledgement of one envelope."""
    if len(envelope_digest) != 32:
        raise CryptoError(f"envelope_digest must be a 32-byte SHA-256, got {len(envelope_digest)}")
    if received_at.tzinfo is None:
        raise CryptoError("received_at must be timezone-aware")
    unsigned = Receipt(
        envelope_id=envelope_id,
        batch_id=batch_id,
        importer=importer,
        envelope_digest=envelope_digest,
        received_at=received_at.astimezone(UTC),
        key_id=ed25519_key_id(signing_key),
        signature=b"",
    )
    return msgspec.structs.replace(unsigned, signature=signing_key.sign(_body_of(unsigned)))


def verify_receipt(receipt: Receipt, importer_public_keys: VerifyKeys) -> None:
    """Raise VerificationError unless the receipt is signed by one of the importer's keys
    (valid at `received_at`, not revoked, when a PublicKeySet is given)."""
    key = resolve_verify_key(importer_public_keys, receipt.key_id, receipt.received_at)
    try:
        key.verify(receipt.signature, _body_of(receipt))
    except InvalidSignature as exc:
        raise VerificationError(
            f"receipt for envelope {receipt.envelope_id} does not verify with key "
            f"{receipt.key_id}: a field or the signature was altered"
        ) from exc


def encode_receipt(receipt: Receipt) -> bytes:
    """The receipt's wire form: canonical JSON."""
    return canonical_json(receipt)


def decode_receipt(data: bytes) -> Receipt:
    """Parse a receipt's wire form; refuse anything but its canonical encoding."""
    try:
        receipt = msgspec.json.decode(data, type=Receipt)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise VerificationError(f"receipt is malformed: {exc}") from exc
    if encode_receipt(receipt) != data:
        raise VerificationError("receipt is not in canonical form")
    return receipt
