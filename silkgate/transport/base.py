"""The Transport protocol: carries work and notifications, never the source of truth.

Semantics are those of a JetStream work queue, so that the in-process and NATS
implementations run the same test suite (tests/transport/): at-least-once delivery, a
message id deduplicates publishes, a message not acked within `ack_wait` is redelivered.
"""

from __future__ import annotations

from typing import Protocol

import msgspec


class Message(msgspec.Struct, frozen=True, kw_only=True):
    subject: str
    message_id: str
    payload: bytes
    delivery: int = 1  # 1 on first delivery, incremented on each redelivery


class Transport(Protocol):
    def publish(self, subject: str, message_id: str, payload: bytes) -> bool:
        """Publish once per message id; returns False if it was a duplicate."""
        ...

    def fetch(
        self, subject: str, *, max_messages: int = 100, timeout: float = 0.0
    ) -> list[Message]:
        """Pull up to `max_messages` from `subject` (exact match, or a prefix ending in '>'),
        waiting up to `timeout` seconds for the first one."""
        ...

    def ack(self, message: Message) -> None: ...

    def close(self) -> None: ...
