"""The hub's key history, pure: rotation windows, revocation, which key verifies what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from silkgate.errors import AuthError, ConflictError, InputError, NotFoundError, VerificationError
from silkgate.model import Participant
from silkgate.registry.keys import (
    current_hpke_key,
    request_key,
    revoke,
    rotate,
    signing_key_set,
    with_history,
)
from silkgate.seal.keys import KeyRing, create_keyring, ed25519_public_bytes

T0 = datetime(2026, 6, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def _ring(at: datetime = T0) -> KeyRing:
    return create_keyring("vn-importer", at)


def _registered(ring: KeyRing) -> Participant:
    bare = Participant(
        id="vn-importer",
        name="VN Importer",
        jurisdiction="VN",
        roles=("importer",),
        signing_key=ring.signing[0].public,
        hpke_key=ring.hpke[0].public,
    )
    return with_history(bare, T0)


def _rotated(p: Participant, at: datetime, overlap: timedelta) -> tuple[Participant, KeyRing]:
    new = _ring(at)
    return rotate(p, new.signing[0].public, new.hpke[0].public, at, overlap), new


def test_registration_starts_a_history() -> None:
    ring = _ring()
    p = _registered(ring)
    assert [k.key_id for k in p.signing_keys] == [ring.signing[0].key_id]
    assert [k.key_id for k in p.hpke_keys] == [ring.hpke[0].key_id]
    assert p.signing_keys[0].not_before == T0 and p.signing_keys[0].not_after is None


def test_rotation_retires_the_old_keys_after_the_overlap() -> None:
    old = _ring()
    p, new = _rotated(_registered(old), T0 + DAY, 2 * DAY)
    assert [k.key_id for k in p.signing_keys] == [old.signing[0].key_id, new.signing[0].key_id]
    assert p.signing_keys[0].not_after == T0 + 3 * DAY
    assert p.signing_key == new.signing[0].public
    assert current_hpke_key(p, T0 + DAY) == new.hpke[0].public
    old_id = old.signing[0].key_id
    assert request_key(p, old_id, T0 + 3 * DAY)  # the last moment of the overlap
    with pytest.raises(AuthError, match="valid only from"):
        request_key(p, old_id, T0 + 3 * DAY + timedelta(seconds=1))


def test_registering_the_current_keys_again_changes_nothing() -> None:
    p, new = _rotated(_registered(_ring()), T0 + DAY, DAY)
    again = rotate(p, new.signing[0].public, new.hpke[0].public, T0 + 2 * DAY, DAY)
    assert again == p


def test_an_old_key_cannot_come_back() -> None:
    old = _ring()
    p, _ = _rotated(_registered(old), T0 + DAY, DAY)
    with pytest.raises(ConflictError, match="fresh key"):
        rotate(p, old.signing[0].public, old.hpke[0].public, T0 + 2 * DAY, DAY)


def test_malformed_keys_and_overlaps_are_refused() -> None:
    p = _registered(_ring())
    with pytest.raises(InputError, match="32 bytes"):
        rotate(p, b"short", p.hpke_key, T0, DAY)
    new = _ring()
    with pytest.raises(InputError, match="overlap"):
        rotate(p, new.signing[0].public, new.hpke[0].public, T0, timedelta(days=400))


def test_revocation_refuses_requests_but_keeps_earlier_signatures() -> None:
    old = _ring()
    p, _ = _rotated(_registered(old), T0 + DAY, 30 * DAY)
    old_id = old.signing[0].key_id
    revoked = revoke(p, old_id, T0 + 2 * DAY)
    assert revoked.signing_keys[0].revoked_at == T0 + 2 * DAY
    assert revoke(revoked, old_id, T0 + 3 * DAY) == revoked  # the first time stays
    with pytest.raises(AuthError, match="revoked"):
        request_key(revoked, old_id, T0 + 2 * DAY)
    # checked as of a time before the revocation, the old key still verifies
    earlier = signing_key_set(revoked, revoked_as_of=T0 + DAY)
    public = earlier.resolve(old_id, T0 + DAY)
    assert public.public_bytes_raw() == ed25519_public_bytes(old.current_signing(T0)[1])
    with pytest.raises(VerificationError, match="revoked"):
        signing_key_set(revoked, revoked_as_of=T0 + 2 * DAY).resolve(old_id, T0 + DAY)


def test_revoking_the_last_hpke_key_leaves_nothing_to_seal_to() -> None:
    ring = _ring()
    p = revoke(_registered(ring), ring.hpke[0].key_id, T0 + DAY)
    assert p.hpke_key == b""
    with pytest.raises(InputError, match="rotate-keys"):
        current_hpke_key(p, T0 + DAY)


def test_revoking_an_unknown_key_names_the_known_ones() -> None:
    ring = _ring()
    with pytest.raises(NotFoundError, match=ring.signing[0].key_id):
        revoke(_registered(ring), "ed25519:0000000000000000", T0)


def test_participants_without_a_history_keep_working() -> None:
    ring = _ring()
    legacy = Participant(
        id="old",
        name="Old",
        jurisdiction="VN",
        roles=("importer",),
        signing_key=ring.signing[0].public,
        hpke_key=ring.hpke[0].public,
    )
    assert request_key(legacy, ring.signing[0].key_id, T0)
    assert current_hpke_key(legacy, T0) == ring.hpke[0].public
