"""Sealing and opening envelopes: round trips, tampering, wrong keys, header swaps."""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from seal_fixtures import NOW, RECORDS, counter_random, default_payload, seal

from silkgate.canonical import canonical_json
from silkgate.errors import CryptoError, SilkgateError, VerificationError
from silkgate.seal import (
    create_keyring,
    decode_records,
    encode_records,
    envelope_digest,
    open_envelope,
    read_header,
)
from silkgate.seal.envelope import (
    MAGIC,
    assemble,
    encode_header,
    hpke_info,
    seal_with_header,
    signature_input,
)
from silkgate.seal.keys import KeyRing

HUB = create_keyring("hub", NOW, random=counter_random("hub"))
IMPORTER = create_keyring("vn-importer", NOW, random=counter_random("importer"))
OTHER = create_keyring("th-importer", NOW, random=counter_random("other"))
HYBRID = create_keyring("vn-pq", NOW, kem="mlkem768x25519", random=counter_random("pq"))


def _hub_key() -> Any:
    return HUB.current_signing(NOW)[1]


def _recipient(ring: KeyRing = IMPORTER) -> Any:
    return ring.current_hpke(NOW)[1].public_key()


def _open(data: bytes, ring: KeyRing = IMPORTER) -> Any:
    return open_envelope(data, ring.opening_keys(), HUB.verifying_keys())


SMALL = seal(b'{"a":1}\n', _recipient(), _hub_key())


def test_round_trip_restores_header_and_records() -> None:
    data = seal(default_payload(), _recipient(), _hub_key())
    opened = _open(data)
    assert opened.records() == RECORDS
    header = opened.header
    assert (header.envelope_id, header.batch_id, header.record_count) == ("e_1", "b_1", 2)
    assert header.payload_digest == hashlib.sha256(default_payload()).digest()
    assert header.hub_key == HUB.signing[0].key_id
    assert header.recipient_key == IMPORTER.hpke[0].key_id
    assert header.tags == ("sandbox:exp-1",)
    assert header.created_at == NOW
    assert data.startswith(MAGIC)


def test_hybrid_ml_kem_round_trip() -> None:
    data = seal(
        default_payload(),
        _recipient(HYBRID),
        _hub_key(),
        suite="mlkem768x25519-hkdf-sha256-chacha20poly1305",
    )
    opened = _open(data, HYBRID)
    assert opened.records() == RECORDS
    assert opened.header.recipient_key.startswith("mlkem768x25519:")


def test_suite_must_match_recipient_key() -> None:
    with pytest.raises(CryptoError, match="needs a mlkem768x25519 recipient key"):
        seal(
            b"x",
            _recipient(),
            _hub_key(),
            suite="mlkem768x25519-hkdf-sha256-chacha20poly1305",
        )


@settings(max_examples=40, deadline=None)
@given(payload=st.binary(max_size=4096))
def test_any_payload_round_trips(payload: bytes) -> None:
    assert _open(seal(payload, _recipient(), _hub_key())).payload == payload


@settings(max_examples=40, deadline=None)
@given(
    records=st.lists(
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.text(max_size=5), inner, max_size=3)
            ),
            max_leaves=10,
        ),
        max_size=5,
    )
)
def test_any_records_round_trip_through_ndjson(records: list[Any]) -> None:
    assert decode_records(encode_records(records)) == records


@settings(max_examples=80, deadline=None)
@given(
    records=st.lists(
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.text(max_size=5), inner, max_size=4)
            ),
            max_leaves=12,
        ),
        max_size=5,
    )
)
def test_ndjson_payload_is_each_record_canonical_then_newline(records: list[Any]) -> None:
    """The payload format (docs/envelope.md), written in one call: byte for byte the
    canonical JSON of each record followed by a newline, nothing else."""
    assert encode_records(records) == b"".join(canonical_json(r) + b"\n" for r in records)


def test_sealing_twice_differs_but_both_open() -> None:
    first, second = (seal(b"same", _recipient(), _hub_key()) for _ in range(2))
    assert first != second
    assert _open(first).payload == _open(second).payload == b"same"


def test_every_byte_flip_is_detected() -> None:
    for i in range(len(SMALL)):
        tampered = bytearray(SMALL)
        tampered[i] ^= 0x01
        with pytest.raises(SilkgateError):
            _open(bytes(tampered))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_byte_change_is_detected(data: st.DataObject) -> None:
    envelope = seal(default_payload(), _recipient(), _hub_key())
    i = data.draw(st.integers(0, len(envelope) - 1))
    delta = data.draw(st.integers(1, 255))
    tampered = bytearray(envelope)
    tampered[i] ^= delta
    with pytest.raises(SilkgateError):
        _open(bytes(tampered))


@pytest.mark.parametrize("cut", [0, 3, 8, 100, -1, -17])
def test_truncation_is_detected(cut: int) -> None:
    with pytest.raises(SilkgateError):
        _open(SMALL[:cut])


def test_appended_bytes_are_detected() -> None:
    with pytest.raises(CryptoError):
        _open(SMALL + b"\x00")


def test_wrong_recipient_key_cannot_open() -> None:
    with pytest.raises(CryptoError, match="not among the keys given"):
        _open(SMALL, OTHER)


def test_recipient_key_under_the_right_id_but_wrong_value_fails() -> None:
    wrong = {IMPORTER.hpke[0].key_id: OTHER.current_hpke(NOW)[1]}
    with pytest.raises(CryptoError, match="does not decrypt"):
        open_envelope(SMALL, wrong, HUB.verifying_keys())


def test_unknown_hub_key_is_refused() -> None:
    with pytest.raises(VerificationError, match="unknown signing key"):
        open_envelope(SMALL, IMPORTER.opening_keys(), OTHER.verifying_keys())


def test_header_swap_is_detected() -> None:
    """Header (and valid signature) of one envelope with the ciphertext of another."""
    a = seal(b"payload A", _recipient(), _hub_key(), envelope_id="e_a")
    b = seal(b"payload B", _recipient(), _hub_key(), envelope_id="e_b")
    head_a = a[: 8 + int.from_bytes(a[4:8], "big") + 64]
    head_b = b[: 8 + int.from_bytes(b[4:8], "big") + 64]
    with pytest.raises(CryptoError, match="does not decrypt"):
        _open(head_a + b[len(head_b) :])


def test_resigned_header_with_foreign_ciphertext_fails() -> None:
    """Even the hub cannot re-attach an old ciphertext to a new, validly signed header."""
    a = seal(b"payload A", _recipient(), _hub_key(), envelope_id="e_a")
    header = msgspec.structs.replace(_open(a).header, envelope_id="e_forged")
    header_bytes = encode_header(header)
    forged = assemble(
        header_bytes,
        _hub_key().sign(signature_input(header_bytes)),
        a[8 + int.from_bytes(a[4:8], "big") + 64 :],
    )
    assert read_header(forged, HUB.verifying_keys()).envelope_id == "e_forged"
    with pytest.raises(CryptoError, match="does not decrypt"):
        _open(forged)


def test_read_header_verifies_without_decrypting() -> None:
    header = read_header(SMALL, HUB.verifying_keys())
    assert header.envelope_id == "e_1"
    with pytest.raises(VerificationError):
        read_header(SMALL, OTHER.verifying_keys())


def test_envelope_digest_is_sha256_of_bytes() -> None:
    assert envelope_digest(SMALL) == hashlib.sha256(SMALL).digest()


def test_seal_with_header_refuses_mismatched_digest() -> None:
    header = read_header(SMALL, HUB.verifying_keys())
    with pytest.raises(CryptoError, match="does not match the payload"):
        seal_with_header(header, b"other payload", _recipient(), _hub_key())


def test_info_binds_header_hash() -> None:
    header = encode_header(read_header(SMALL, HUB.verifying_keys()))
    assert hpke_info(header).endswith(hashlib.sha256(header).digest())
    assert hpke_info(header).startswith(b"silkgate/envelope/v1/payload\x00")
