"""`silkgate ledger` and `silkgate witness` against a real hub data directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from silkgate.cli.ledger import ledger_app, witness_app
from silkgate.hub import init_hub, open_hub
from silkgate.ledger import parse_note, parse_vkey, verify_cosignatures

runner = CliRunner()


@pytest.fixture
def hub_dir(tmp_path: Path) -> Path:
    data = tmp_path / "hub"
    init_hub(data)
    hub = open_hub(data)
    try:
        hub.log.append([b'{"n":%d}' % i for i in range(25)])
    finally:
        hub.close()
    return data


def run(app: object, *args: str) -> str:
    result = runner.invoke(app, list(args))  # type: ignore[arg-type]
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def test_checkpoint_and_key(hub_dir: Path) -> None:
    note = run(ledger_app, "checkpoint", "--data-dir", str(hub_dir))
    assert note.split("\n")[1] == "25" and "\n\n\u2014 " in note
    vkey = run(ledger_app, "key", "--data-dir", str(hub_dir)).strip()
    assert parse_vkey(vkey).name == note.split("\n")[0]
    info = json.loads(run(ledger_app, "checkpoint", "--data-dir", str(hub_dir), "--json"))
    assert info["note"] == note and info["size"] == 25


def test_prove_and_verify_offline(hub_dir: Path, tmp_path: Path) -> None:
    vkey = run(ledger_app, "key", "--data-dir", str(hub_dir)).strip()
    bundle = tmp_path / "bundle.json"
    run(ledger_app, "prove", "--index", "7", "--out", str(bundle), "--data-dir", str(hub_dir))
    checkpoint = tmp_path / "cp.txt"
    checkpoint.write_text(json.loads(bundle.read_text())["checkpoint"])
    out = run(
        ledger_app, "verify", "--bundle", str(bundle), "--checkpoint", str(checkpoint),
        "--key", vkey, "--json",
    )  # fmt: skip
    assert json.loads(out) == {
        "ok": True, "origin": parse_vkey(vkey).name, "index": 7, "tree_size": 25,
        "cosigned_by": [],
    }  # fmt: skip
    tampered = json.loads(bundle.read_text())
    tampered["index"] = 8
    bundle.write_text(json.dumps(tampered))
    result = runner.invoke(ledger_app, ["verify", "--bundle", str(bundle), "--key", vkey])
    assert result.exit_code == 1 and "error:" in result.stderr


def test_verify_whole_log(hub_dir: Path) -> None:
    run(ledger_app, "checkpoint", "--data-dir", str(hub_dir))
    info = json.loads(run(ledger_app, "verify", "--data-dir", str(hub_dir), "--json"))
    assert info["ok"] and info["size"] == 25 and info["checkpoint_size"] == 25


def test_prove_needs_index_or_batch(hub_dir: Path) -> None:
    result = runner.invoke(ledger_app, ["prove", "--data-dir", str(hub_dir)])
    assert result.exit_code == 1


def test_witness_cosigns_a_local_hub(hub_dir: Path, tmp_path: Path) -> None:
    vkey = run(ledger_app, "key", "--data-dir", str(hub_dir)).strip()
    wdir = tmp_path / "witness"
    wkey = run(
        witness_app, "init", "--name", "regulator.example/w1", "--log-key", vkey, "--dir", str(wdir)
    ).strip()
    assert run(witness_app, "key", "--dir", str(wdir)).strip() == wkey
    note = run(witness_app, "add-checkpoint", "--data-dir", str(hub_dir), "--dir", str(wdir))
    verify_cosignatures(parse_note(note), [parse_vkey(wkey)])
    # The hub now publishes the cosigned checkpoint.
    published = run(ledger_app, "checkpoint", "--data-dir", str(hub_dir))
    verify_cosignatures(parse_note(published), [parse_vkey(wkey)])
    # After growth the witness checks consistency from its recorded size.
    hub = open_hub(hub_dir)
    try:
        hub.log.append([b"more"])
    finally:
        hub.close()
    again = run(witness_app, "add-checkpoint", "--data-dir", str(hub_dir), "--dir", str(wdir))
    assert again.split("\n")[1] == "26"
