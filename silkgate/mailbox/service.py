"""The mailbox service: the envelope state machine (silkgate.mailbox.states) applied to a
store. Every move of an envelope, and every read of its sealed bytes, goes through here:
the API and the CLI, push delivery, retention, and held batches (silkgate.flow.holds) alike.

- `acknowledge`: an importer's signed receipt moves a `pending` envelope that still has
  its data to `acked`, with a `receipt` ledger leaf. Posting the same genuine receipt again
  answers the first one. A receipt for a held, rejected or expired envelope is a
  ConflictError (HTTP 409) naming the state, whatever it signs.
- `release` (`held → pending`, fresh delivery deadline, a delivery message queued) and
  `reject` (`held → rejected`, sealed data dropped): the mailbox half of a regulator's
  decision; HoldService adds the counting and the ledger leaf in the same transaction.
- `fetch`: the sealed bytes, only for `pending` or `acked` envelopes with data (409 for
  held, rejected and expired; 404 once the retention dropped them); a pull counts as a
  delivery attempt while `pending`, as a push does (`count_attempt`).
- `purge` / `run_purge`: retention (silkgate.mailbox.retention): `pending → expired` past
  the deadline, data of acknowledged and rejected envelopes dropped.

Each check of the current state is made inside the store transaction that writes the new
state, so two concurrent moves cannot both succeed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

import msgspec

from silkgate.clock import Clock
from silkgate.errors import ForbiddenError, InputError, NotFoundError
from silkgate.ledger import TransparencyLog
from silkgate.ledger.leaves import ReceiptLeaf, append_leaf
from silkgate.mailbox import states
from silkgate.mailbox.messages import queue_delivered
from silkgate.mailbox.retention import PurgeReport, plan_purge
from silkgate.model import Receipt
from silkgate.registry.keys import signing_key_set
from silkgate.seal.envelope import envelope_digest
from silkgate.seal.receipts import verify_receipt
from silkgate.store.base import EnvelopeState, Store, StoredEnvelope, iter_all_envelopes
from silkgate.store.ports import MailboxPort, NoncePort, Transactional

if TYPE_CHECKING:
    from silkgate.hub import Hub

RECEIPT_CLOCK_SKEW = timedelta(minutes=5)
DEFAULT_DELIVERY_TTL = timedelta(days=14)


@dataclass
class MailboxService:
    store: Store
    log: TransparencyLog
    clock: Clock
    delivery_ttl: timedelta = DEFAULT_DELIVERY_TTL

    @classmethod
    def for_hub(cls, hub: Hub) -> MailboxService:
        return cls(hub.store, hub.log, hub.pipeline.clock, hub.pipeline.delivery_ttl)

    # -- reads ---------------------------------------------------------------------------
    def get(self, envelope_id: str) -> StoredEnvelope:
        return self.store.get_envelope(envelope_id)

    def pending(
        self, importer: str, *, limit: int = 100, after: str | None = None
    ) -> list[StoredEnvelope]:
        """The importer's mailbox: its `pending` envelopes, oldest first."""
        return self.store.list_envelopes(
            importer=importer, state="pending", limit=limit, after=after
        )

    def fetch(self, envelope_id: str) -> StoredEnvelope:
        """The envelope with its sealed bytes, if they may be served (states.serve); a
        fetch of a pending envelope counts as a delivery attempt."""
        envelope = self.store.get_envelope(envelope_id)
        states.serve(envelope)
        count_attempt(self.store, envelope_id)
        return envelope

    def count_attempt(self, envelope_id: str) -> int | None:
        return count_attempt(self.store, envelope_id)

    # -- transitions ---------------------------------------------------------------------
    def release(self, envelope_id: str, *, now: datetime | None = None) -> StoredEnvelope:
        """held → pending with a fresh delivery deadline; queues the delivery message.
        Joins the caller's transaction (HoldService counts and ledgers in the same one)."""
        at = self.clock() if now is None else now
        with self.store.transaction():
            envelope = self.store.get_envelope(envelope_id)
            target = states.release(envelope)
            released = msgspec.structs.replace(
                envelope, state=target, expires_at=at + self.delivery_ttl
            )
            self.store.put_envelope(released)
            queue_delivered(self.store, released.importer, released.id, released.batch_id)
        return released

    def reject(self, envelope_id: str) -> StoredEnvelope:
        """held → rejected; the sealed data is dropped at once."""
        with self.store.transaction():
            envelope = self.store.get_envelope(envelope_id)
            target = states.reject(envelope)
            t = states.REJECT
            if not self.store.drop_envelope_data([envelope_id], state=t.source, new_state=target):
                self.store.set_envelope_state(envelope_id, target)  # held without data
            return self.store.get_envelope(envelope_id)

    def acknowledge(self, receipt: Receipt, *, caller: str | None = None) -> Receipt:
        """Verify an importer's signed receipt, ledger it and move the envelope to `acked`.
        Acknowledging twice returns the first receipt. Raises ForbiddenError (not the
        addressee), ConflictError (the envelope is not `pending` with data), InputError
        (digest or time wrong), VerificationError (signature)."""
        if caller is not None and caller != receipt.importer:
            raise ForbiddenError(f"{caller} may not acknowledge for importer {receipt.importer}")
        envelope = self.store.get_envelope(receipt.envelope_id)
        if envelope.importer != receipt.importer or envelope.batch_id != receipt.batch_id:
            raise ForbiddenError(f"envelope {envelope.id} is not addressed to {receipt.importer}")
        importer = self.store.get_participant(receipt.importer)
        first = self._first_receipt(receipt.envelope_id)
        if first is not None:
            # Acknowledged already (its data may be purged since): answer with the first
            # receipt, but only to a genuine receipt for the same envelope bytes.
            if receipt.envelope_digest != first.envelope_digest:
                raise InputError(f"receipt digest does not match envelope {envelope.id}")
            verify_receipt(receipt, signing_key_set(importer, revoked_as_of=self.clock()))
            return first
        self._check_receipt(receipt, envelope)
        # The importer's keys valid at `received_at`; a key revoked by now signs no new receipt.
        verify_receipt(receipt, signing_key_set(importer, revoked_as_of=self.clock()))
        with self.store.transaction():
            first = self._first_receipt(receipt.envelope_id)
            if first is not None:
                return first
            current = self.store.get_envelope(receipt.envelope_id)
            self._check_receipt(receipt, current)  # a concurrent reject or expiry wins
            index = append_leaf(self.log, ReceiptLeaf.of(receipt))
            stored = msgspec.structs.replace(receipt, ledger_index=index)
            self.store.put_receipt(stored)
            self.store.set_envelope_state(current.id, states.acknowledge(current))
        return stored

    def purge(self, now: datetime, retention: timedelta) -> PurgeReport:
        return run_purge(self.store, now, retention)

    # -- helpers -------------------------------------------------------------------------
    def _first_receipt(self, envelope_id: str) -> Receipt | None:
        try:
            return self.store.get_receipt(envelope_id)
        except NotFoundError:
            return None

    def _check_receipt(self, receipt: Receipt, envelope: StoredEnvelope) -> None:
        """The envelope may be acknowledged (pending, with data), the receipt signs its
        bytes, and `received_at` lies in the envelope's life."""
        states.acknowledge(envelope)
        if envelope_digest(envelope.data) != receipt.envelope_digest:
            raise InputError(f"receipt digest does not match envelope {envelope.id} as delivered")
        self._check_received_at(receipt, envelope.created_at)

    def _check_received_at(self, receipt: Receipt, created_at: datetime) -> None:
        """`received_at` is the importer's claim; keep it between the envelope's creation and
        the hub's clock, so a retired key cannot back- or post-date a receipt at will."""
        now = self.clock()
        if not created_at - RECEIPT_CLOCK_SKEW <= receipt.received_at <= now + RECEIPT_CLOCK_SKEW:
            raise InputError(
                f"receipt for envelope {receipt.envelope_id} claims received_at "
                f"{receipt.received_at.isoformat()}, outside the envelope's life "
                f"({created_at.isoformat()} .. {now.isoformat()}); check the importer's clock"
            )


# ----------------------------------------------------------------------------- store-only
# Push delivery and retention run with a store only (no ledger); these are their homes.
class MailboxStore(MailboxPort, Transactional, Protocol):
    """Envelopes and receipts, changed inside transactions."""


class RetentionStore(MailboxPort, NoncePort, Protocol):
    """What retention drops: envelopes' data and expired request nonces."""


def count_attempt(store: MailboxStore, envelope_id: str) -> int | None:
    """Count one more delivery attempt (a push, or a pull of the bytes) and return the
    count; None if the envelope is no longer `pending` (states.counts_attempt)."""
    with store.transaction():
        current = store.get_envelope(envelope_id)
        if not states.counts_attempt(current):
            return None
        attempts = current.attempts + 1
        store.set_envelope_state(envelope_id, current.state, attempts=attempts)
        return attempts


def run_purge(store: RetentionStore, now: datetime, retention: timedelta) -> PurgeReport:
    """Apply retention (silkgate.mailbox.retention.plan_purge) to the store through the
    state machine, and forget expired request nonces. Each drop is a compare-and-set on
    the state the plan saw, so an envelope acknowledged while this runs keeps its data."""
    candidates = _purge_candidates(store)
    acked_at = _acked_times(store, [e.id for e in candidates if e.state == "acked"])
    plan = plan_purge(candidates, acked_at, now, retention)
    expire = states.EXPIRE
    return PurgeReport(
        at=now,
        expired=store.drop_envelope_data(plan.expire, state=expire.source, new_state=expire.target),
        acked_purged=_drop_data(store, plan.acked, "acked"),
        rejected_purged=_drop_data(store, plan.rejected, "rejected"),
        nonces_purged=store.purge_nonces(expired_before=now),
    )


def _drop_data(store: MailboxPort, envelope_ids: Sequence[str], state: EnvelopeState) -> int:
    assert state in states.PURGEABLE
    return store.drop_envelope_data(envelope_ids, state=state, new_state=state)


def _purge_candidates(store: MailboxPort) -> list[StoredEnvelope]:
    found: list[StoredEnvelope] = []
    for state in (states.EXPIRE.source, *states.PURGEABLE):
        found.extend(e for e in iter_all_envelopes(store, state=state) if e.data)
    return found


def _acked_times(store: MailboxPort, envelope_ids: Sequence[str]) -> dict[str, datetime]:
    times: dict[str, datetime] = {}
    for envelope_id in envelope_ids:
        try:
            times[envelope_id] = store.get_receipt(envelope_id).received_at
        except NotFoundError:
            continue
    return times
