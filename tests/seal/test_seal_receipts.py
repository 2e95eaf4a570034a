"""Importer-signed receipts."""

from __future__ import annotations

from datetime import UTC, timedelta, timezone
from typing import Any

import msgspec
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from seal_fixtures import NOW, counter_random

from silkgate.errors import CryptoError, SilkgateError, VerificationError
from silkgate.model import Receipt
from silkgate.seal import (
    create_keyring,
    decode_receipt,
    encode_receipt,
    rotate_keyring,
    sign_receipt,
    verify_receipt,
)

IMPORTER = create_keyring("vn-importer", NOW, random=counter_random("importer"))
OTHER = create_keyring("th-importer", NOW, random=counter_random("other"))
DIGEST = bytes(range(32))


def _receipt(**overrides: Any) -> Receipt:
    args: dict[str, Any] = {
        "envelope_id": "e_1",
        "batch_id": "b_1",
        "importer": "vn-importer",
        "envelope_digest": DIGEST,
        "received_at": NOW,
        "signing_key": IMPORTER.current_signing(NOW)[1],
    }
    args.update(overrides)
    return sign_receipt(**args)


def test_sign_and_verify() -> None:
    receipt = _receipt()
    verify_receipt(receipt, IMPORTER.verifying_keys())
    assert receipt.key_id == IMPORTER.signing[0].key_id
    assert len(receipt.signature) == 64


def test_verify_with_plain_mapping() -> None:
    key_id, key = IMPORTER.current_signing(NOW)
    verify_receipt(_receipt(), {key_id: key.public_key()})


def test_received_at_is_normalized_to_utc() -> None:
    local = NOW.astimezone(timezone(timedelta(hours=7)))
    receipt = _receipt(received_at=local)
    assert receipt.received_at.tzinfo == UTC
    verify_receipt(receipt, IMPORTER.verifying_keys())


def test_naive_time_and_bad_digest_are_refused() -> None:
    with pytest.raises(CryptoError, match="timezone-aware"):
        _receipt(received_at=NOW.replace(tzinfo=None))
    with pytest.raises(CryptoError, match="32-byte"):
        _receipt(envelope_digest=b"short")


def test_other_importers_key_does_not_verify() -> None:
    with pytest.raises(VerificationError, match="unknown signing key"):
        verify_receipt(_receipt(), OTHER.verifying_keys())
    forged = _receipt(signing_key=OTHER.current_signing(NOW)[1])
    forged = msgspec.structs.replace(forged, key_id=IMPORTER.signing[0].key_id)
    with pytest.raises(VerificationError, match="does not verify"):
        verify_receipt(forged, IMPORTER.verifying_keys())


FIELDS = st.sampled_from(["envelope_id", "batch_id", "importer", "key_id"])


@settings(max_examples=60, deadline=None)
@given(field=FIELDS, value=st.text(min_size=1, max_size=20))
def test_any_changed_text_field_is_detected(field: str, value: str) -> None:
    receipt = _receipt()
    assume(getattr(receipt, field) != value)
    tampered = msgspec.structs.replace(receipt, **{field: value})
    with pytest.raises(VerificationError):
        verify_receipt(tampered, IMPORTER.verifying_keys())


@settings(max_examples=60, deadline=None)
@given(i=st.integers(0, 31), delta=st.integers(1, 255), seconds=st.integers(1, 10**6))
def test_changed_digest_time_or_signature_is_detected(i: int, delta: int, seconds: int) -> None:
    receipt = _receipt()
    digest = bytearray(receipt.envelope_digest)
    digest[i] ^= delta
    signature = bytearray(receipt.signature)
    signature[i * 2] ^= delta
    for tampered in (
        msgspec.structs.replace(receipt, envelope_digest=bytes(digest)),
        msgspec.structs.replace(receipt, received_at=NOW + timedelta(seconds=seconds)),
        msgspec.structs.replace(receipt, signature=bytes(signature)),
    ):
        with pytest.raises(VerificationError):
            verify_receipt(tampered, IMPORTER.verifying_keys())


def test_every_byte_of_the_wire_form_is_protected() -> None:
    receipt = _receipt()
    wire = encode_receipt(receipt)
    assert decode_receipt(wire) == receipt
    for i in range(len(wire)):
        tampered = bytearray(wire)
        tampered[i] ^= 0x01
        with pytest.raises(SilkgateError):
            verify_receipt(decode_receipt(bytes(tampered)), IMPORTER.verifying_keys())


def test_old_key_still_verifies_after_rotation() -> None:
    receipt = _receipt()
    later = NOW + timedelta(days=400)
    rotated = rotate_keyring(IMPORTER, later, random=counter_random("rot"))
    verify_receipt(receipt, rotated.verifying_keys())
    new = _receipt(signing_key=rotated.current_signing(later)[1], received_at=later)
    verify_receipt(new, rotated.verifying_keys())
