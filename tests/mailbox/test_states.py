"""The envelope state machine, rule by rule and over random sequences of moves.

The pure rules (silkgate.mailbox.states) are checked exhaustively: every state against
every transition. The service (silkgate.mailbox.service) is driven by hypothesis through
random sequences of releases, rejections, receipts, fetches and passing time with
retention, on a real in-memory store and ledger with real signed receipts; a small model
says what must happen, and only the four allowed transitions ever succeed.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Literal

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from silkgate.errors import ConflictError, NotFoundError, SilkgateError
from silkgate.ledger import TransparencyLog
from silkgate.ledger.leaves import ReceiptLeaf, decode_leaf
from silkgate.mailbox import states
from silkgate.mailbox.service import MailboxService, run_purge
from silkgate.model import Participant, Receipt
from silkgate.seal import sign_receipt
from silkgate.seal.keys import create_keyring, hpke_public_bytes
from silkgate.store.base import EnvelopeState, StoredEnvelope
from silkgate.store.memory import MemoryStore

NOW = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
TTL = timedelta(days=14)
RETENTION = timedelta(days=30)
IMPORTER = "vn-importer"


def envelope(state: EnvelopeState, data: bytes = b"sealed", at: datetime = NOW) -> StoredEnvelope:
    return StoredEnvelope(
        id="env_1", batch_id="b_1", exporter="cn-exporter", importer=IMPORTER, state=state,
        created_at=at, expires_at=at + TTL, data=data,
    )  # fmt: skip


# ----------------------------------------------------------------------------- pure rules
MOVES = {
    "release": lambda e: states.release(e),
    "reject": lambda e: states.reject(e),
    "acknowledge": lambda e: states.acknowledge(e),
    "expire": lambda e: states.expire(e, e.expires_at),
}


@pytest.mark.parametrize("state", states.STATES)
@pytest.mark.parametrize("move", sorted(MOVES))
def test_each_transition_only_from_its_source(state: EnvelopeState, move: str) -> None:
    transition = next(t for t in states.TRANSITIONS if t.name == move)
    if state == transition.source:
        assert MOVES[move](envelope(state)) == transition.target
    else:
        with pytest.raises(ConflictError, match=f"envelope env_1 is {state}, not"):
            MOVES[move](envelope(state))


def test_exactly_four_transitions_exist() -> None:
    assert {
        ("held", "pending"),
        ("held", "rejected"),
        ("pending", "acked"),
        ("pending", "expired"),
    } == states.ALLOWED


def test_a_receipt_needs_the_data_and_expiry_needs_the_deadline() -> None:
    with pytest.raises(ConflictError, match="no sealed data"):
        states.acknowledge(envelope("pending", data=b""))
    with pytest.raises(ConflictError, match="sealed data is gone"):
        states.release(envelope("held", data=b""))
    early = envelope("pending")
    with pytest.raises(ConflictError, match="deliverable until"):
        states.expire(early, early.expires_at - timedelta(microseconds=1))
    assert states.expire(early, early.expires_at) == "expired"


@pytest.mark.parametrize("state", states.STATES)
def test_bytes_are_served_only_when_pending_or_acked(state: EnvelopeState) -> None:
    if state in ("pending", "acked"):
        states.serve(envelope(state))
        with pytest.raises(NotFoundError, match="retention"):
            states.serve(envelope(state, data=b""))
    else:
        for data in (b"sealed", b""):
            with pytest.raises(ConflictError, match=f"is {state}"):
                states.serve(envelope(state, data=data))
    assert states.counts_attempt(envelope(state)) is (state == "pending")


@given(st.lists(st.sampled_from(sorted(MOVES)), max_size=8), st.sampled_from(states.STATES))
def test_random_pure_sequences_take_only_allowed_steps(
    moves: list[str], start: EnvelopeState
) -> None:
    current = envelope(start)
    for move in moves:
        before = current.state
        try:
            after = MOVES[move](current)
        except ConflictError:
            continue
        assert (before, after) in states.ALLOWED
        current = envelope(after)


# ----------------------------------------------------------------------------- the service
class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


Op = Literal["release", "reject", "ack", "ack_nothing", "fetch", "days_1", "days_15", "days_45"]
OPS: tuple[Op, ...] = (
    "release", "reject", "ack", "ack_nothing", "fetch", "days_1", "days_15", "days_45",
)  # fmt: skip


class World:
    """A store and ledger with one envelope, a registered importer, and the model."""

    def __init__(self, start: EnvelopeState) -> None:
        self.clock = Clock()
        self.store = MemoryStore()
        self.log = TransparencyLog(self.store, "test/log", Ed25519PrivateKey.generate(), self.clock)
        self.service = MailboxService(self.store, self.log, self.clock, TTL)
        ring = create_keyring(IMPORTER, NOW - timedelta(days=1))
        self.key = ring.current_signing(NOW)[1]
        self.store.put_participant(
            Participant(
                id=IMPORTER, name="Importer", jurisdiction="VN", roles=("importer",),
                signing_key=ring.signing[-1].public,
                hpke_key=hpke_public_bytes(ring.current_hpke(NOW)[1]),
            )
        )  # fmt: skip
        self.data = b"sealed bytes"
        self.store.put_envelope(envelope(start, self.data))
        # the model
        self.state: EnvelopeState = start
        self.has_data = True
        self.expires_at = NOW + TTL
        self.acked_at: datetime | None = None
        self.attempts = 0

    def receipt_over(self, data: bytes) -> Receipt:
        digest = hashlib.sha256(data).digest()
        return sign_receipt("env_1", "b_1", IMPORTER, digest, self.clock(), self.key)

    def apply(self, op: Op) -> bool:
        """Run `op` on the service; True if it succeeded."""
        try:
            if op == "release":
                self.service.release("env_1")
            elif op == "reject":
                self.service.reject("env_1")
            elif op == "ack":
                self.service.acknowledge(self.receipt_over(self.data), caller=IMPORTER)
            elif op == "ack_nothing":
                self.service.acknowledge(self.receipt_over(b""), caller=IMPORTER)
            elif op == "fetch":
                assert self.service.fetch("env_1").data == self.data
            else:
                self.clock.now += timedelta(days=int(op.removeprefix("days_")))
                run_purge(self.store, self.clock(), RETENTION)
        except SilkgateError:
            return False
        return True

    def expect(self, op: Op) -> bool:
        """What the model says `op` does; updates the model."""
        s, now = self.state, self.clock()
        if op == "release":
            if s != "held":
                return False
            self.state, self.expires_at = "pending", now + TTL
        elif op == "reject":
            if s != "held":
                return False
            self.state, self.has_data = "rejected", False
        elif op in ("ack", "ack_nothing"):
            if self.acked_at is not None:
                return op == "ack"  # the same genuine receipt again answers the first
            if s != "pending" or op == "ack_nothing":
                return False
            self.state, self.acked_at = "acked", now
        elif op == "fetch":
            if s not in ("pending", "acked") or not self.has_data:
                return False
            self.attempts += s == "pending"
        else:
            now += timedelta(days=int(op.removeprefix("days_")))
            if s == "pending" and now >= self.expires_at:
                self.state, self.has_data = "expired", False
            elif s == "acked" and self.acked_at is not None:
                acked = min(max(self.acked_at, NOW), self.expires_at)
                if now >= acked + RETENTION:
                    self.has_data = False
        return True

    def check(self) -> None:
        stored = self.store.get_envelope("env_1")
        assert stored.state == self.state
        assert bool(stored.data) == self.has_data
        assert stored.attempts == self.attempts
        entries = self.store.ledger_entries(0, self.store.ledger_size())
        receipts = [leaf for leaf in map(decode_leaf, entries) if isinstance(leaf, ReceiptLeaf)]
        assert len(receipts) == (self.acked_at is not None)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(("held", "pending")), st.lists(st.sampled_from(OPS), max_size=10))
def test_random_sequences_on_the_service_follow_the_machine(
    start: EnvelopeState, ops: list[Op]
) -> None:
    world = World(start)
    seen: list[tuple[str, str]] = []
    for op in ops:
        before = world.state
        expected = world.expect(op)
        assert world.apply(op) is expected, (op, before, world.state)
        world.check()
        if world.state != before:
            seen.append((before, world.state))
    assert set(seen) <= states.ALLOWED
