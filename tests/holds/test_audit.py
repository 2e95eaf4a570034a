"""`HoldService.audit` and `silkgate holds audit`: every hold decision in the log has its
signature checked, the hub's with the hub's keys and a regulator's with the key it had
when it signed; the first leaf that does not verify is named."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest
from typer.testing import CliRunner

from silkgate.cli.holds import holds_app
from silkgate.errors import VerificationError
from silkgate.flow.holds import HoldService, public_keys
from silkgate.hub import open_hub, rotate_envelope_key
from silkgate.ledger.leaves import HoldRejectLeaf, HoldReleaseLeaf, append_leaf, decode_leaf
from silkgate.ledger.notes import NOTE_KIND, Note
from silkgate.registry.keys import load_key_file
from silkgate.registry.service import LOCAL_OPERATOR, RegistryService

from .helpers import BROKER, REGULATOR, World

runner = CliRunner()


def decide_three(world: World) -> dict[str, int]:
    """A regulator releases one batch and rejects another; the hub's re-check releases a
    third. Their ledger indexes."""
    released = world.release(
        str(world.held("MY").held_id), by=REGULATOR, reason="reviewed: contract on file"
    )
    rejected = world.reject(str(world.held("ID").held_id), by=REGULATOR, reason="no basis")
    held = str(world.held("MY", seed=7).held_id)
    world.file_contract("MY")
    [item] = world.holds.recheck(exporter=BROKER).items
    assert item.envelope_id == held and item.ledger_index is not None
    return {"regulator": released.ledger_index, "reject": rejected.ledger_index,
            "hub": item.ledger_index}  # fmt: skip


def leaf_at(world: World, index: int) -> HoldReleaseLeaf | HoldRejectLeaf:
    [entry] = world.hub.store.ledger_entries(index, index + 1)
    leaf = decode_leaf(entry)
    assert isinstance(leaf, HoldReleaseLeaf | HoldRejectLeaf)
    return leaf


def test_every_hold_decision_verifies(world: World) -> None:
    decide_three(world)
    audit = world.holds.audit(world.hub.envelope_public_keys())
    assert (audit.leaves, audit.by_hub, audit.by_regulators, audit.unsigned) == (3, 1, 2, ())


def test_a_key_revoked_after_it_signed_still_vouches_for_what_it_signed(world: World) -> None:
    decide_three(world)
    ring = load_key_file(world.keys_dir / f"{REGULATOR}.json")
    key_id, _ = ring.current_signing(world.clock())
    world.clock.advance(days=1)
    RegistryService.for_hub(world.hub).revoke_key(REGULATOR, key_id, LOCAL_OPERATOR)
    assert world.holds.audit(world.hub.envelope_public_keys()).by_regulators == 2


def test_a_leaf_signed_with_a_key_revoked_before_it_was_written_is_named(world: World) -> None:
    """A leaf claiming a time after its key's revocation (the hub could not have accepted
    it) fails the audit."""
    index = decide_three(world)["regulator"]
    leaf = leaf_at(world, index)
    world.clock.advance(seconds=1)  # revoked after the leaves above were written
    RegistryService.for_hub(world.hub).revoke_key(REGULATOR, str(leaf.key_id), LOCAL_OPERATOR)
    world.clock.advance(seconds=1)
    late = msgspec.structs.replace(leaf, time=world.clock())
    late_index = append_leaf(world.hub.log, late)
    with pytest.raises(VerificationError, match=rf"ledger entry {late_index}: .*revoked"):
        world.holds.audit(world.hub.envelope_public_keys())


def test_a_reason_changed_in_the_store_is_named(world: World) -> None:
    index = decide_three(world)["hub"]
    leaf = leaf_at(world, index)
    assert leaf.reason_commitment is not None
    raw = world.hub.store.get_sandbox_doc(NOTE_KIND, leaf.reason_commitment)
    assert raw is not None
    note = msgspec.msgpack.decode(raw, type=Note)
    changed = Note(note.salt, note.text.replace("covers", "does not cover"))
    world.hub.store.put_sandbox_doc(
        NOTE_KIND, leaf.reason_commitment, msgspec.msgpack.encode(changed)
    )
    with pytest.raises(VerificationError, match=rf"ledger entry {index}: .*does not open"):
        world.holds.audit(world.hub.envelope_public_keys())


def test_another_hubs_keys_or_a_retired_key_left_out_are_named(world: World) -> None:
    index = decide_three(world)["hub"]
    stranger = public_keys(world.hub.store.get_participant(BROKER).signing_key)
    with pytest.raises(VerificationError, match=rf"ledger entry {index}: .*another hub"):
        world.holds.audit(stranger)
    world.hub.close()
    rotate_envelope_key(world.hub.data_dir)
    world.hub = open_hub(world.hub.data_dir, clock=world.clock)
    world.holds = HoldService.for_hub(world.hub)
    keys = world.hub.envelope_public_keys()
    assert world.holds.audit(keys).by_hub == 1  # the retired key is still published
    current = dict(list(keys.items())[:1])
    with pytest.raises(VerificationError, match=rf"ledger entry {index}: "):
        world.holds.audit(current)


def test_leaves_from_before_signing_are_listed_not_failed(world: World) -> None:
    index = decide_three(world)["hub"]
    old = msgspec.structs.replace(leaf_at(world, index), key_id=None, signature=None)
    old_index = append_leaf(world.hub.log, old)
    audit = world.holds.audit(world.hub.envelope_public_keys())
    assert (audit.leaves, audit.by_hub, audit.unsigned) == (4, 1, (old_index,))


def test_the_cli_audits_a_data_dir(world: World) -> None:
    decide_three(world)
    data_dir = str(world.hub.data_dir)
    result = runner.invoke(holds_app, ["audit", "--data-dir", data_dir, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "leaves": 3, "by_hub": 1, "by_regulators": 2, "unsigned": []
    }  # fmt: skip
    text = " ".join(runner.invoke(holds_app, ["audit", "--data-dir", data_dir]).stdout.split())
    assert text.startswith("OK: 3 hold decision(s)") and "1 release(s) by the hub's" in text


def test_the_cli_names_a_leaf_that_does_not_verify(world: World, tmp_path: Path) -> None:
    index = decide_three(world)["regulator"]
    leaf = leaf_at(world, index)
    forged = msgspec.structs.replace(leaf, envelope_id="env-someone-else")
    forged_index = append_leaf(world.hub.log, forged)
    result = runner.invoke(holds_app, ["audit", "--data-dir", str(world.hub.data_dir)])
    assert result.exit_code != 0
    assert isinstance(result.exception, VerificationError)
    assert f"ledger entry {forged_index}" in str(result.exception)
