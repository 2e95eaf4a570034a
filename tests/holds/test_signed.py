"""Hold releases and rejections are signed by the regulator's key: verified against its key
history when acted on, and carried by the ledger leaf so anyone can check them offline."""

from __future__ import annotations

import msgspec
import pytest

from silkgate.errors import ForbiddenError, VerificationError
from silkgate.flow.holds import REJECT_KIND, RELEASE_KIND, sign_hold, verify_hold_leaf
from silkgate.ledger.leaves import HoldRejectLeaf, HoldReleaseLeaf, decode_leaf, encode_leaf
from silkgate.registry.keys import load_key_file
from silkgate.registry.service import LOCAL_OPERATOR, RegistryService
from silkgate.sandbox.auth import Approval
from silkgate.seal.keys import create_keyring, ed25519_public_from_bytes

from .helpers import BROKER, REGULATOR, World


def regulator_public(world: World) -> bytes:
    return world.hub.store.get_participant(REGULATOR).signing_key


def ledger_leaf(world: World, index: int) -> HoldReleaseLeaf | HoldRejectLeaf:
    [entry] = world.hub.store.ledger_entries(index, index + 1)
    leaf = decode_leaf(entry)
    assert isinstance(leaf, HoldReleaseLeaf | HoldRejectLeaf)
    return leaf


@pytest.mark.parametrize("action", ["release", "reject"])
def test_the_leaf_carries_the_signature_and_verifies_with_the_regulators_key(
    world: World, action: str
) -> None:
    held = str(world.held("MY").held_id)
    done = getattr(world, action)(held, by=REGULATOR, reason="reviewed by the authority")
    leaf = ledger_leaf(world, done.ledger_index)
    ring = load_key_file(world.keys_dir / f"{REGULATOR}.json")
    key_id, _ = ring.current_signing(world.clock())
    assert leaf.key_id == key_id and leaf.signature
    reason = world.holds.reason(leaf)  # the text behind the leaf's commitment
    assert reason == "reviewed by the authority"
    regulator = ed25519_public_from_bytes(regulator_public(world))
    verify_hold_leaf(leaf, reason, regulator=regulator)
    verify_hold_leaf(leaf, reason, regulator=regulator, hub=world.hub.envelope_public_keys())
    # Another key, or another reason than the one signed, does not verify.
    broker = world.hub.store.get_participant(BROKER).signing_key
    with pytest.raises(VerificationError, match="not with the key given"):
        verify_hold_leaf(leaf, reason, regulator=ed25519_public_from_bytes(broker))
    with pytest.raises(VerificationError, match="does not verify"):
        verify_hold_leaf(leaf, "other", regulator=regulator)
    with pytest.raises(VerificationError, match="commits to its reason"):
        verify_hold_leaf(leaf, regulator=regulator)


def test_a_signature_made_with_an_unregistered_key_is_refused(world: World) -> None:
    held = str(world.held("MY").held_id)
    stranger = create_keyring(REGULATOR, world.clock())  # right name, wrong key
    _, key = stranger.current_signing(world.clock())
    approval = sign_hold(key, REGULATOR, "release", held, "let it go")
    with pytest.raises(VerificationError, match="not registered"):
        world.holds.release(held, approval=approval, reason="let it go")
    assert world.hub.store.get_envelope(held).state == "held"
    assert world.leaves(RELEASE_KIND) == []


def test_a_signature_over_another_action_envelope_or_reason_is_refused(world: World) -> None:
    first = str(world.held("MY").held_id)
    second = str(world.held("MY", seed=6).held_id)
    rejecting = world.approval("reject", first, REGULATOR, "no")
    with pytest.raises(VerificationError):  # a rejection's signature cannot release
        world.holds.release(first, approval=rejecting, reason="no")
    other = world.approval("release", second, REGULATOR, "ok")
    with pytest.raises(VerificationError):  # nor release another envelope
        world.holds.release(first, approval=other, reason="ok")
    reworded = world.approval("release", first, REGULATOR, "ok")
    with pytest.raises(VerificationError):
        world.holds.release(first, approval=reworded, reason="ok, and more")
    assert {world.hub.store.get_envelope(e).state for e in (first, second)} == {"held"}


def test_a_participant_cannot_sign_in_the_regulators_name(world: World) -> None:
    """The broker signs with its own (registered) key but names the regulator."""
    held = str(world.held("MY").held_id)
    broker = load_key_file(world.keys_dir / f"{BROKER}.json")
    key_id, key = broker.current_signing(world.clock())
    made = sign_hold(key, BROKER, "release", held, "mine")
    impostor = Approval(by=REGULATOR, key_id=key_id, signature=made.signature)
    with pytest.raises(VerificationError):
        world.holds.release(held, approval=impostor, reason="mine")
    with pytest.raises(ForbiddenError, match="only a regulator"):
        world.holds.release(held, approval=made, reason="mine")


def test_a_revoked_regulator_key_signs_nothing(world: World) -> None:
    held = str(world.held("MY").held_id)
    ring = load_key_file(world.keys_dir / f"{REGULATOR}.json")
    key_id, _ = ring.current_signing(world.clock())
    RegistryService.for_hub(world.hub).revoke_key(REGULATOR, key_id, LOCAL_OPERATOR)
    world.clock.advance(seconds=1)
    with pytest.raises(VerificationError, match="revoked"):
        world.release(held, by=REGULATOR, reason="too late")
    assert world.hub.store.get_envelope(held).state == "held"


def test_leaves_written_before_signed_holds_still_decode(world: World) -> None:
    held = str(world.held("MY").held_id)
    leaf = ledger_leaf(world, world.reject(held, by=REGULATOR, reason="x").ledger_index)
    old = msgspec.structs.replace(leaf, key_id=None, signature=None)
    entry = encode_leaf(old)
    assert b"key_id" not in entry and b"signature" not in entry  # the old bytes exactly
    assert decode_leaf(entry) == old
    with pytest.raises(VerificationError, match=r"carries no signature.*before a regulator"):
        verify_hold_leaf(old, "x", regulator=ed25519_public_from_bytes(regulator_public(world)))
    assert world.leaves(REJECT_KIND)[0]["signature"] == leaf.signature


def test_a_deactivated_regulator_decides_nothing(world: World) -> None:
    held = str(world.held("MY").held_id)
    RegistryService.for_hub(world.hub).update_participant(
        REGULATOR, {"active": False}, LOCAL_OPERATOR
    )
    with pytest.raises(ForbiddenError, match="deactivated"):
        world.release(held, by=REGULATOR, reason="still me")
    with pytest.raises(ForbiddenError, match="deactivated"):
        world.reject(held, by=REGULATOR, reason="still me")
    assert world.hub.store.get_envelope(held).state == "held"
