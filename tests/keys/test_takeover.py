"""Key takeover (issue 11, finding 4), tried as an attacker who stole an importer's OLD key:
during the overlap after a rotation the old key still signs ordinary requests, but it can
no longer rotate again or revoke the new key; a revoked key can do nothing; the current key
and the operator (over the API or on the hub) still manage keys."""

from __future__ import annotations

import msgspec
import pytest
from api.cast import PRODUCT, PURPOSE, Env, waybill

from silkgate.client import SilkgateClient
from silkgate.errors import AuthError, ForbiddenError
from silkgate.model import Participant
from silkgate.registry.keys import current_hpke_key
from silkgate.registry.service import (
    LOCAL_OPERATOR,
    Actor,
    AgreementRequest,
    RegistryService,
    check_current_key,
)
from silkgate.seal.keys import KeyRing, create_keyring

OWNER = "vn-importer"
DAY = 86400


def _rotated(env: Env) -> tuple[SilkgateClient, SilkgateClient, KeyRing]:
    """The owner rotates with a 30-day overlap; returns (owner's client on its new key,
    the attacker's client on the old key, the old ring)."""
    old_ring = env.rings[OWNER]
    owner = env.clients[OWNER]
    owner.rotate_keys(overlap_days=30)
    return owner, env.client(old_ring), old_ring


def _stored(env: Env) -> Participant:
    return env.hub.store.get_participant(OWNER)


def test_old_key_still_signs_ordinary_requests_during_the_overlap(env: Env) -> None:
    _, attacker, old_ring = _rotated(env)
    assert attacker.whoami()["key_id"] == old_ring.signing[0].key_id
    assert attacker.mailbox().envelopes == []


def test_old_key_cannot_rotate_again(env: Env) -> None:
    _, attacker, _ = _rotated(env)
    before = _stored(env)
    mine = create_keyring(OWNER, env.clock())
    with pytest.raises(ForbiddenError, match="retired by the rotation"):
        attacker.register_keys(mine, overlap_days=0)
    assert _stored(env) == before


def test_old_key_cannot_revoke_the_new_key(env: Env) -> None:
    owner, attacker, _ = _rotated(env)
    before = _stored(env)
    new_id = before.signing_keys[-1].key_id
    for key_id in (new_id, before.hpke_keys[-1].key_id, before.signing_keys[0].key_id):
        with pytest.raises(ForbiddenError, match="need the current key"):
            attacker.revoke_key(key_id)
    assert _stored(env) == before
    assert owner.whoami()["key_id"] == new_id


def test_the_scripted_takeover_fails_and_envelopes_stay_sealed_to_the_owner(env: Env) -> None:
    """The attack from the issue: rotate to the attacker's keys with overlap 0, then revoke
    the owner's new key. Both steps are refused; new envelopes go to the owner's key."""
    owner, attacker, _ = _rotated(env)
    stolen = create_keyring(OWNER, env.clock())
    with pytest.raises(ForbiddenError):
        attacker.register_keys(stolen, overlap_days=0)
    with pytest.raises(ForbiddenError):
        attacker.revoke_key(owner.keys.signing[-1].key_id)
    env.clients["cn-exporter"].submit_batch(OWNER, PRODUCT, [waybill(1)], purpose=PURPOSE)
    sealed_to = current_hpke_key(_stored(env), env.clock())
    assert sealed_to == owner.keys.hpke[-1].public
    assert sealed_to != stolen.hpke[-1].public


def test_a_revoked_key_does_nothing(env: Env) -> None:
    owner, attacker, old_ring = _rotated(env)
    owner.revoke_key(old_ring.signing[0].key_id)
    before = _stored(env)
    # refused at authentication (401; its message is the authenticator's business)
    with pytest.raises(AuthError):
        attacker.whoami()
    with pytest.raises(AuthError):
        attacker.register_keys(create_keyring(OWNER, env.clock()), overlap_days=0)
    with pytest.raises(AuthError):
        attacker.revoke_key(owner.keys.signing[-1].key_id)
    assert _stored(env) == before
    # and behind the authentication, the service refuses it too
    service = RegistryService.for_hub(env.hub, clock=env.clock)
    actor = Actor.signed(OWNER, old_ring.signing[0].key_id)
    with pytest.raises(ForbiddenError, match="was revoked"):
        service.revoke_key(OWNER, owner.keys.signing[-1].key_id, actor)
    with pytest.raises(ForbiddenError, match="was revoked"):
        check_current_key(_stored(env), old_ring.signing[0].key_id, env.clock())


def test_the_current_key_rotates_and_revokes(env: Env) -> None:
    owner, _, old_ring = _rotated(env)
    env.clock.advance(60)
    again = owner.rotate_keys(overlap_days=1)
    assert len(again.signing_keys) == 3
    revoked = owner.revoke_key(old_ring.signing[0].key_id)
    assert revoked.signing_keys[0].revoked_at == env.clock()
    assert owner.whoami()["key_id"] == again.signing_keys[-1].key_id


def test_the_operator_rotates_over_the_api(env: Env) -> None:
    _, attacker, _ = _rotated(env)
    fresh = create_keyring(OWNER, env.clock())
    operator = env.clients["operator"]
    body = {
        "signing_key": fresh.signing[0].public,
        "hpke_key": fresh.hpke[0].public,
        "overlap_days": 0,
    }
    rotated = msgspec.json.decode(
        operator.request("POST", f"/v1/participants/{OWNER}/keys", body=body).content,
        type=Participant,
    )
    assert rotated.signing_keys[-1].key_id == fresh.signing[0].key_id
    env.clock.advance(1)
    with pytest.raises(AuthError):
        attacker.whoami()  # overlap 0: the stolen key is done


def test_the_operator_on_the_hub_recovers_a_locked_out_participant(env: Env) -> None:
    """The owner revokes its own current key: it is locked out of key changes (an older key
    still inside its overlap does not become current again); the local operator rotates."""
    owner, attacker, _ = _rotated(env)
    owner.revoke_key(owner.keys.signing[-1].key_id)
    with pytest.raises(ForbiddenError, match="retired"):
        attacker.register_keys(create_keyring(OWNER, env.clock()), overlap_days=0)
    fresh = create_keyring(OWNER, env.clock())
    service = RegistryService.for_hub(env.hub, clock=env.clock)
    rotated = service.rotate_keys(
        OWNER, fresh.signing[0].public, fresh.hpke[0].public, 0, LOCAL_OPERATOR
    )
    assert rotated.signing_keys[-1].key_id == fresh.signing[0].key_id
    assert env.client(fresh).whoami()["id"] == OWNER


def test_a_retry_of_the_rotation_with_the_old_key_changes_nothing(env: Env) -> None:
    """The SDK signs a rotation with the old key; if the answer was lost and it retries,
    posting the keys that are already current is a no-op, not a refusal."""
    owner, attacker, _ = _rotated(env)
    before = _stored(env)
    assert attacker.register_keys(owner.keys, overlap_days=30) == before
    assert _stored(env) == before


def test_a_retired_operator_key_changes_nothing_in_the_registry(env: Env) -> None:
    operator = env.clients["operator"]
    old = env.client(env.rings["operator"])
    operator.rotate_keys(overlap_days=30)
    body = {
        "exporter": "cn-exporter",
        "importer": "vn-importer",
        "product": "ecommerce.order",
        "purpose": "contract_performance",
        "instrument": "contract_necessity",
    }
    with pytest.raises(ForbiddenError, match="retired"):
        old.request("POST", "/v1/agreements", body=body)
    assert old.whoami()["id"] == "operator"  # ordinary requests still pass in the overlap
    assert operator.request("POST", "/v1/agreements", body=body).status_code == 201
    service = RegistryService.for_hub(env.hub, clock=env.clock)
    retired = Actor.signed("operator", env.rings["operator"].signing[0].key_id)
    with pytest.raises(ForbiddenError, match="retired"):
        request = msgspec.convert({**body, "id": "agr-old-key"}, AgreementRequest)
        service.add_agreement(request, retired)
