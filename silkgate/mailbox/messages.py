"""The "delivered" message: the one place that builds and reads it.

After an envelope becomes `pending` (committed by the pipeline, or released from a hold),
the store's outbox gets ``silkgate.delivered.<importer>`` with ``{"batch_id",
"envelope_id"}`` (canonical JSON) and the envelope id as the message id; the push worker
consumes ``silkgate.delivered.>``. A re-queue (after a restart, or when an importer
registers a push URL) publishes the same payload under a fresh message id, so the
transport does not deduplicate it away.
"""

from __future__ import annotations

from typing import Protocol

import msgspec

from silkgate.canonical import canonical_json
from silkgate.errors import InputError

DELIVERED_SUBJECT = "silkgate.delivered"  # + "." + importer id
PUSH_SUBJECTS = f"{DELIVERED_SUBJECT}.>"


class Delivered(msgspec.Struct, frozen=True):
    """What a delivery message names: an envelope (and its batch)."""

    envelope_id: str
    batch_id: str = ""

    def payload(self) -> bytes:
        return canonical_json({"envelope_id": self.envelope_id, "batch_id": self.batch_id})


class Outbox(Protocol):
    def put_outbox(self, subject: str, message_id: str, payload: bytes) -> None: ...


class Publisher(Protocol):
    def publish(self, subject: str, message_id: str, payload: bytes) -> bool: ...


def delivered_subject(importer: str) -> str:
    return f"{DELIVERED_SUBJECT}.{importer}"


def queue_delivered(outbox: Outbox, importer: str, envelope_id: str, batch_id: str) -> None:
    """Put the delivery message of a newly pending envelope in the outbox (inside the
    caller's transaction; published after the commit)."""
    message = Delivered(envelope_id, batch_id)
    outbox.put_outbox(delivered_subject(importer), envelope_id, message.payload())


def publish_delivered(
    transport: Publisher, importer: str, envelope_id: str, batch_id: str, message_id: str
) -> bool:
    """Publish a delivery message again (re-queue) under `message_id`; False if the
    transport saw that message id already."""
    message = Delivered(envelope_id, batch_id)
    return transport.publish(delivered_subject(importer), message_id, message.payload())


def read_delivered(payload: bytes) -> Delivered:
    """Decode a delivery message; InputError if it is not one."""
    try:
        return msgspec.json.decode(payload, type=Delivered)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise InputError(f"not a delivery message: {exc}") from None
