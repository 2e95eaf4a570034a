"""The hub's checkpoint publisher: signs when the log grows and collects each configured
witness's cosignature; a witness that is down is asked again next round."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.helpers import ORIGIN, entries, fixed_clock, key
from silkgate.checkpointing import CheckpointPublisher, cosigned_sizes, witness_link
from silkgate.config import load_settings
from silkgate.errors import VerificationError
from silkgate.ledger import TransparencyLog, parse_note, verify_cosignatures
from silkgate.ledger.witness import MemoryWitnessState, Submit, Witness, WitnessError
from silkgate.store import Store
from silkgate.store.leader import FileLeadership


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


def test_a_new_leader_carries_over_the_cosignatures_of_the_stored_checkpoint(
    store: Store, tmp_path: Path
) -> None:
    """When the lead passes, the new leader starts from the cosignatures the latest stored
    checkpoint carries: a witness that cosigned it is not asked again for it, and is asked
    for the next one from the size it cosigned (no 409 round trip)."""
    log = TransparencyLog(store, ORIGIN, key("log"), fixed_clock)
    regulator = Flaky(witness(log, "regulator.example/witness"))
    regulator.up = True
    links = [witness_link(regulator.inner.vkey, regulator.submit)]
    lock = str(tmp_path / "checkpoints.leader")
    first = CheckpointPublisher(log, links, leader=FileLeadership(lock, "checkpoints"))
    second = CheckpointPublisher(log, links, leader=FileLeadership(lock, "checkpoints"))
    log.append(entries(0, 12))
    published = first.lead_once()
    assert published is not None and regulator.calls == 1
    assert second.lead_once() is None  # the first one leads

    first.release()
    taken = second.lead_once()
    assert taken is not None and taken.note == published.note
    assert regulator.calls == 1  # cosigned already: not asked again

    log.append(entries(12, 5))
    grown = second.lead_once()
    assert grown is not None and grown.size == 17
    verify_cosignatures(parse_note(grown.note), [regulator.inner.verifier])
    assert regulator.calls == 2  # one request, from size 12
    second.release()


def test_cosigned_sizes_name_only_verified_cosignatures(store: Store) -> None:
    log = TransparencyLog(store, ORIGIN, key("log"), fixed_clock)
    regulator = witness(log, "regulator.example/witness")
    other = witness(log, "other.example/witness")
    assert cosigned_sizes(None, [regulator.verifier]) == {}
    log.append(entries(0, 3))
    CheckpointPublisher(log, [witness_link(regulator.vkey, reliable(regulator))]).run_once()
    latest = log.latest_checkpoint()
    assert cosigned_sizes(latest, [regulator.verifier, other.verifier]) == {regulator.name: 3}
