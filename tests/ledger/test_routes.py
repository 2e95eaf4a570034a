"""The ledger's HTTP routes, served in-process."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from pathlib import Path

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from ledger.helpers import ORIGIN, entries, fixed_clock, key
from silkgate.api.ledger_routes import ledger_router, witness_router
from silkgate.cli.ledger import cosign_remote
from silkgate.ledger import (
    ProofBundle,
    TransparencyLog,
    leaf_hash,
    parse_note,
    verify_bundle,
    verify_consistency,
    verify_cosignatures,
    verify_inclusion,
)
from silkgate.ledger.tiles import split_entry_bundle
from silkgate.ledger.witness import (
    FileWitnessState,
    Witness,
    encode_request,
    http_submit,
    request_cosignature,
)
from silkgate.store import Store


@pytest.fixture
def log(store: Store) -> TransparencyLog:
    made = TransparencyLog(store, ORIGIN, key("log"), fixed_clock)
    made.append(entries(0, 300))
    return made


async def open_gate(request: Request, entries: Sequence[tuple[int, bytes]]) -> None:
    """Entry contents for anyone: these tests are about the formats (a hub's gate is
    tested in tests/ledger/test_private_entries.py)."""


@pytest.fixture
def client(log: TransparencyLog) -> TestClient:
    app = FastAPI()
    app.include_router(ledger_router(lambda: log, open_gate))
    return TestClient(app)


def unb64(values: list[str]) -> list[bytes]:
    return [base64.b64decode(v) for v in values]


def test_checkpoint_route(client: TestClient, log: TransparencyLog) -> None:
    answer = client.get("/checkpoint")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"
    assert answer.text == log.latest_checkpoint().note  # type: ignore[union-attr]


def test_proof_routes(client: TestClient, log: TransparencyLog) -> None:
    got = client.get("/proof/inclusion", params={"index": 123, "size": 300}).json()
    verify_inclusion(leaf_hash(entries(123, 1)[0]), 123, 300, unb64(got["proof"]), log.root(300))
    got = client.get("/proof/consistency", params={"from": 100, "to": 300}).json()
    verify_consistency(100, 300, unb64(got["proof"]), log.root(100), log.root(300))
    assert client.get("/proof/inclusion", params={"index": 300, "size": 300}).status_code == 404
    assert client.get("/proof/consistency", params={"from": 5, "to": 301}).status_code == 404
    bundle = ProofBundle.from_json(client.get("/proof/bundle", params={"index": 9}).content)
    verify_bundle(bundle, None, log.vkey)


def test_tile_routes(client: TestClient) -> None:
    full = client.get("/tile/0/000")
    assert full.status_code == 200 and len(full.content) == 8192
    assert full.headers["content-type"] == "application/octet-stream"
    assert full.content[:32] == leaf_hash(entries(0, 1)[0])
    partial = client.get("/tile/entries/001.p/44")
    assert split_entry_bundle(partial.content) == entries(256, 44)
    assert client.get("/tile/0/001.p/45").status_code == 404
    assert client.get("/tile/0/1").status_code == 404


def test_witness_endpoint_and_remote_cosigning(
    client: TestClient, log: TransparencyLog, tmp_path: Path
) -> None:
    witness = Witness(
        "w.example/1", key("w"), [log.verifier], FileWitnessState(tmp_path / "s.json"), fixed_clock
    )
    app = FastAPI()
    app.include_router(witness_router(lambda: witness))
    wclient = TestClient(app)
    note = log.checkpoint().note
    ok = wclient.post("/add-checkpoint", content=encode_request(0, [], note))
    assert ok.status_code == 200 and ok.text.startswith("\u2014 w.example/1 ")
    stale = wclient.post("/add-checkpoint", content=encode_request(0, [], note))
    assert (stale.status_code, stale.text) == (409, "300\n")
    assert stale.headers["content-type"].startswith("text/x.tlog.size")
    log.append(entries(300, 50))
    cosigned = cosign_remote(witness, "http://testserver", client)
    assert verify_cosignatures(parse_note(cosigned), [witness.verifier])


def test_hub_pushes_to_a_witness_over_http(log: TransparencyLog, tmp_path: Path) -> None:
    witness = Witness(
        "w.example/2", key("w2"), [log.verifier], FileWitnessState(tmp_path / "s.json"), fixed_clock
    )
    app = FastAPI()
    app.include_router(witness_router(lambda: witness))
    submit = http_submit("http://testserver/", TestClient(app))
    first = request_cosignature(log, submit, witness.verifier)
    log.append(entries(300, 5))
    second = request_cosignature(log, submit, witness.verifier)  # starts at 0, learns 300
    assert (first.size, second.size) == (300, 305)
    verify_cosignatures(parse_note(second.note), [witness.verifier])
