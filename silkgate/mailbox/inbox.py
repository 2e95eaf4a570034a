"""The importer's side of delivery: pull envelopes, open them with the importer's own keys,
sign a receipt for each and hand it back to the hub.

Works against any `Mailbox`: the local hub (embedded mode) or the HTTP API (silkgate.client).
Opening is idempotent: an envelope already acknowledged yields the same receipt again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from silkgate.clock import Clock, system_clock
from silkgate.errors import InputError
from silkgate.model import BatchResult, Decision, Receipt
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
PROVENANCE_KEY = "_silkgate"
_DELIVERED = ("allow", "allow_transformed")


def provenance_lines(
    header: EnvelopeHeader, payload: bytes, batch: BatchResult | None = None
) -> bytes:
    """The envelope's records as NDJSON, each with a `_silkgate` object saying where it came
    from: envelope, batch, exporter, product, purpose, policy version and, when the batch's
    decisions are known (`batch`), the record's outcome, rules and the obligations applied
    to it before it crossed. A record that already has a `_silkgate` key is refused."""
    lines = [line for line in payload.split(b"\n") if line.strip()]
    decisions = _decisions_of_part(header, batch, len(lines))
    out = []
    for index, line in enumerate(lines):
        record = orjson.loads(line)
        if isinstance(record, dict) and PROVENANCE_KEY in record:
            raise InputError(
                f"record {index} of envelope {header.envelope_id} already has a "
                f"{PROVENANCE_KEY!r} key; write it without provenance",
            )
        provenance: dict[str, object] = {
            "envelope": header.envelope_id,
            "batch": header.batch_id,
            "exporter": header.exporter,
            "importer": header.importer,
            "product": header.product,
            "purpose": header.purpose,
            "policy_version": header.policy_version,
            "created_at": header.created_at,
            "index": index,
        }
        if decisions is not None:
            decision = decisions[index]
            provenance["outcome"] = decision.outcome
            provenance["rules"] = list(decision.rule_ids)
            provenance["obligations"] = [
                {"action": o.action, "path": o.path, "finding_type": o.finding_type}
                for o in decision.obligations
            ]
        body = record if isinstance(record, dict) else {"record": record}
        out.append(orjson.dumps({**body, PROVENANCE_KEY: provenance}) + b"\n")
    return b"".join(out)


def _decisions_of_part(
    header: EnvelopeHeader, batch: BatchResult | None, count: int
) -> list[Decision] | None:
    """The decisions of the records in this envelope, in order: the delivered part holds
    the allowed records, the held part (released later) the held ones."""
    if batch is None or batch.batch_id != header.batch_id:
        return None
    wanted = ("hold",) if header.envelope_id == batch.held_id else _DELIVERED
    decisions = [d for d in batch.decisions if d.outcome in wanted]
    return decisions if len(decisions) == count else None


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
