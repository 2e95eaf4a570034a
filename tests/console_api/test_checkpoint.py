"""GET /v1/console/checkpoint: the latest checkpoint parsed for the public page, its
signature lines classified, configured witnesses' cosignatures verified (a forged or
unknown one is shown, never counted as verified)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from api.cast import PRODUCT, PURPOSE, Env, serve_cast, waybill
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from silkgate.ledger.checkpoint import (
    COSIGNATURE_V1,
    cosign,
    open_checkpoint,
    parse_checkpoint_text,
    parse_note,
    parse_vkey,
    verifier_for,
)

WITNESS = "witness.regulator.example"
STRANGER = "witness.stranger.example"
WITNESS_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
STRANGER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(2, 34)))
WITNESS_VKEY = verifier_for(WITNESS, WITNESS_KEY, COSIGNATURE_V1).vkey()


@pytest.fixture
def witnessed(tmp_path: Path) -> Iterator[Env]:
    toml = f'[[witnesses]]\nurl = "http://127.0.0.1:9/witness"\nkey = "{WITNESS_VKEY}"\n'
    with serve_cast(tmp_path, toml) as env:
        yield env


def _view(env: Env) -> dict[str, object]:
    answer = env.http.get("/v1/console/checkpoint")  # no signature
    assert answer.status_code == 200
    body: dict[str, object] = answer.json()
    return body


def test_the_fields_are_the_signed_notes(witnessed: Env) -> None:
    env = witnessed
    env.clients["cn-exporter"].submit_batch(
        "vn-importer", PRODUCT, [waybill(1), waybill(2)], purpose=PURPOSE
    )
    view = _view(env)
    note = env.http.get("/v1/ledger/checkpoint").text
    assert view["note"] == note
    hub = env.http.get("/v1/hub").json()
    assert view["log_key"] == hub["log_key"]
    checkpoint = open_checkpoint(note, parse_vkey(hub["log_key"]))
    origin, size, root = parse_checkpoint_text(parse_note(note).text)
    assert (view["origin"], view["size"]) == (origin, size) == (hub["log_origin"], 1)
    assert base64.b64decode(str(view["root_hash"])) == root == checkpoint.root_hash
    assert root == env.hub.log.root(size)
    assert view["witnessed_at"] is None
    signatures = view["signatures"]
    assert isinstance(signatures, list) and len(signatures) == 1
    assert signatures[0] == {
        "name": origin,
        "key_id": env.hub.log.verifier.key_id.hex(),
        "kind": "log",
        "known": True,
        "verified": True,
        "vkey": hub["log_key"],
    }


def test_cosignatures_known_unknown_and_forged(witnessed: Env) -> None:
    env = witnessed
    log = env.hub.log
    env.clients["cn-exporter"].submit_batch("vn-importer", PRODUCT, [waybill(3)], purpose=PURPOSE)
    signed = log.checkpoint()
    text = parse_note(signed.note).text
    at = 1_780_000_000
    good = cosign(text, WITNESS, WITNESS_KEY, at)
    stranger = cosign(text, STRANGER, STRANGER_KEY, at + 5)
    stranger_key = verifier_for(STRANGER, STRANGER_KEY, COSIGNATURE_V1)
    log.add_cosignatures(signed.size, [good, stranger], [parse_vkey(WITNESS_VKEY), stranger_key])
    view = _view(env)
    by_name = {s["name"]: s for s in view["signatures"]}  # type: ignore[attr-defined]
    assert by_name[WITNESS] == {
        "name": WITNESS,
        "key_id": good.key_id.hex(),
        "kind": "cosignature",
        "known": True,
        "verified": True,
        "time": "2026-05-28T20:26:40Z",
        "vkey": WITNESS_VKEY,
    }
    assert by_name[STRANGER]["known"] is False and by_name[STRANGER]["verified"] is False
    assert by_name[STRANGER]["kind"] == "cosignature"  # its claimed time is shown
    assert by_name[STRANGER]["time"] == "2026-05-28T20:26:45Z"
    assert "vkey" not in by_name[STRANGER]  # the hub knows no key for it
    assert view["witnessed_at"] == "2026-05-28T20:26:40Z"  # only verified ones count

    # A line with the witness's name and key id but a signature that does not verify.
    forged_sig = replace(good, signature=good.signature[:8] + bytes(64))
    note = parse_note(signed.note)
    keep = tuple(s for s in note.signatures if s.name != WITNESS)
    forged = replace(note, signatures=(*keep, forged_sig)).render()
    env.hub.store.put_checkpoint(signed.size, forged.encode())
    view = _view(env)
    by_name = {s["name"]: s for s in view["signatures"]}  # type: ignore[attr-defined]
    assert by_name[WITNESS]["known"] is True and by_name[WITNESS]["verified"] is False
    assert by_name[WITNESS]["vkey"] == WITNESS_VKEY
    assert view["witnessed_at"] is None


def test_a_grown_log_gets_a_new_checkpoint(witnessed: Env) -> None:
    env = witnessed
    first = _view(env)
    env.clients["cn-exporter"].submit_batch("vn-importer", PRODUCT, [waybill(4)], purpose=PURPOSE)
    second = _view(env)
    assert (first["size"], second["size"]) == (0, 1)
    assert second["root_hash"] != first["root_hash"]
