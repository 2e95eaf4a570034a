"""A private ledger with public proofs, on a hub served in-process: checkpoints, hash tiles
and hash-only proofs are public; an entry's contents (proof bundles, entry tiles) are
served only to the entry's parties and to regulators, on signed requests; a bundle a party
hands over verifies offline for anyone holding the hub's key."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from api.cast import PRODUCT, PURPOSE, Env, serve_cast, waybill

from silkgate.errors import LedgerVerificationError
from silkgate.ledger import leaf_hash, verify_bundle, verify_inclusion
from silkgate.ledger.tiles import split_entry_bundle
from silkgate.seal import sign_receipt

EXPORTER, IMPORTER = "cn-exporter", "vn-importer"
OTHER_EXPORTER, OTHER_IMPORTER = "cn-other-exporter", "th-other-importer"


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    with serve_cast(tmp_path) as made:
        yield made


def submit(env: Env, exporter: str = EXPORTER, importer: str = IMPORTER) -> tuple[str, int]:
    destination = "VN" if importer == IMPORTER else "TH"
    result = env.clients[exporter].submit_batch(
        importer, PRODUCT, [waybill(1, destination)], purpose=PURPOSE
    )
    assert result.envelope_id is not None and result.ledger_index is not None
    return result.envelope_id, result.ledger_index


def acknowledge(env: Env, envelope_id: str) -> int:
    sealed = env.hub.store.get_envelope(envelope_id)
    _, key = env.rings[IMPORTER].current_signing(env.clock())
    digest = hashlib.sha256(sealed.data).digest()
    receipt = sign_receipt(envelope_id, sealed.batch_id, IMPORTER, digest, env.clock(), key)
    stored = env.clients[IMPORTER].acknowledge(receipt)
    assert stored.ledger_index is not None
    return stored.ledger_index


def bundle_status(env: Env, who: str | None, index: int) -> int:
    path = "/v1/ledger/proof/bundle"
    client = env.clients[who or EXPORTER]
    signed = who is not None
    answer = client.request("GET", path, params={"index": index}, signed=signed, check=False)
    return answer.status_code


def test_proofs_and_hash_tiles_are_public(env: Env) -> None:
    _, index = submit(env)
    anyone = env.clients[OTHER_EXPORTER]  # requests below are unsigned
    note = anyone.ledger("checkpoint").text
    size = int(note.splitlines()[1])
    proof = anyone.inclusion_proof(index, size)
    consistency = anyone.ledger("proof/consistency", **{"from": 1, "to": size})
    assert consistency.status_code == 200
    tile = anyone.ledger(f"tile/0/000.p/{size}")
    assert len(tile.content) == 32 * size
    # A mirror holding hash tiles can check a leaf hash it is given, without the entry.
    entry = env.hub.store.ledger_entries(index, index + 1)[0]
    assert tile.content[32 * index : 32 * index + 32] == leaf_hash(entry)
    verify_inclusion(leaf_hash(entry), index, size, proof, env.hub.log.root(size))


@pytest.mark.parametrize(
    ("who", "status"),
    [
        (None, 401),  # unsigned
        (EXPORTER, 200),
        (IMPORTER, 200),
        ("regulator", 200),
        (OTHER_EXPORTER, 403),
        (OTHER_IMPORTER, 403),
        ("operator", 403),
    ],
)
def test_a_batch_entry_is_served_to_its_parties_and_regulators(
    env: Env, who: str | None, status: int
) -> None:
    _, index = submit(env)
    assert bundle_status(env, who, index) == status


def test_a_receipt_entry_is_served_to_the_batchs_exporter_too(env: Env) -> None:
    envelope_id, _ = submit(env)
    index = acknowledge(env, envelope_id)
    assert bundle_status(env, EXPORTER, index) == 200
    assert bundle_status(env, IMPORTER, index) == 200
    assert bundle_status(env, OTHER_IMPORTER, index) == 403
    refused = env.clients[OTHER_EXPORTER].request(
        "GET", "/v1/ledger/proof/bundle", params={"index": index}, check=False
    )
    assert "does not concern cn-other-exporter" in refused.json()["message"]
    assert IMPORTER not in refused.text and EXPORTER + '"' not in refused.text


def test_entry_tiles_need_a_party_of_every_entry(env: Env) -> None:
    submit(env)
    submit(env, OTHER_EXPORTER, OTHER_IMPORTER)
    size = env.hub.log.size()
    path = f"/v1/ledger/tile/entries/000.p/{size}"
    unsigned = env.clients[EXPORTER].request("GET", path, signed=False, check=False)
    assert unsigned.status_code == 401
    assert env.clients[EXPORTER].request("GET", path, check=False).status_code == 403
    regulator = env.clients["regulator"].request("GET", path)
    assert split_entry_bundle(regulator.content) == env.hub.store.ledger_entries(0, size)
    # A hash tile of the same range is public.
    hashes = env.clients[EXPORTER].request("GET", f"/v1/ledger/tile/0/000.p/{size}", signed=False)
    assert hashes.status_code == 200


def test_a_bundle_handed_over_verifies_offline(env: Env) -> None:
    _, index = submit(env)
    bundle = env.clients[EXPORTER].proof_bundle(index)  # the party fetches it, signed
    # ... hands the JSON to an auditor, who has the hub's key and nothing else.
    entry = msgspec.json.decode(bundle.entry)
    assert entry["kind"] == "batch" and entry["exporter"] == EXPORTER
    verify_bundle(bundle, None, env.hub.log.vkey)
    # The auditor may compare the bundle's tree with the public checkpoint: same log.
    public = env.clients[OTHER_EXPORTER].ledger("checkpoint").text
    assert int(public.splitlines()[1]) >= bundle.tree_size
    tampered = dataclasses.replace(bundle, entry=bundle.entry.replace(b"cn-", b"xx-"))
    with pytest.raises(LedgerVerificationError):
        verify_bundle(tampered, None, env.hub.log.vkey)
    assert base64.b64encode(leaf_hash(bundle.entry))  # what the public tiles list
