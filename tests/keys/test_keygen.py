"""`silkgate keygen` on a participant's own machine, and `participant add
--public-key-file` on the operator's: the private keys never reach the operator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from silkgate.cli import app
from silkgate.errors import ConflictError, InputError
from silkgate.hub import init_hub, open_hub
from silkgate.registry.keys import read_public_document
from silkgate.seal.keys import ed25519_key_id, ed25519_public_bytes, load_keyring

runner = CliRunner()


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args))


def keygen(tmp: Path, pid: str, *extra: str) -> tuple[Path, Path]:
    key, public = tmp / pid / "key.json", tmp / pid / "public.json"
    result = invoke("keygen", "--id", pid, "--out", str(key), "--public-out", str(public), *extra)
    assert result.exit_code == 0, result.output + repr(result.exception)
    return key, public


def add(data: Path, pid: str, public: Path, *extra: str) -> Any:
    return invoke(
        "participant", "add", "--id", pid, "--name", pid.upper(), "--jurisdiction", "VN",
        "--role", "importer", "--public-key-file", str(public), *extra,
        "--data-dir", str(data), "--json",
    )  # fmt: skip


@pytest.fixture
def data(tmp_path: Path) -> Path:
    d = tmp_path / "hub"
    init_hub(d)
    return d


def test_keygen_writes_a_private_file_and_its_public_part(tmp_path: Path) -> None:
    key, public = keygen(tmp_path, "vn-carrier")
    assert key.stat().st_mode & 0o777 == 0o600
    ring = load_keyring(key)
    doc = read_public_document(public)
    assert ring.participant == doc.participant == "vn-carrier"
    assert doc.signing_key == ring.signing[0].public
    assert doc.signing_key_id == ring.signing[0].key_id
    text = public.read_text()
    assert all(entry.private.hex() not in text for entry in (*ring.signing, *ring.hpke))
    printed = invoke("keygen", "--id", "vn-two", "--out", str(tmp_path / "two.json"))
    assert printed.exit_code == 0
    assert json.loads(printed.stdout)["participant"] == "vn-two"


def test_keygen_never_overwrites(tmp_path: Path) -> None:
    key, public = keygen(tmp_path, "vn-carrier")
    before = key.read_bytes()
    again = invoke("keygen", "--id", "vn-carrier", "--out", str(key))
    assert again.exit_code != 0 and isinstance(again.exception, ConflictError)
    assert "never overwrites" in str(again.exception)
    assert key.read_bytes() == before
    other = tmp_path / "other.json"
    clash = invoke("keygen", "--id", "x", "--out", str(other), "--public-out", str(public))
    assert isinstance(clash.exception, ConflictError) and not other.exists()
    bad = invoke("keygen", "--id", "bad id", "--out", str(tmp_path / "bad.json"))
    assert isinstance(bad.exception, InputError) and not (tmp_path / "bad.json").exists()


def test_the_operator_registers_from_the_public_part_only(tmp_path: Path, data: Path) -> None:
    key, public = keygen(tmp_path / "carrier-machine", "vn-carrier")
    result = add(data, "vn-carrier", public, "--enterprise-size", "small")
    assert result.exit_code == 0, result.output + repr(result.exception)
    hub = open_hub(data)
    try:
        stored = hub.store.get_participant("vn-carrier")
    finally:
        hub.close()
    ring = load_keyring(key)
    assert ed25519_key_id(stored.signing_key) == ring.signing[0].key_id
    assert stored.enterprise_size == "small"
    assert not list(data.rglob("*carrier*"))  # no key file on the operator's side


def test_add_never_replaces_keys_and_refuses_the_wrong_file(tmp_path: Path, data: Path) -> None:
    key, public = keygen(tmp_path / "a", "vn-carrier")
    assert add(data, "vn-carrier", public).exit_code == 0
    assert add(data, "vn-carrier", public).exit_code == 0  # the same again: a safe retry
    _, other = keygen(tmp_path / "b", "vn-carrier")
    replaced = add(data, "vn-carrier", other)
    assert isinstance(replaced.exception, ConflictError)
    assert "never replaces keys" in str(replaced.exception)
    wrong_id = add(data, "vn-someone", public)
    assert isinstance(wrong_id.exception, InputError) and "vn-carrier" in str(wrong_id.exception)
    private = add(data, "vn-carrier", key)
    assert isinstance(private.exception, InputError)
    assert "private key file" in str(private.exception)
    altered = json.loads(public.read_text())
    altered["signing_key_id"] = "ed25519:0000000000000000"
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(altered))
    assert "altered" in str(add(data, "vn-carrier", forged).exception)
    neither = invoke(
        "participant", "add", "--id", "x1", "--name", "X", "--jurisdiction", "VN",
        "--role", "importer", "--data-dir", str(data),
    )  # fmt: skip
    assert isinstance(neither.exception, InputError)
    assert "--public-key-file" in str(neither.exception)


def test_the_public_document_is_what_the_ring_signs_with(tmp_path: Path) -> None:
    key, public = keygen(tmp_path, "th-market", "--kem", "mlkem768x25519")
    ring = load_keyring(key)
    doc = read_public_document(public)
    from datetime import UTC, datetime

    _, signing = ring.current_signing(datetime.now(UTC))
    assert ed25519_public_bytes(signing) == doc.signing_key
    assert len(doc.hpke_key) == 1216  # ML-KEM-768 + X25519
