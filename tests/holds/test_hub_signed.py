"""The hub signs the releases its re-check makes: the `hold_release` leaf carries the hub's
key id and its Ed25519 signature over hold_message("release", envelope, reason, "hub"), so
anyone with the hub's published signing keys can check, offline, that this hub released
the batch and why. Each way of forging, moving or misreading such a leaf is refused."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from silkgate.errors import ForbiddenError, VerificationError
from silkgate.flow.holds import (
    HoldService,
    hold_message,
    public_keys,
    sign_hold,
    verify_hold_leaf,
)
from silkgate.hub import open_hub, rotate_envelope_key
from silkgate.ledger.leaves import HoldRejectLeaf, HoldReleaseLeaf, decode_leaf, encode_leaf
from silkgate.model import HUB_ACTOR
from silkgate.registry.keys import load_key_file
from silkgate.seal.keys import ed25519_key_id

from .helpers import BROKER, REGULATOR, World, make_world


def rechecked(world: World, destination: str = "MY", seed: int = 5) -> HoldReleaseLeaf:
    """Hold a batch to `destination`, file the missing contract, re-check: the release leaf."""
    held = str(world.held(destination, seed=seed).held_id)
    world.file_contract(destination)
    report = world.holds.recheck(exporter=BROKER)
    [item] = [i for i in report.items if i.envelope_id == held]
    assert item.released and item.ledger_index is not None
    [entry] = world.hub.store.ledger_entries(item.ledger_index, item.ledger_index + 1)
    leaf = decode_leaf(entry)
    assert isinstance(leaf, HoldReleaseLeaf)
    return leaf


def regulator_key(world: World) -> tuple[Ed25519PrivateKey, Ed25519PublicKey]:
    ring = load_key_file(world.keys_dir / f"{REGULATOR}.json")
    _, key = ring.current_signing(world.clock())
    return key, key.public_key()


def resigned(
    leaf: HoldReleaseLeaf, reason: str, key: Ed25519PrivateKey, by: str
) -> HoldReleaseLeaf:
    """The leaf signed again by `key` over its own envelope and `reason`, in `by`'s name."""
    made = sign_hold(key, by, "release", leaf.envelope_id, reason)
    return msgspec.structs.replace(leaf, key_id=made.key_id, signature=made.signature.hex())


@pytest.fixture
def leaf(world: World) -> HoldReleaseLeaf:
    return rechecked(world)


def test_the_recheck_release_carries_the_hubs_signature_and_verifies(
    world: World, leaf: HoldReleaseLeaf
) -> None:
    reason = world.holds.reason(leaf)
    assert "now covers this transfer" in reason
    assert leaf.by == HUB_ACTOR and leaf.automatic and leaf.signature
    assert leaf.key_id == ed25519_key_id(world.hub.secrets.signing_key)
    assert leaf.requested_by is None  # the hub's own re-check, nobody asked over the API
    verify_hold_leaf(leaf, reason, hub=world.hub.envelope_public_keys())
    # The regulator's key may be given too (an auditor checking both kinds): unused here.
    verify_hold_leaf(
        leaf, reason, hub=world.hub.envelope_public_keys(), regulator=regulator_key(world)[1]
    )


def test_the_signature_verifies_with_cryptography_over_the_documented_bytes(
    world: World, leaf: HoldReleaseLeaf
) -> None:
    """Not through our helpers: the message built with the standard library from the format
    in docs/ledger.md, the key from its raw bytes, pyca/cryptography's Ed25519 verify."""
    reason = world.holds.reason(leaf)
    body = {
        "action": "silkgate.holds.release",
        "envelope_id": leaf.envelope_id,
        "reason": reason,
        "by": "hub",
    }
    message = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    raw = world.hub.secrets.signing_key.public_key().public_bytes_raw()
    public = Ed25519PublicKey.from_public_bytes(raw)
    public.verify(bytes.fromhex(str(leaf.signature)), message.encode("utf-8"))
    with pytest.raises(InvalidSignature):
        public.verify(bytes.fromhex(str(leaf.signature)), message.replace("hub", "hub2").encode())
    # And our builder makes those bytes for any text, non-ASCII and quotes included.
    text = '放行 → "Hà Nội" \\ done'
    expected = json.dumps(
        {**body, "reason": text}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")
    assert hold_message("release", leaf.envelope_id, text, "hub") == expected


def test_a_leaf_written_before_the_hub_signed_says_so(world: World, leaf: HoldReleaseLeaf) -> None:
    old = msgspec.structs.replace(leaf, key_id=None, signature=None)
    assert b"signature" not in encode_leaf(old) and decode_leaf(encode_leaf(old)) == old
    with pytest.raises(VerificationError, match=r"carries no signature.*before the hub's"):
        verify_hold_leaf(old, world.holds.reason(leaf), hub=world.hub.envelope_public_keys())


def test_a_hub_release_needs_the_hubs_keys(world: World, leaf: HoldReleaseLeaf) -> None:
    reason = world.holds.reason(leaf)
    with pytest.raises(VerificationError, match="give the hub's public signing keys"):
        verify_hold_leaf(leaf, reason, regulator=regulator_key(world)[1])
    with pytest.raises(VerificationError, match="not one of this hub's signing keys"):
        verify_hold_leaf(leaf, reason, hub=public_keys(regulator_key(world)[1]))


def test_a_leaf_of_another_hub_does_not_verify_with_this_hubs_keys(
    world: World, leaf: HoldReleaseLeaf, tmp_path: Path
) -> None:
    other = make_world(tmp_path / "other")
    try:
        theirs = rechecked(other)
        their_reason = other.holds.reason(theirs)
        verify_hold_leaf(theirs, their_reason, hub=other.hub.envelope_public_keys())
        with pytest.raises(VerificationError, match="another hub"):
            verify_hold_leaf(theirs, their_reason, hub=world.hub.envelope_public_keys())
        with pytest.raises(VerificationError, match="another hub"):
            verify_hold_leaf(leaf, world.holds.reason(leaf), hub=other.hub.envelope_public_keys())
    finally:
        other.hub.close()


def test_a_regulators_key_on_a_leaf_saying_the_hub_released_is_refused(
    world: World, leaf: HoldReleaseLeaf
) -> None:
    """The regulator signs in the hub's name over the same message: not the hub's key."""
    private, public = regulator_key(world)
    reason = world.holds.reason(leaf)
    forged = resigned(leaf, reason, private, HUB_ACTOR)
    public.verify(bytes.fromhex(str(forged.signature)), hold_message(  # a valid signature ...
        "release", leaf.envelope_id, reason, HUB_ACTOR))  # fmt: skip
    with pytest.raises(VerificationError, match="not one of this hub's signing keys"):
        verify_hold_leaf(forged, reason, hub=world.hub.envelope_public_keys(), regulator=public)
    # ... and naming the hub's key id instead does not help: the signature is not the hub's.
    lying = msgspec.structs.replace(forged, key_id=leaf.key_id)
    with pytest.raises(VerificationError, match="does not verify"):
        verify_hold_leaf(lying, reason, hub=world.hub.envelope_public_keys(), regulator=public)


def test_the_hubs_key_on_a_leaf_saying_a_regulator_released_is_refused(
    world: World, leaf: HoldReleaseLeaf
) -> None:
    """The hub (or whoever holds its data directory) signs a release in the regulator's name."""
    reason = world.holds.reason(leaf)
    forged = resigned(leaf, reason, world.hub.secrets.signing_key, REGULATOR)
    forged = msgspec.structs.replace(forged, by=REGULATOR, automatic=None)
    hub_keys = world.hub.envelope_public_keys()
    _, public = regulator_key(world)
    with pytest.raises(VerificationError, match="signed with the hub's key"):
        verify_hold_leaf(forged, reason, hub=hub_keys, regulator=public)
    with pytest.raises(VerificationError, match="not with the key given"):
        verify_hold_leaf(forged, reason, regulator=public)  # without the hub's keys too
    # Handing the hub's key in as the regulator's is caught when the hub's keys are given.
    hub_public = world.hub.secrets.signing_key.public_key()
    with pytest.raises(VerificationError, match="is one of the hub's signing keys"):
        verify_hold_leaf(forged, reason, hub=hub_keys, regulator=hub_public)


@pytest.mark.parametrize(
    "change",
    [
        {"envelope_id": "env-other"},
        {"by": REGULATOR},  # still marked automatic: only the hub releases automatically
        {"by": REGULATOR, "automatic": None},  # then the hub's key is not the regulator's
        {"automatic": None},  # the hub's, but not a re-check
        {"by": "hub "},
    ],
    ids=["envelope", "by", "by-and-automatic", "automatic", "by-spaced"],
)
def test_a_changed_envelope_or_by_is_refused(
    world: World, leaf: HoldReleaseLeaf, change: dict[str, object]
) -> None:
    changed = msgspec.structs.replace(leaf, **change)
    _, public = regulator_key(world)
    with pytest.raises(VerificationError):
        verify_hold_leaf(
            changed,
            world.holds.reason(leaf),
            hub=world.hub.envelope_public_keys(),
            regulator=public,
        )


def test_a_changed_reason_or_signature_is_refused(world: World, leaf: HoldReleaseLeaf) -> None:
    reason = world.holds.reason(leaf)
    keys = world.hub.envelope_public_keys()
    with pytest.raises(VerificationError, match="does not verify"):
        verify_hold_leaf(leaf, reason + ".", hub=keys)
    with pytest.raises(VerificationError, match="does not verify"):
        verify_hold_leaf(leaf, reason.replace("re-check", "regulator"), hub=keys)
    sig = bytearray(bytes.fromhex(str(leaf.signature)))
    sig[5] ^= 1
    for bad in (sig.hex(), str(leaf.signature)[:-2], "zz" + str(leaf.signature)[2:]):
        with pytest.raises(VerificationError, match="does not verify"):
            verify_hold_leaf(msgspec.structs.replace(leaf, signature=bad), reason, hub=keys)
    # A leaf written before commitments holds the reason itself: it is what is checked.
    inline = msgspec.structs.replace(leaf, reason=reason + "!", reason_commitment=None)
    with pytest.raises(VerificationError, match="does not verify"):
        verify_hold_leaf(inline, reason, hub=keys)
    verify_hold_leaf(msgspec.structs.replace(inline, reason=reason), None, hub=keys)


def test_the_hub_never_rejects(world: World, leaf: HoldReleaseLeaf) -> None:
    fields = msgspec.structs.asdict(leaf)
    for extra in ("counted", "automatic", "filings", "policy_version", "requested_by", "digest"):
        fields.pop(extra)
    rejected = HoldRejectLeaf(**fields)
    with pytest.raises(VerificationError, match="never rejects"):
        verify_hold_leaf(rejected, world.holds.reason(leaf), hub=world.hub.envelope_public_keys())


def test_a_participant_named_hub_cannot_act_on_holds(world: World) -> None:
    """A regulator registered as 'hub' would write leaves that read as the hub's re-check."""
    impostor = msgspec.structs.replace(world.hub.store.get_participant(REGULATOR), id=HUB_ACTOR)
    world.hub.store.put_participant(impostor)
    held = str(world.held("MY").held_id)
    private, _ = regulator_key(world)
    for action in ("release", "reject"):
        approval = sign_hold(private, HUB_ACTOR, action, held, "as the hub")
        with pytest.raises(ForbiddenError, match="name the hub's re-check releases under"):
            getattr(world.holds, action)(held, approval=approval, reason="as the hub")
    assert world.hub.store.get_envelope(held).state == "held"


def test_a_recheck_asked_for_over_the_api_names_who_asked_but_is_the_hubs(
    world: World,
) -> None:
    held = str(world.held("MY").held_id)
    world.file_contract("MY")
    [item] = world.holds.recheck(exporter=BROKER, requested_by=BROKER).items
    assert item.envelope_id == held and item.ledger_index is not None
    [entry] = world.hub.store.ledger_entries(item.ledger_index, item.ledger_index + 1)
    leaf = decode_leaf(entry)
    assert isinstance(leaf, HoldReleaseLeaf)
    assert (leaf.by, leaf.requested_by) == (HUB_ACTOR, BROKER)
    verify_hold_leaf(leaf, world.holds.reason(leaf), hub=world.hub.envelope_public_keys())


def test_after_a_key_rotation_old_and_new_releases_verify(world: World) -> None:
    """The hub's envelope key rotates; the retired key stays published, so its releases
    still verify, and releases after the rotation are signed with the new key."""
    before = rechecked(world, "MY")
    before_reason = world.holds.reason(before)
    world.hub.close()
    new_id = rotate_envelope_key(world.hub.data_dir)
    hub = open_hub(world.hub.data_dir, clock=world.clock)
    world.hub, world.holds = hub, HoldService.for_hub(hub)
    after = rechecked(world, "ID")
    assert after.key_id == new_id != before.key_id
    keys = hub.envelope_public_keys()
    verify_hold_leaf(before, before_reason, hub=keys)
    verify_hold_leaf(after, world.holds.reason(after), hub=keys)
    current_only = {new_id: keys[new_id]}
    with pytest.raises(VerificationError, match="not one of this hub's signing keys"):
        verify_hold_leaf(before, before_reason, hub=current_only)


def test_the_documented_message_is_the_one_signed() -> None:
    """docs/ledger.md, "Hold decisions", shows the signed bytes with placeholders."""
    doc = (Path(__file__).parents[2] / "docs" / "ledger.md").read_text(encoding="utf-8")
    section = doc.split("## Hold decisions", 1)[1]
    template = section.split("```\n", 2)[1].split("```", 1)[0].rstrip("\n")
    values = {"<by>": "hub", "<envelope_id>": "env-01", "<reason>": "re-check: filing fil-1"}
    for placeholder, value in values.items():
        template = template.replace(placeholder, value)
    assert template.encode() == hold_message("release", "env-01", " re-check: filing fil-1 ", "hub")
