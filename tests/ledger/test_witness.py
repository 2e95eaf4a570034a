"""tlog-witness add-checkpoint: the witness checks and cosigns, the hub stores cosignatures."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.helpers import ORIGIN, entries, fixed_clock, key
from silkgate.ledger import TransparencyLog, parse_note, verify_bundle, verify_cosignatures
from silkgate.ledger.checkpoint import sign_note
from silkgate.ledger.witness import (
    FileWitnessState,
    MemoryWitnessState,
    Submit,
    Witness,
    WitnessError,
    WitnessState,
    encode_request,
    request_cosignature,
)
from silkgate.store import Store

W = "regulator.example/witness"


def make(store: Store, state_dir: Path | None = None) -> tuple[TransparencyLog, Witness]:
    log = TransparencyLog(store, ORIGIN, key("log"), fixed_clock)
    state: WitnessState = (
        FileWitnessState(state_dir / "w.json") if state_dir else MemoryWitnessState()
    )
    witness = Witness(W, key("witness"), [log.verifier], state, fixed_clock)
    return log, witness


def submit_to(witness: Witness) -> Submit:
    def submit(body: bytes) -> tuple[int, bytes]:
        try:
            return 200, witness.add_checkpoint(body)
        except WitnessError as exc:
            return exc.status, exc.body

    return submit


def test_cosign_then_extend(store: Store, tmp_path: Path) -> None:
    log, witness = make(store, tmp_path)
    log.append(entries(0, 10))
    first = request_cosignature(log, submit_to(witness), witness.verifier)
    times = verify_cosignatures(parse_note(first.note), [witness.verifier])
    assert times == {W: int(fixed_clock().timestamp())}
    log.append(entries(10, 7))
    # The hub does not know the witness's size: 409 tells it, then it retries.
    second = request_cosignature(log, submit_to(witness), witness.verifier)
    assert second.size == 17
    latest = log.latest_checkpoint()
    assert latest is not None
    verify_cosignatures(parse_note(latest.note), [witness.verifier])
    verify_bundle(log.prove(3), None, log.vkey, witness_keys=[witness.vkey])


def post(witness: Witness, body: bytes) -> WitnessError:
    with pytest.raises(WitnessError) as info:
        witness.add_checkpoint(body)
    return info.value


def test_refusals_follow_the_spec(store: Store) -> None:
    log, witness = make(store)
    log.append(entries(0, 8))
    cp8 = log.checkpoint()
    assert witness.add_checkpoint(encode_request(0, [], cp8.note)).startswith("\u2014 ".encode())
    log.append(entries(8, 8))
    cp16 = log.checkpoint()
    good_proof = log.consistency_proof(8, 16)
    stale = post(witness, encode_request(0, [], cp16.note))
    assert (stale.status, stale.body, stale.content_type) == (409, b"8\n", "text/x.tlog.size")
    assert post(witness, encode_request(17, [], cp16.note)).status == 400
    bad = [bytes(32), *good_proof[1:]]
    assert post(witness, encode_request(8, bad, cp16.note)).status == 422
    forged = resign(cp16.note, ORIGIN, "impostor")
    assert post(witness, encode_request(8, good_proof, forged)).status == 403
    unknown = resign(cp16.note.replace(ORIGIN, "other.example/log"), "other.example/log", "log")
    assert post(witness, encode_request(8, good_proof, unknown)).status == 404
    assert post(witness, b"garbage").status == 400
    assert witness.add_checkpoint(encode_request(8, good_proof, cp16.note))


def resign(note: str, name: str, seed: str) -> str:
    """The note's text signed afresh by key(seed) under `name`."""
    return sign_note(parse_note(note).text, name, key(seed)).render()


def test_same_size_different_root_conflicts(store: Store) -> None:
    log, witness = make(store)
    log.append(entries(0, 4))
    cp = log.checkpoint()
    witness.add_checkpoint(encode_request(0, [], cp.note))
    fork = resign(cp.note.replace(cp.note.split("\n")[2], "A" * 43 + "="), ORIGIN, "log")
    assert post(witness, encode_request(4, [], fork)).status == 409
