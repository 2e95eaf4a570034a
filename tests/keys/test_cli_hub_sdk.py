"""`silkgate participant rotate-keys / revoke-key` on a temporary data dir, the hub's
envelope key rotation, the push limits in the settings, and the SDK's push methods."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from api.cast import NOW, PRODUCT, PURPOSE, Clock, Env, waybill
from typer.testing import CliRunner

from silkgate.cli import app
from silkgate.config import Settings, load_settings
from silkgate.errors import NotFoundError
from silkgate.hub import LocalMailbox, init_hub, open_hub, rotate_envelope_key
from silkgate.mailbox.delivery import PushPolicy
from silkgate.mailbox.inbox import drain_inbox
from silkgate.seal.envelope import open_envelope
from silkgate.seal.keys import load_keyring

runner = CliRunner()


def _cli(data_dir: Path, *args: str) -> Any:
    result = runner.invoke(app, [*args, "--data-dir", str(data_dir), "--json"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return json.loads(result.stdout.splitlines()[-1])


def _add(data_dir: Path, key_file: Path) -> Any:
    return _cli(
        data_dir, "participant", "add", "--id", "vn-carrier", "--name", "VN Carrier",
        "--jurisdiction", "VN", "--role", "importer", "--key-file", str(key_file),
    )  # fmt: skip


def test_cli_rotates_and_revokes_keys(tmp_path: Path) -> None:
    data_dir, key_file = tmp_path / "data", tmp_path / "vn-carrier.json"
    _cli(data_dir, "init")
    added = _add(data_dir, key_file)
    assert len(added["signing_keys"]) == 1
    rotated = _cli(
        data_dir, "participant", "rotate-keys", "--id", "vn-carrier",
        "--key-file", str(key_file), "--overlap-days", "7",
    )  # fmt: skip
    ring = load_keyring(key_file)
    assert [k["key_id"] for k in rotated["signing_keys"]] == [e.key_id for e in ring.signing]
    assert [k["key_id"] for k in rotated["hpke_keys"]] == [e.key_id for e in ring.hpke]
    assert rotated["signing_keys"][0]["not_after"] is not None
    assert (key_file.stat().st_mode & 0o777) == 0o600
    old_id = ring.signing[0].key_id
    revoked = _cli(
        data_dir, "participant", "revoke-key", "--id", "vn-carrier",
        "--key-id", old_id, "--key-file", str(key_file),
    )  # fmt: skip
    assert revoked["signing_keys"][0]["revoked_at"] is not None
    assert old_id in load_keyring(key_file).revoked
    again = _add(data_dir, key_file)  # the same `participant add` again changes nothing
    assert again["signing_keys"] == revoked["signing_keys"]


def test_cli_refuses_another_participants_key_file(tmp_path: Path) -> None:
    data_dir, key_file = tmp_path / "data", tmp_path / "vn-carrier.json"
    _cli(data_dir, "init")
    _add(data_dir, key_file)
    result = runner.invoke(
        app,
        ["participant", "rotate-keys", "--id", "nobody", "--key-file", str(key_file),
         "--data-dir", str(data_dir)],
    )  # fmt: skip
    assert isinstance(result.exception, NotFoundError)
    assert load_keyring(key_file).signing == load_keyring(key_file).signing[:1]


def test_hub_envelope_key_rotation_keeps_old_envelopes_verifiable(env: Env) -> None:
    first = env.clients["cn-exporter"].submit_batch(
        "vn-importer", PRODUCT, [waybill(1)], purpose=PURPOSE
    )
    log_key = env.hub.log.vkey
    new_id = rotate_envelope_key(env.hub.data_dir)
    hub = open_hub(env.hub.data_dir, clock=Clock())
    try:
        assert hub.log.vkey == log_key  # the checkpoint key is the log's identity
        keys = LocalMailbox(hub).hub_public_keys()
        assert next(iter(keys)) == new_id and len(keys) == 2
        assert first.envelope_id is not None
        sealed = hub.store.get_envelope(first.envelope_id).data
        opened = open_envelope(sealed, env.rings["vn-importer"].opening_keys(), keys)
        assert opened.header.hub_key != new_id
        summary = drain_inbox(LocalMailbox(hub), env.rings["vn-importer"], clock=Clock())
        assert summary.envelopes == 1
    finally:
        hub.close()


def test_hub_identity_publishes_every_envelope_key(env: Env) -> None:
    identity = env.clients["vn-importer"].hub_identity()
    assert [k.key_id for k in identity.signing_keys] == [identity.key_id]


def test_push_limits_come_from_the_settings(tmp_path: Path) -> None:
    assert PushPolicy.from_settings(Settings()) == PushPolicy()
    (tmp_path / "silkgate.toml").write_text("push_max_attempts = 3\n", encoding="utf-8")
    env = {"SILKGATE_PUSH_TIMEOUT_SECONDS": "2.5", "SILKGATE_PUSH_BACKOFF_SECONDS": "5"}
    policy = PushPolicy.from_settings(load_settings(tmp_path, env))
    assert (policy.max_attempts, policy.timeout, policy.backoff) == (3, 2.5, 5.0)
    assert policy.max_backoff == PushPolicy().max_backoff


def test_sdk_push_registration(env: Env) -> None:
    importer = env.clients["vn-importer"]
    with pytest.raises(NotFoundError):
        importer.push_registration()
    registered = importer.register_push("https://carrier.example/inbox")
    assert registered.importer == "vn-importer" and registered.created_at == NOW
    assert importer.push_registration().url == "https://carrier.example/inbox"
    importer.unregister_push()
    with pytest.raises(NotFoundError):
        importer.push_registration()


def test_init_keeps_a_rotated_hub_key(tmp_path: Path) -> None:
    init_hub(tmp_path)
    rotate_envelope_key(tmp_path)
    init_hub(tmp_path)  # idempotent: the rotated key stays
    hub = open_hub(tmp_path)
    try:
        assert len(hub.envelope_public_keys()) == 2
    finally:
        hub.close()
