"""Envelope test vectors in tests/vectors/seal/: regenerate and compare byte for byte, and
open them both with silkgate and with the independent reference opener."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import seal_hpke_ref
import seal_vectors
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from silkgate.model import Receipt
from silkgate.seal import decode_records, open_envelope, verify_receipt
from silkgate.seal.envelope import encode_header
from silkgate.seal.keys import hpke_private_from_bytes


def _load(path: Any) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(path.read_text())
    return result


def test_x25519_vector_regenerates_exactly() -> None:
    stored = seal_vectors.X25519_FILE.read_text()
    assert seal_vectors.dump(seal_vectors.build_x25519_vector()) == stored


def test_x25519_vector_opens_with_silkgate() -> None:
    v = _load(seal_vectors.X25519_FILE)
    sk = X25519PrivateKey.from_private_bytes(bytes.fromhex(v["inputs"]["importer_hpke_private"]))
    hub = Ed25519PublicKey.from_public_bytes(bytes.fromhex(v["hub_public_key"]))
    opened = open_envelope(
        bytes.fromhex(v["envelope"]), {v["importer_hpke_key_id"]: sk}, {v["hub_key_id"]: hub}
    )
    assert opened.payload.decode() == v["payload"]
    assert opened.records() == v["inputs"]["records"]
    assert encode_header(opened.header).decode() == v["header"]


def test_x25519_vector_opens_with_reference_from_the_spec() -> None:
    v = _load(seal_vectors.X25519_FILE)
    header, payload = seal_hpke_ref.open_envelope_from_spec(
        bytes.fromhex(v["envelope"]), bytes.fromhex(v["inputs"]["importer_hpke_private"])
    )
    assert header.decode() == v["header"]
    assert payload.decode() == v["payload"]
    hub = Ed25519PublicKey.from_public_bytes(bytes.fromhex(v["hub_public_key"]))
    hub.verify(bytes.fromhex(v["signature"]), bytes.fromhex(v["signature_input"]))


def test_reference_opens_what_silkgate_seals() -> None:
    """The cryptography HPKE implementation and the reference agree (both directions)."""
    from seal_fixtures import NOW, counter_random, default_payload, seal

    from silkgate.seal import create_keyring

    hub = create_keyring("hub", NOW, random=counter_random("hub"))
    importer = create_keyring("imp", NOW, random=counter_random("imp"))
    data = seal(default_payload(), importer.current_hpke(NOW)[1].public_key(),
                hub.current_signing(NOW)[1])  # fmt: skip
    _, payload = seal_hpke_ref.open_envelope_from_spec(data, importer.hpke[0].private)
    assert decode_records(payload) == decode_records(default_payload())


def test_x25519_vector_receipt_verifies() -> None:
    v = _load(seal_vectors.X25519_FILE)
    body = json.loads(v["receipt"]["body"])
    receipt = Receipt(
        envelope_id=body["envelope_id"],
        batch_id=body["batch_id"],
        importer=body["importer"],
        envelope_digest=bytes.fromhex(v["envelope_digest"]),
        received_at=datetime.fromisoformat(body["received_at"]),
        key_id=body["key_id"],
        signature=bytes.fromhex(v["receipt"]["signature"]),
    )
    importer = Ed25519PublicKey.from_public_bytes(
        bytes.fromhex(v["receipt"]["importer_public_key"])
    )
    verify_receipt(receipt, {receipt.key_id: importer})


def test_hybrid_vector_opens_and_its_header_regenerates() -> None:
    v = _load(seal_vectors.HYBRID_FILE)
    header, _ = seal_vectors.hybrid_header()
    assert encode_header(header).decode() == v["header"]
    sk = hpke_private_from_bytes(
        "mlkem768x25519", bytes.fromhex(v["inputs"]["importer_hpke_private"])
    )
    hub = Ed25519PublicKey.from_public_bytes(
        bytes.fromhex(_load(seal_vectors.X25519_FILE)["hub_public_key"])
    )
    opened = open_envelope(bytes.fromhex(v["envelope"]), {header.recipient_key: sk},
                           {header.hub_key: hub})  # fmt: skip
    assert opened.records() == v["inputs"]["records"]
    assert opened.header == header
