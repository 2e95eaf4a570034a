"""Policy lifecycle: transitions signed by a regulator, ledgered, and refused when invalid;
the active version makes the decisions."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import orjson
import pytest

from silkgate.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    PolicyError,
    VerificationError,
)
from silkgate.policy import PolicyEngine
from silkgate.registry.keys import rotate, rotate_key_file
from silkgate.sandbox.auth import sign_action
from silkgate.sandbox.lifecycle import transition_message
from silkgate.sandbox.packs import text_digest
from silkgate.seal.keys import ed25519_public_from_bytes

from .helpers import (
    OVERLAY,
    REGULATOR,
    TRIAL,
    World,
    cn_variant,
    demo_batches,
    move,
    propose,
)


def ledger_leaf(world: World, index: int | None) -> dict[str, object]:
    assert index is not None
    leaf: dict[str, object] = orjson.loads(world.hub.store.ledger_entries(index, index + 1)[0])
    return leaf


def test_every_transition_is_ledgered_and_signed(world: World) -> None:
    draft = propose(world)
    shadow = move(world, draft, "shadow")
    active = move(world, shadow, "active")
    retired = move(world, active, "retired")
    assert [t.to_state for t in retired.history] == ["draft", "shadow", "active", "retired"]
    regulator = world.hub.store.get_participant("cn-gx-data-authority")
    public = ed25519_public_from_bytes(regulator.signing_key)
    for step in retired.history:
        leaf = ledger_leaf(world, step.ledger_index)
        assert leaf["kind"] == "policy"
        assert (leaf["pack"], leaf["version"], leaf["to"]) == ("cn", "2026.1-trial", step.to_state)
        assert leaf["sha256"] == text_digest(TRIAL)
        assert leaf["by"] == "cn-gx-data-authority" and leaf["key_id"] == step.key_id
        message = transition_message(
            "cn", "2026.1-trial", text_digest(TRIAL), step.from_state, step.to_state, step.by
        )
        public.verify(bytes.fromhex(str(leaf["signature"])), message)  # raises if not
    stored = world.sandbox.lifecycle.get("cn", "2026.1-trial")
    assert stored.state == "retired" and stored.yaml == TRIAL


def test_activation_retires_the_previous_active_version(world: World) -> None:
    first = move(world, move(world, propose(world), "shadow"), "active")
    other = cn_variant("2026.2-trial", pi_contract_from=800)
    second = move(world, move(world, propose(world, other), "shadow"), "active")
    assert second.state == "active"
    before = world.sandbox.lifecycle.get("cn", first.version)
    assert before.state == "retired"
    assert before.history[-1].note == "superseded by 2026.2-trial"
    assert [v.version for v in world.sandbox.lifecycle.versions(state="active")] == ["2026.2-trial"]


@pytest.mark.parametrize(
    ("path", "to", "words"),
    [
        ((), "active", "shadow it first"),
        (("shadow", "active", "retired"), "active", "retired is final"),
        (("shadow", "active"), "shadow", "allowed: retired"),
        ((), "published", "unknown state"),
    ],
)
def test_invalid_transitions_are_refused_clearly(
    world: World, path: tuple[str, ...], to: str, words: str
) -> None:
    version = propose(world)
    for state in path:
        version = move(world, version, state)
    size = world.hub.store.ledger_size()
    with pytest.raises(ConflictError, match=words):
        move(world, version, to)
    assert world.hub.store.ledger_size() == size
    assert world.sandbox.lifecycle.get("cn", version.version).state == version.state


def test_only_a_regulator_with_its_registered_key_may_transition(world: World) -> None:
    draft = propose(world)
    with pytest.raises(ForbiddenError, match="not an active regulator"):
        move(world, draft, "shadow", who="cn-nanning-freight")
    # Signed for another move (draft -> active) and replayed for draft -> shadow:
    forged = world.approve(
        lambda by: transition_message("cn", draft.version, draft.sha256, "draft", "active", by)
    )
    with pytest.raises(VerificationError, match="does not verify"):
        world.sandbox.lifecycle.transition("cn", draft.version, "shadow", forged)
    wrong_key = msgspec.structs.replace(forged, key_id="ed25519:0000000000000000")
    with pytest.raises(VerificationError, match="is not registered to"):
        world.sandbox.lifecycle.transition("cn", draft.version, "shadow", wrong_key)
    assert world.sandbox.lifecycle.get("cn", draft.version).state == "draft"


def test_proposing_twice_or_moving_an_unknown_version_fails(world: World) -> None:
    propose(world)
    with pytest.raises(ConflictError, match="already exists"):
        propose(world)
    approval = world.approve(lambda by: b"anything")
    with pytest.raises(NotFoundError, match="no policy version cn@9"):
        world.sandbox.lifecycle.transition("cn", "9", "shadow", approval)


def test_the_active_version_makes_every_decision(world: World) -> None:
    default = PolicyEngine.default()
    batches = demo_batches(400, 100)
    first = world.hub.pipeline.submit(batches[0])
    assert first.policy_version == default.version
    move(world, move(world, propose(world), "shadow"), "active")
    active = world.sandbox.active_engine()
    assert active.version != default.version
    later = [world.hub.pipeline.submit(b) for b in batches[1:]]
    assert {d.policy_version for r in later for d in r.decisions} == {active.version}
    assert "cn@2026.1-trial" in next(
        d.facts["packs"] for r in later for d in r.decisions if "packs" in d.facts
    )


def test_a_pack_that_cannot_join_the_engines_is_refused_at_once(world: World) -> None:
    orphan = OVERLAY.replace("overlay_of: cn", "overlay_of: xx")
    digest = text_digest(orphan)
    approval = world.approve(
        lambda by: transition_message("gx-trial-customs", "1", digest, "", "draft", by)
    )
    with pytest.raises(PolicyError, match="unknown pack 'xx'"):
        world.sandbox.lifecycle.propose(orphan, approval)
    assert world.sandbox.lifecycle.versions() == []


def test_a_regulator_key_rotated_with_overlap_still_approves_until_the_overlap_ends(
    world: World,
) -> None:
    """Approvals are checked against the regulator's key history, as receipts and requests
    are: the old key signs during the overlap, not after it."""
    store = world.hub.store
    old_key = world.key()
    now = world.clock()
    path = world.keys_dir / f"{REGULATOR}.json"
    fresh = rotate_key_file(path, REGULATOR, now, timedelta(days=1))
    regulator = store.get_participant(REGULATOR)
    store.put_participant(
        rotate(regulator, fresh.signing_public, fresh.hpke_public, now, timedelta(days=1))
    )
    draft = propose(world)

    def message(by: str) -> bytes:
        return transition_message("cn", draft.version, draft.sha256, "draft", "shadow", by)

    with_old = sign_action(old_key, REGULATOR, message(REGULATOR))
    assert world.sandbox.lifecycle.transition("cn", draft.version, "shadow", with_old).state == (
        "shadow"
    )
    later = propose(world, cn_variant("2026.9-late", pi_contract_from=900))
    world.clock.now += timedelta(days=2)
    stale = sign_action(
        old_key,
        REGULATOR,
        transition_message("cn", later.version, later.sha256, "draft", "shadow", REGULATOR),
    )
    with pytest.raises(VerificationError, match="valid only"):
        world.sandbox.lifecycle.transition("cn", later.version, "shadow", stale)
