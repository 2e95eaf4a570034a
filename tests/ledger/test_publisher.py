"""The hub's checkpoint publisher: signs when the log grows and collects each configured
witness's cosignature; a witness that is down is asked again next round."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.helpers import ORIGIN, entries, fixed_clock, key
from silkgate.checkpointing import CheckpointPublisher, witness_link
from silkgate.config import load_settings
from silkgate.errors import VerificationError
from silkgate.ledger import TransparencyLog, parse_note, verify_cosignatures
from silkgate.ledger.witness import MemoryWitnessState, Submit, Witness, WitnessError
from silkgate.store import Store


def witness(log: TransparencyLog, name: str) -> Witness:
    return Witness(name, key(name), [log.verifier], MemoryWitnessState(), fixed_clock)


class Flaky:
    """A witness reached over an unreliable network: down until `up` is set."""

    def __init__(self, inner: Witness) -> None:
        self.inner = inner
        self.up = False
        self.calls = 0

    def submit(self, body: bytes) -> tuple[int, bytes]:
        self.calls += 1
        if not self.up:
            return 503, b"maintenance"
        try:
            return 200, self.inner.add_checkpoint(body)
        except WitnessError as exc:
            return exc.status, exc.body


def reliable(w: Witness) -> Submit:
    flaky = Flaky(w)
    flaky.up = True
    return flaky.submit


def test_published_checkpoints_carry_the_cosignatures_of_reachable_witnesses(
    store: Store,
) -> None:
    log = TransparencyLog(store, ORIGIN, key("log"), fixed_clock)
    regulator = witness(log, "regulator.example/witness")
    counterpart = Flaky(witness(log, "counterpart.example/witness"))
    publisher = CheckpointPublisher(
        log,
        [
            witness_link(regulator.vkey, reliable(regulator)),
            witness_link(counterpart.inner.vkey, counterpart.submit),
        ],
    )
    log.append(entries(0, 12))
    first = publisher.run_once()
    assert first.size == 12
    note = parse_note(first.note)
    verify_cosignatures(note, [regulator.verifier])
    with pytest.raises(VerificationError):
        verify_cosignatures(note, [counterpart.inner.verifier])

    counterpart.up = True
    log.append(entries(12, 5))
    second = publisher.run_once()
    assert second.size == 17
    both = parse_note(second.note)
    verify_cosignatures(both, [regulator.verifier, counterpart.inner.verifier])
    latest = log.latest_checkpoint()
    assert latest is not None and latest.note == second.note

    calls = counterpart.calls
    assert publisher.run_once().note == second.note  # nothing new: nobody is asked again
    assert counterpart.calls == calls


def test_witnesses_are_read_from_the_settings(tmp_path: Path) -> None:
    (tmp_path / "silkgate.toml").write_text(
        "checkpoint_every_seconds = 30\n"
        "[[witnesses]]\n"
        'url = "https://regulator.example/witness"\n'
        'key = "regulator.example/witness+01020304+AQ=="\n',
        encoding="utf-8",
    )
    settings = load_settings(tmp_path, {})
    assert settings.checkpoint_every_seconds == 30
    [configured] = settings.witnesses
    assert configured.url == "https://regulator.example/witness"
