"""Shared test helpers: fixed clock values and deterministic randomness."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from silkgate.seal.envelope import Suite, encode_records, seal_envelope
from silkgate.seal.keys import HpkePublicKey

NOW = datetime(2026, 11, 28, 11, 4, 23, tzinfo=UTC)


def counter_random(label: str = "test") -> Callable[[int], bytes]:
    """Deterministic 'randomness' for key generation in tests."""
    state = {"n": 0}

    def random(n: int) -> bytes:
        out = b""
        while len(out) < n:
            state["n"] += 1
            out += hashlib.sha256(f"{label}/{state['n']}".encode()).digest()
        return out[:n]

    return random


RECORDS: list[Any] = [
    {"waybill": "EE123456789CN", "consignee": {"city": "Ha Noi"}, "weight_kg": 1.25},
    {"waybill": "EE123456790CN", "consignee": {"city": "Hai Phong"}, "items": [1, 2]},
]


def seal(
    payload: bytes,
    recipient: HpkePublicKey,
    hub: Ed25519PrivateKey,
    *,
    envelope_id: str = "e_1",
    suite: Suite = "x25519-hkdf-sha256-chacha20poly1305",
    created_at: datetime = NOW,
) -> bytes:
    return seal_envelope(
        envelope_id=envelope_id,
        batch_id="b_1",
        exporter="cn-exporter",
        importer="vn-importer",
        product="logistics.waybill",
        purpose="contract_performance",
        outcomes={"allow": 2},
        policy_version="cn-2024.1",
        record_count=2,
        created_at=created_at,
        payload=payload,
        recipient_public_key=recipient,
        hub_signing_key=hub,
        tags=("sandbox:exp-1",),
        suite=suite,
    )


def default_payload() -> bytes:
    return encode_records(RECORDS)
