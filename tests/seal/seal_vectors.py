"""Builds the envelope and receipt test vectors in tests/vectors/seal/ from fixed keys and
fixed randomness. Run `python tests/seal/seal_vectors.py` to rewrite the x25519 file; the
tests regenerate it and compare byte for byte."""

from __future__ import annotations

import hashlib
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

sys.path.insert(0, str(Path(__file__).parent))

import seal_hpke_ref

from silkgate.seal import envelope as env
from silkgate.seal.keys import (
    ed25519_key_id,
    hpke_key_id,
    hpke_private_from_bytes,
    hpke_public_bytes,
)
from silkgate.seal.receipts import receipt_body, sign_receipt

VECTORS = Path(__file__).parent.parent / "vectors" / "seal"
X25519_FILE = VECTORS / "envelope_x25519.json"
HYBRID_FILE = VECTORS / "envelope_mlkem768x25519.json"


def _seed(label: str, n: int = 32) -> bytes:
    """Fixed 'randomness': SHA-256 based expansion of a label."""
    out = b""
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(f"silkgate-test-vector/{label}/{counter}".encode()).digest()
        counter += 1
    return out[:n]


INPUTS: dict[str, Any] = {
    "hub_signing_seed": _seed("hub-signing").hex(),
    "importer_hpke_private": _seed("importer-hpke").hex(),
    "importer_signing_seed": _seed("importer-signing").hex(),
    "hpke_ephemeral_private": _seed("hpke-ephemeral").hex(),
    "header": {
        "envelope_id": "e_00112233445566778899aabbccddeeff",
        "batch_id": "b_ffeeddccbbaa99887766554433221100",
        "exporter": "cn-nanning-freight",
        "importer": "vn-hanoi-carrier",
        "product": "logistics.waybill",
        "purpose": "contract_performance",
        "outcomes": {"allow": 1, "allow_transformed": 1},
        "policy_version": "cn-2024.1",
        "record_count": 2,
        "created_at": "2026-11-28T11:04:23Z",
        "suite": "x25519-hkdf-sha256-chacha20poly1305",
        "tags": [],
    },
    "records": [
        {"waybill": "EE123456789CN", "consignee": {"city": "Ha Noi", "phone": "+84 *** *** *78"}},
        {"waybill": "EE123456790CN", "consignee": {"city": "Hai Phong", "name": "pz_0938c2c2"}},
    ],
    "received_at": "2026-11-28T11:05:00Z",
}


def build_x25519_vector(inputs: dict[str, Any] = INPUTS) -> dict[str, Any]:
    hub = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(inputs["hub_signing_seed"]))
    recipient = X25519PrivateKey.from_private_bytes(bytes.fromhex(inputs["importer_hpke_private"]))
    fields = dict(inputs["header"])
    created_at = datetime.fromisoformat(fields.pop("created_at")).astimezone(UTC)
    payload = env.encode_records(inputs["records"])
    header = env.EnvelopeHeader(
        version=1,
        created_at=created_at,
        payload_digest=hashlib.sha256(payload).digest(),
        payload_length=len(payload),
        hub_key=ed25519_key_id(hub),
        recipient_key=hpke_key_id(recipient.public_key()),
        **{**fields, "tags": tuple(fields["tags"])},
    )
    header_bytes = env.encode_header(header)
    signature = hub.sign(env.signature_input(header_bytes))
    info = env.hpke_info(header_bytes)
    pk_r = recipient.public_key().public_bytes_raw()
    ephemeral = bytes.fromhex(inputs["hpke_ephemeral_private"])
    sealed = seal_hpke_ref.seal(pk_r, info, payload, ephemeral)
    envelope = env.assemble(header_bytes, signature, sealed)
    importer = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(inputs["importer_signing_seed"]))
    received_at = datetime.fromisoformat(inputs["received_at"]).astimezone(UTC)
    receipt = sign_receipt(
        header.envelope_id,
        header.batch_id,
        header.importer,
        env.envelope_digest(envelope),
        received_at,
        importer,
    )
    body = receipt_body(
        envelope_id=receipt.envelope_id,
        batch_id=receipt.batch_id,
        importer=receipt.importer,
        envelope_digest=receipt.envelope_digest,
        received_at=receipt.received_at,
        key_id=receipt.key_id,
    )
    return {
        "description": "silkgate envelope v1, suite x25519-hkdf-sha256-chacha20poly1305, "
        "with fixed keys and HPKE ephemeral key; see docs/envelope.md",
        "inputs": inputs,
        "hub_public_key": hub.public_key().public_bytes_raw().hex(),
        "hub_key_id": header.hub_key,
        "importer_hpke_public_key": pk_r.hex(),
        "importer_hpke_key_id": header.recipient_key,
        "payload": payload.decode(),
        "header": header_bytes.decode(),
        "signature_input": env.signature_input(header_bytes).hex(),
        "signature": signature.hex(),
        "hpke_info": info.hex(),
        "enc": sealed[:32].hex(),
        "ciphertext": sealed[32:].hex(),
        "envelope": envelope.hex(),
        "envelope_digest": env.envelope_digest(envelope).hex(),
        "receipt": {
            "key_id": receipt.key_id,
            "importer_public_key": importer.public_key().public_bytes_raw().hex(),
            "body": body.decode(),
            "signature": receipt.signature.hex(),
        },
    }


HYBRID_INPUTS: dict[str, Any] = {
    "hub_signing_seed": _seed("hub-signing").hex(),
    "importer_hpke_private": _seed("importer-hpke-hybrid", 96).hex(),
    "header": {**INPUTS["header"], "suite": "mlkem768x25519-hkdf-sha256-chacha20poly1305"},
    "records": INPUTS["records"],
}


def hybrid_header(inputs: dict[str, Any] = HYBRID_INPUTS) -> tuple[env.EnvelopeHeader, bytes]:
    """The (deterministic) header of the hybrid vector and its payload."""
    hub = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(inputs["hub_signing_seed"]))
    recipient = hpke_private_from_bytes(
        "mlkem768x25519", bytes.fromhex(inputs["importer_hpke_private"])
    )
    fields = dict(inputs["header"])
    created_at = datetime.fromisoformat(fields.pop("created_at")).astimezone(UTC)
    payload = env.encode_records(inputs["records"])
    header = env.EnvelopeHeader(
        version=1,
        created_at=created_at,
        payload_digest=hashlib.sha256(payload).digest(),
        payload_length=len(payload),
        hub_key=ed25519_key_id(hub),
        recipient_key=hpke_key_id(recipient),
        **{**fields, "tags": tuple(fields["tags"])},
    )
    return header, payload


def build_hybrid_vector() -> dict[str, Any]:
    """ML-KEM encapsulation randomness cannot be fixed through `cryptography`, so this
    vector is generated once; the tests open it and regenerate its header and signature."""
    hub = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(HYBRID_INPUTS["hub_signing_seed"]))
    recipient = hpke_private_from_bytes(
        "mlkem768x25519", bytes.fromhex(HYBRID_INPUTS["importer_hpke_private"])
    )
    header, payload = hybrid_header()
    envelope = env.seal_with_header(header, payload, recipient.public_key(), hub)
    header_bytes = env.encode_header(header)
    return {
        "description": "silkgate envelope v1, suite mlkem768x25519-hkdf-sha256-chacha20poly1305;"
        " HPKE output generated once (not reproducible), header and signature reproducible",
        "inputs": HYBRID_INPUTS,
        "importer_hpke_public_key": hpke_public_bytes(recipient).hex(),
        "header": header_bytes.decode(),
        "signature": hub.sign(env.signature_input(header_bytes)).hex(),
        "envelope": envelope.hex(),
    }


def dump(vector: dict[str, Any]) -> str:
    return json.dumps(vector, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


if __name__ == "__main__":
    X25519_FILE.write_text(dump(build_x25519_vector()))
    print(f"wrote {X25519_FILE}")
    if "--hybrid" in sys.argv:
        HYBRID_FILE.write_text(dump(build_hybrid_vector()))
        print(f"wrote {HYBRID_FILE}")
