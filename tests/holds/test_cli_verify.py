"""`silkgate ledger verify --bundle ... --reason ...`: an auditor with a hold leaf's proof
bundle, the reason it was handed and the signer's public key checks, offline, both the
leaf's inclusion and who released or rejected the batch and why."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from silkgate.cli.ledger import ledger_app
from silkgate.flow.holds import HoldService
from silkgate.hub import open_hub, rotate_envelope_key

from .helpers import BROKER, REGULATOR, World

runner = CliRunner()


def bundle_of(world: World, index: int, tmp_path: Path) -> Path:
    path = tmp_path / f"bundle-{index}.json"
    path.write_text(world.hub.log.prove(index).to_json(), encoding="utf-8")
    return path


def verify(*args: str) -> Any:
    result = runner.invoke(ledger_app, ["verify", *args, "--json"])
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout)


def refused(*args: str) -> str:
    result = runner.invoke(ledger_app, ["verify", *args])
    assert result.exit_code == 1, result.output
    return result.output


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def recheck_release(world: World) -> tuple[int, str]:
    world.held("MY")
    world.file_contract("MY")
    [item] = world.holds.recheck(exporter=BROKER).items
    assert item.released and item.ledger_index is not None
    return item.ledger_index, item.reason


def test_a_hub_release_verifies_with_nothing_but_the_log_key(world: World, tmp_path: Path) -> None:
    index, reason = recheck_release(world)
    bundle = str(bundle_of(world, index, tmp_path))
    vkey = world.hub.log.vkey
    info = verify("--bundle", bundle, "--key", vkey, "--reason", reason)
    assert info["hold"]["by"] == "hub" and info["hold"]["signature_ok"] is True
    assert info["index"] == index
    assert "does not verify" in refused("--bundle", bundle, "--key", vkey, "--reason", reason + "!")
    # A regulator's key given as the hub's is not the hub's.
    regulator = world.hub.store.get_participant(REGULATOR).signing_key
    hub_key = ["--hub-key", b64(regulator)]
    out = refused("--bundle", bundle, "--key", vkey, "--reason", reason, *hub_key)
    assert "not one of this hub's signing keys" in out
    # Without --reason the bundle alone is checked, as before; keys without it are refused.
    assert "hold" not in verify("--bundle", bundle, "--key", vkey)
    assert "give --reason" in refused("--bundle", bundle, "--key", vkey, *hub_key)


def test_after_an_envelope_key_rotation_the_auditor_gives_the_hubs_signing_keys(
    world: World, tmp_path: Path
) -> None:
    world.hub.close()
    rotate_envelope_key(world.hub.data_dir)
    world.hub = open_hub(world.hub.data_dir, clock=world.clock)
    world.holds = HoldService.for_hub(world.hub)
    index, reason = recheck_release(world)
    bundle = str(bundle_of(world, index, tmp_path))
    vkey = world.hub.log.vkey
    out = refused("--bundle", bundle, "--key", vkey, "--reason", reason)
    assert "not one of this hub's signing keys" in out
    published = [b64(k.public_bytes_raw()) for k in world.hub.envelope_public_keys().values()]
    hub_keys = [a for k in published for a in ("--hub-key", k)]
    assert verify("--bundle", bundle, "--key", vkey, "--reason", reason, *hub_keys)["hold"]


def test_a_regulators_release_verifies_with_its_key_and_not_with_the_hubs(
    world: World, tmp_path: Path
) -> None:
    held = str(world.held("MY").held_id)
    done = world.release(held, by=REGULATOR, reason="reviewed: Art. 8 contract on file")
    bundle = str(bundle_of(world, done.ledger_index, tmp_path))
    vkey = world.hub.log.vkey
    regulator = b64(world.hub.store.get_participant(REGULATOR).signing_key)
    base = ["--bundle", bundle, "--key", vkey, "--reason", done.reason]
    info = verify(*base, "--regulator-key", regulator)
    assert info["hold"]["by"] == REGULATOR and info["hold"]["kind"] == "hold_release"
    assert "give that regulator's public key" in refused(*base)
    hub_public = b64(world.hub.secrets.signing_key.public_key().public_bytes_raw())
    assert "one of the hub's signing keys" in refused(*base, "--regulator-key", hub_public)
    assert "base64" in refused(*base, "--regulator-key", "not base64!")


def test_a_bundle_of_another_kind_has_no_hold_to_check(world: World, tmp_path: Path) -> None:
    result = world.submit("VN")  # filed: delivered, a batch leaf
    assert result.ledger_index is not None
    bundle = str(bundle_of(world, result.ledger_index, tmp_path))
    out = refused("--bundle", bundle, "--key", world.hub.log.vkey, "--reason", "x")
    assert "not hold_release or hold_reject" in out
