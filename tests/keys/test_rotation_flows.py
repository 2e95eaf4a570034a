"""Rotation and revocation over the HTTP API, with the hub's clock moved by hand: old
receipts keep verifying, old keys sign requests only during the overlap, revoked keys sign
nothing new, and envelopes sealed before a rotation still open."""

from __future__ import annotations

import msgspec
import pytest
from api.cast import PRODUCT, PURPOSE, Env, waybill

from silkgate.client import HttpMailbox, SilkgateClient
from silkgate.errors import AuthError, ConflictError, ForbiddenError, InputError, SilkgateError
from silkgate.mailbox.inbox import drain_inbox
from silkgate.model import BatchResult, Receipt
from silkgate.registry.keys import signing_key_set
from silkgate.seal import envelope_digest, sign_receipt
from silkgate.seal.envelope import EnvelopeHeader
from silkgate.seal.keys import KeyRing, load_keyring
from silkgate.seal.receipts import verify_receipt

DAY = 86400
IMPORTER = "vn-importer"


def _deliver(env: Env, n: int = 1) -> BatchResult:
    result = env.clients["cn-exporter"].submit_batch(
        IMPORTER, PRODUCT, [waybill(i) for i in range(n)], purpose=PURPOSE
    )
    assert result.envelope_id is not None
    return result


def _receipt(env: Env, result: BatchResult, ring: KeyRing) -> Receipt:
    assert result.envelope_id is not None
    sealed = env.hub.store.get_envelope(result.envelope_id).data
    now = env.clock()
    _, key = ring.current_signing(now)
    return sign_receipt(
        result.envelope_id, result.batch_id, IMPORTER, envelope_digest(sealed), now, key
    )


def _rotate(env: Env, overlap_days: float) -> tuple[SilkgateClient, KeyRing]:
    """The importer rotates through the SDK; returns a client still holding the old ring."""
    old_ring = env.rings[IMPORTER]
    importer = env.clients[IMPORTER]
    participant = importer.rotate_keys(
        key_file=env.keys_dir / f"{IMPORTER}.json", overlap_days=overlap_days
    )
    assert participant.signing_keys[-1].key_id == importer.keys.signing[-1].key_id
    return env.client(old_ring), old_ring


def test_old_key_signs_requests_during_the_overlap_only(env: Env) -> None:
    old_client, old_ring = _rotate(env, overlap_days=1)
    new_client = env.clients[IMPORTER]
    assert old_client.whoami()["key_id"] == old_ring.signing[0].key_id
    assert new_client.whoami()["key_id"] == new_client.keys.signing[-1].key_id
    env.clock.advance(DAY + 1)
    with pytest.raises(AuthError, match="unknown or unusable"):
        old_client.whoami()
    assert new_client.whoami()["id"] == IMPORTER


def test_receipts_signed_before_a_rotation_still_verify(env: Env) -> None:
    result = _deliver(env)
    old_receipt = _receipt(env, result, env.rings[IMPORTER])
    _rotate(env, overlap_days=1)
    env.clock.advance(2 * DAY)  # the old key no longer signs anything new
    stored = env.clients[IMPORTER].acknowledge(old_receipt)
    assert stored.ledger_index is not None and stored.key_id == old_receipt.key_id


def test_a_receipt_claiming_a_time_after_the_overlap_is_refused(env: Env) -> None:
    result = _deliver(env)
    _, old_ring = _rotate(env, overlap_days=1)
    env.clock.advance(2 * DAY)
    only_old = msgspec.structs.replace(old_ring, signing=old_ring.signing[:1])
    late = _receipt(env, result, only_old)  # received_at: now, past the old key's window
    with pytest.raises(SilkgateError, match="expired"):
        env.clients[IMPORTER].acknowledge(late)


def test_a_revoked_key_signs_no_request_and_no_new_receipt(env: Env) -> None:
    result = _deliver(env)
    acked_first = _deliver(env)
    early = env.clients[IMPORTER].acknowledge(_receipt(env, acked_first, env.rings[IMPORTER]))
    pending = _receipt(env, result, env.rings[IMPORTER])  # signed, not yet posted
    old_client, old_ring = _rotate(env, overlap_days=30)
    env.clock.advance(60)
    old_id = old_ring.signing[0].key_id
    revoked = env.clients[IMPORTER].revoke_key(old_id)
    assert revoked.signing_keys[0].revoked_at == env.clock()
    with pytest.raises(AuthError, match="unknown or unusable"):
        old_client.whoami()
    with pytest.raises(SilkgateError, match="revoked"):
        env.clients[IMPORTER].acknowledge(pending)
    # a receipt acknowledged before the revocation still verifies, checked as of its time
    participant = env.hub.store.get_participant(IMPORTER)
    verify_receipt(early, signing_key_set(participant, revoked_as_of=early.received_at))


def test_envelopes_sealed_before_a_rotation_still_open(env: Env) -> None:
    before = _deliver(env, 2)
    _rotate(env, overlap_days=30)
    after = _deliver(env, 1)
    ring = load_keyring(env.keys_dir / f"{IMPORTER}.json")  # the rotated key file
    opened: list[EnvelopeHeader] = []
    summary = drain_inbox(
        HttpMailbox(env.clients[IMPORTER]),
        ring,
        sink=lambda header, _: opened.append(header),
        clock=env.clock,
    )
    assert summary.envelopes == 2 and summary.records == 3
    assert {h.envelope_id for h in opened} == {before.envelope_id, after.envelope_id}
    hpke = env.hub.store.get_participant(IMPORTER).hpke_keys
    assert hpke[-1].key_id == ring.hpke[-1].key_id  # new envelopes go to the new key


def test_revoking_the_current_hpke_key_falls_back_or_refuses_delivery(env: Env) -> None:
    ring = env.rings[IMPORTER]
    env.clients[IMPORTER].revoke_key(ring.hpke[0].key_id)
    with pytest.raises(InputError, match="no valid HPKE key"):
        _deliver(env)


def test_only_the_participant_or_the_operator_rotates_its_keys(env: Env) -> None:
    stranger = env.clients["th-other-importer"]
    with pytest.raises(ForbiddenError):
        stranger.revoke_key(env.rings[IMPORTER].signing[0].key_id, participant=IMPORTER)
    operator = env.clients["operator"]
    revoked = operator.revoke_key(env.rings[IMPORTER].hpke[0].key_id, participant=IMPORTER)
    assert revoked.hpke_keys[0].revoked_at is not None


def test_rotating_to_another_participants_key_conflicts(env: Env) -> None:
    other = env.rings["th-other-importer"]
    with pytest.raises(ConflictError, match="already registered"):
        env.clients[IMPORTER].register_keys(
            KeyRing(participant=IMPORTER, signing=other.signing, hpke=other.hpke)
        )


def test_registering_keys_again_is_a_safe_retry(env: Env) -> None:
    importer = env.clients[IMPORTER]
    importer.rotate_keys(overlap_days=1)
    first = env.hub.store.get_participant(IMPORTER)
    assert importer.register_keys(importer.keys, overlap_days=1) == first
