"""The importer's side of delivery: pull envelopes, open them with the importer's own keys,
sign a receipt for each and hand it back to the hub.

Works against any `Mailbox`: the local hub (embedded mode) or the HTTP API (silkgate.client).
Opening is idempotent: an envelope already acknowledged yields the same receipt again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from silkgate.clock import Clock, system_clock
from silkgate.model import Receipt
from silkgate.seal.envelope import EnvelopeHeader, envelope_digest, open_envelope
from silkgate.seal.keys import KeyRing
from silkgate.seal.receipts import sign_receipt
from silkgate.store.base import StoredEnvelope


class Mailbox(Protocol):
    def pending(self, importer: str, *, limit: int, after: str | None) -> list[StoredEnvelope]:
        """Envelopes addressed to `importer` not yet acknowledged, oldest first."""
        ...

    def acknowledge(self, receipt: Receipt) -> Receipt: ...

    def hub_public_keys(self) -> Mapping[str, Ed25519PublicKey]: ...


OpenedSink = Callable[[EnvelopeHeader, bytes], None]


@dataclass
class InboxSummary:
    envelopes: int = 0
    records: int = 0
    receipts: int = 0


def drain_inbox(
    mailbox: Mailbox,
    keys: KeyRing,
    *,
    sink: OpenedSink | None = None,
    clock: Clock = system_clock,
    page_size: int = 100,
) -> InboxSummary:
    """Open and acknowledge every pending envelope for the key file's participant.
    A failure to open or verify raises before anything is acknowledged for that envelope."""
    summary = InboxSummary()
    hub_keys = mailbox.hub_public_keys()
    after: str | None = None
    while page := mailbox.pending(keys.participant, limit=page_size, after=after):
        for envelope in page:
            now = clock()
            opened = open_envelope(envelope.data, keys.opening_keys(), hub_keys)
            if sink is not None:
                sink(opened.header, opened.payload)
            receipt = sign_receipt(
                envelope_id=opened.header.envelope_id,
                batch_id=opened.header.batch_id,
                importer=keys.participant,
                envelope_digest=envelope_digest(envelope.data),
                received_at=now,
                signing_key=keys.current_signing(now)[1],
            )
            mailbox.acknowledge(receipt)
            summary.envelopes += 1
            summary.records += opened.header.record_count
            summary.receipts += 1
        after = page[-1].id
    return summary
