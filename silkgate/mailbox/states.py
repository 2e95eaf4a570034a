"""The envelope state machine: which moves an envelope may make. Pure (no store, no clock).

::

    held ──release──► pending ──acknowledge──► acked
      │                  │
      └──reject──► rejected  └──expire──► expired

Exactly four transitions exist: ``held → pending`` (a regulator's release, or the hub's
re-check), ``held → rejected`` (a regulator; the sealed data is dropped), ``pending →
acked`` (the importer's valid receipt, only while the envelope still has its data) and
``pending → expired`` (its delivery deadline passed; the data is dropped). Nothing else:
``acked``, ``rejected`` and ``expired`` are final, and a held envelope never expires (it
waits for a decision). Each transition is one function below; it checks the envelope's
current state and returns the target state, or raises ConflictError naming the state.

Besides the transitions, the same rules say when the sealed bytes may be served
(``pending`` or ``acked``, with data), when a delivery attempt counts (``pending``) and
when retention may drop data without changing the state (``acked`` after the retention,
``rejected``). silkgate.mailbox.service applies these rules to a store; every caller (API,
CLI, push delivery, retention, held batches) goes through it.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple, Protocol

from silkgate.errors import ConflictError, NotFoundError
from silkgate.store.base import EnvelopeState

STATES: tuple[EnvelopeState, ...] = ("held", "pending", "acked", "rejected", "expired")


class Transition(NamedTuple):
    name: str
    source: EnvelopeState
    target: EnvelopeState
    drops_data: bool  # the sealed bytes are dropped in the same step


RELEASE = Transition("release", "held", "pending", drops_data=False)
REJECT = Transition("reject", "held", "rejected", drops_data=True)
ACKNOWLEDGE = Transition("acknowledge", "pending", "acked", drops_data=False)
EXPIRE = Transition("expire", "pending", "expired", drops_data=True)
TRANSITIONS: tuple[Transition, ...] = (RELEASE, REJECT, ACKNOWLEDGE, EXPIRE)
ALLOWED: frozenset[tuple[EnvelopeState, EnvelopeState]] = frozenset(
    (t.source, t.target) for t in TRANSITIONS
)
SERVABLE: tuple[EnvelopeState, ...] = ("pending", "acked")  # bytes served, with data
PURGEABLE: tuple[EnvelopeState, ...] = ("acked", "rejected")  # data dropped, state kept

# What each state means for someone who wants to move or read the envelope.
_MEANING: dict[str, str] = {
    "held": "it is held until a legal step is recorded or a regulator releases it",
    "pending": "it is waiting in the importer's mailbox",
    "acked": "the importer has acknowledged it",
    "rejected": "a regulator rejected it; it is never delivered",
    "expired": "it expired undelivered and its sealed data was dropped",
}


class Envelope(Protocol):
    """What the rules read of an envelope (silkgate.store.base.StoredEnvelope has it)."""

    @property
    def id(self) -> str: ...

    @property
    def state(self) -> EnvelopeState: ...

    @property
    def data(self) -> bytes: ...

    @property
    def expires_at(self) -> datetime: ...


def meaning(state: str) -> str:
    return _MEANING.get(state, f"its state {state!r} is unknown")


def _require(transition: Transition, envelope: Envelope, why: str) -> EnvelopeState:
    if envelope.state != transition.source:
        raise ConflictError(
            f"envelope {envelope.id} is {envelope.state}, not {transition.source}: cannot "
            f"{transition.name} it ({meaning(envelope.state)}); {why}"
        )
    return transition.target


# ----------------------------------------------------------------------------- transitions
def release(envelope: Envelope) -> EnvelopeState:
    """held → pending: a regulator's release (or the hub's re-check)."""
    target = _require(RELEASE, envelope, "a hold is released or rejected once")
    if not envelope.data:
        raise ConflictError(
            f"envelope {envelope.id} is held but its sealed data is gone; it cannot be "
            "delivered: reject it and have the exporter resubmit"
        )
    return target


def reject(envelope: Envelope) -> EnvelopeState:
    """held → rejected: a regulator's rejection; the sealed data is dropped."""
    return _require(REJECT, envelope, "a hold is released or rejected once")


def acknowledge(envelope: Envelope) -> EnvelopeState:
    """pending → acked: a receipt is accepted only for a pending envelope that still has
    its data (the receipt's signature and digest are checked by the service)."""
    target = _require(ACKNOWLEDGE, envelope, "a receipt is accepted only for a pending envelope")
    if not envelope.data:
        raise ConflictError(
            f"envelope {envelope.id} has no sealed data left: there is nothing to acknowledge"
        )
    return target


def expire(envelope: Envelope, now: datetime) -> EnvelopeState:
    """pending → expired, once the delivery deadline has passed; the data is dropped."""
    target = _require(EXPIRE, envelope, "only a pending envelope expires")
    if not due_to_expire(envelope, now):
        raise ConflictError(
            f"envelope {envelope.id} is deliverable until {envelope.expires_at.isoformat()}; "
            "it does not expire before"
        )
    return target


def due_to_expire(envelope: Envelope, now: datetime) -> bool:
    """Whether `expire` would accept the envelope at `now`."""
    return envelope.state == EXPIRE.source and bool(envelope.data) and now >= envelope.expires_at


# ----------------------------------------------------------------------------- other rules
def serve(envelope: Envelope) -> None:
    """The sealed bytes may be served only while `pending` or `acked`, with data.
    ConflictError (HTTP 409) for a state that is never served (held, rejected, expired);
    NotFoundError (HTTP 404) when the bytes were dropped after the retention."""
    if envelope.state not in SERVABLE:
        raise ConflictError(
            f"envelope {envelope.id} is {envelope.state}: {meaning(envelope.state)}; only "
            "pending or acknowledged envelopes are served"
        )
    if not envelope.data:
        raise NotFoundError(
            f"envelope {envelope.id} is {envelope.state} and its sealed data was dropped "
            "after the retention period"
        )


def counts_attempt(envelope: Envelope) -> bool:
    """A delivery attempt (a push, or a pull of the bytes) is counted while `pending`."""
    return envelope.state == "pending"


def purge_data(envelope: Envelope) -> EnvelopeState:
    """Retention may drop the data of an `acked` (after the retention) or `rejected`
    envelope; the state stays. Returns it."""
    if envelope.state not in PURGEABLE:
        raise ConflictError(
            f"envelope {envelope.id} is {envelope.state}: {meaning(envelope.state)}; "
            "retention drops data only of acknowledged or rejected envelopes"
        )
    return envelope.state
