"""Key ids, key rings, rotation, revocation and key files."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import msgspec
import pytest
from seal_fixtures import NOW, counter_random, default_payload, seal

from silkgate.errors import ConfigError, CryptoError, VerificationError
from silkgate.seal import (
    create_keyring,
    ed25519_key_id,
    hpke_key_id,
    hpke_public_bytes,
    hpke_public_from_bytes,
    load_keyring,
    open_envelope,
    revoke_key,
    rotate_keyring,
    save_keyring,
)
from silkgate.seal.keys import PublicKeyInfo, PublicKeySet, keyring_from_json, keyring_to_json

LATER = NOW + timedelta(days=90)


def test_key_ids_are_algorithm_and_16_hex_digits() -> None:
    ring = create_keyring("p", NOW, random=counter_random())
    key_id, key = ring.current_signing(NOW)
    assert re.fullmatch(r"ed25519:[0-9a-f]{16}", key_id)
    assert ed25519_key_id(key) == ed25519_key_id(key.public_key()) == key_id
    hpke_id, hpke_key = ring.current_hpke(NOW)
    assert re.fullmatch(r"x25519:[0-9a-f]{16}", hpke_id)
    assert hpke_key_id(hpke_key.public_key()) == hpke_id


def test_hybrid_public_key_round_trips_through_bytes() -> None:
    ring = create_keyring("p", NOW, kem="mlkem768x25519", random=counter_random())
    key_id, key = ring.current_hpke(NOW)
    raw = hpke_public_bytes(key)
    assert len(raw) == 1216
    assert hpke_key_id(hpke_public_from_bytes(raw)) == key_id
    assert key_id.startswith("mlkem768x25519:")


def test_hpke_public_key_length_is_checked() -> None:
    with pytest.raises(CryptoError, match=r"32 .* or 1216"):
        hpke_public_from_bytes(b"\x01" * 33)


def test_same_randomness_gives_same_ring() -> None:
    a = create_keyring("p", NOW, random=counter_random("x"))
    b = create_keyring("p", NOW, random=counter_random("x"))
    assert a == b


def test_rotation_makes_new_keys_current_and_keeps_old_ones() -> None:
    ring = create_keyring("p", NOW, random=counter_random())
    rotated = rotate_keyring(ring, LATER, overlap=timedelta(days=7), random=counter_random("r"))
    assert rotated.current_signing(LATER)[0] == rotated.signing[1].key_id
    assert rotated.current_hpke(LATER)[0] == rotated.hpke[1].key_id
    assert rotated.signing[0].not_after == LATER + timedelta(days=7)
    assert set(rotated.opening_keys()) == {e.key_id for e in rotated.hpke}


def test_old_key_opens_old_envelope_after_rotation() -> None:
    hub = create_keyring("hub", NOW, random=counter_random("hub"))
    importer = create_keyring("imp", NOW, random=counter_random("imp"))
    old = seal(
        default_payload(), importer.current_hpke(NOW)[1].public_key(), hub.current_signing(NOW)[1]
    )
    importer2 = rotate_keyring(importer, LATER, random=counter_random("imp2"))
    hub2 = rotate_keyring(hub, LATER, random=counter_random("hub2"))
    new = seal(
        default_payload(),
        importer2.current_hpke(LATER)[1].public_key(),
        hub2.current_signing(LATER)[1],
        created_at=LATER,
    )
    for data in (old, new):
        opened = open_envelope(data, importer2.opening_keys(), hub2.verifying_keys())
        assert opened.payload == default_payload()


def test_signature_by_a_key_outside_its_window_is_refused() -> None:
    hub = create_keyring("hub", NOW, random=counter_random("hub"))
    importer = create_keyring("imp", NOW, random=counter_random("imp"))
    hub2 = rotate_keyring(hub, LATER, overlap=timedelta(days=1), random=counter_random("h2"))
    old_key = hub.current_signing(NOW)[1]
    late = seal(
        b"x",
        importer.current_hpke(NOW)[1].public_key(),
        old_key,
        created_at=LATER + timedelta(days=2),
    )
    with pytest.raises(VerificationError, match="expired"):
        open_envelope(late, importer.opening_keys(), hub2.verifying_keys())


def test_revoked_keys_are_not_current_and_do_not_verify() -> None:
    ring = rotate_keyring(
        create_keyring("p", NOW, random=counter_random()), LATER, random=counter_random("r")
    )
    new_id = ring.signing[1].key_id
    revoked = revoke_key(ring, new_id)
    assert revoke_key(revoked, new_id) == revoked
    assert revoked.current_signing(LATER)[0] == ring.signing[0].key_id
    with pytest.raises(VerificationError, match="revoked"):
        revoked.verifying_keys().resolve(new_id, LATER)
    with pytest.raises(ConfigError, match="not in the key ring"):
        revoke_key(ring, "ed25519:0000000000000000")


def test_no_current_key_is_a_config_error() -> None:
    ring = create_keyring("p", NOW, random=counter_random())
    with pytest.raises(ConfigError, match="rotate"):
        ring.current_signing(NOW - timedelta(days=1))


def test_public_key_set_checks_window() -> None:
    ring = create_keyring("p", NOW, random=counter_random())
    entry = ring.signing[0]
    keys = PublicKeySet(
        [PublicKeyInfo(key_id=entry.key_id, public=entry.public, not_before=NOW, not_after=LATER)]
    )
    keys.resolve(entry.key_id, NOW)
    with pytest.raises(VerificationError, match="not valid before"):
        keys.resolve(entry.key_id, NOW - timedelta(seconds=1))
    with pytest.raises(VerificationError, match="unknown signing key"):
        keys.resolve("ed25519:ffffffffffffffff", NOW)


def test_key_file_is_written_0600_and_loads(tmp_path: Path) -> None:
    ring = create_keyring("p", NOW, kem="mlkem768x25519", random=counter_random())
    path = tmp_path / "p.key.json"
    save_keyring(ring, path)
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert load_keyring(path) == ring


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660])
def test_key_file_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "p.key.json"
    save_keyring(create_keyring("p", NOW, random=counter_random()), path)
    os.chmod(path, mode)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_keyring(path)


def test_missing_key_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_keyring(tmp_path / "absent.json")


def test_key_file_with_mismatched_id_is_refused() -> None:
    ring = create_keyring("p", NOW, random=counter_random())
    other = create_keyring("q", NOW, random=counter_random("q"))
    bad = msgspec.structs.replace(
        ring, signing=(msgspec.structs.replace(ring.signing[0], private=other.signing[0].private),)
    )
    with pytest.raises(ConfigError, match="does not match its id"):
        keyring_from_json(keyring_to_json(bad))


def test_garbage_key_file_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not a valid silkgate key file"):
        keyring_from_json(b"{not json")
