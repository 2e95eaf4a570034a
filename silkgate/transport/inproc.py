"""In-process Transport with JetStream work-queue semantics (see base.py).

Each published message waits in a ready heap per subject (ordered by publish sequence).
``fetch`` moves messages to in-flight with a deadline of now + ``ack_wait``; ``ack`` drops
them; a message whose deadline passed goes back to the head of its queue with ``delivery``
incremented. The clock is injectable so tests drive redelivery and dedupe expiry without
sleeping; ``timeout`` waits always use real time.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

import msgspec

from silkgate.errors import TransportError
from silkgate.transport.base import Message

MonotonicClock = Callable[[], float]
_Ready = tuple[int, Message]  # (publish sequence, message)


class InProcessTransport:
    def __init__(
        self,
        *,
        ack_wait: float = 30.0,
        dedupe_window: float = 120.0,
        dedupe_max: int = 100_000,
        clock: MonotonicClock = time.monotonic,
    ) -> None:
        """`ack_wait`: seconds before an unacked message is redelivered. A message id is
        remembered for `dedupe_window` seconds, and at most `dedupe_max` ids are kept."""
        if ack_wait <= 0 or dedupe_window < 0 or dedupe_max < 1:
            raise TransportError("ack_wait must be > 0, dedupe_window >= 0, dedupe_max >= 1")
        self._ack_wait = ack_wait
        self._dedupe_window = dedupe_window
        self._dedupe_max = dedupe_max
        self._clock = clock
        self._cond = threading.Condition()
        self._seq = 0
        self._ready: dict[str, list[_Ready]] = {}
        # message id -> (deadline, sequence, message as delivered)
        self._in_flight: dict[str, tuple[float, int, Message]] = {}
        self._seen: OrderedDict[str, float] = OrderedDict()  # message id -> publish time
        self._closed = False

    def publish(self, subject: str, message_id: str, payload: bytes) -> bool:
        check_subject(subject, wildcard_ok=False)
        with self._cond:
            self._check_open()
            now = self._clock()
            self._forget_old_ids(now)
            if message_id in self._seen:
                return False
            self._seen[message_id] = now
            self._seq += 1
            msg = Message(subject=subject, message_id=message_id, payload=payload)
            heapq.heappush(self._ready.setdefault(subject, []), (self._seq, msg))
            self._cond.notify_all()
            return True

    def fetch(
        self, subject: str, *, max_messages: int = 100, timeout: float = 0.0
    ) -> list[Message]:
        check_subject(subject, wildcard_ok=True)
        if max_messages < 1:
            raise TransportError(f"max_messages must be at least 1, got {max_messages}")
        deadline = time.monotonic() + max(timeout, 0.0)
        with self._cond:
            while True:
                self._check_open()
                self._redeliver_expired()
                batch = self._take(subject, max_messages)
                remaining = deadline - time.monotonic()
                if batch or remaining <= 0:
                    return batch
                self._cond.wait(self._wait_time(remaining))

    def ack(self, message: Message) -> None:
        """Acknowledge; acking twice, or after redelivery to someone else, is harmless."""
        with self._cond:
            self._in_flight.pop(message.message_id, None)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    # -- internals ---------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise TransportError("transport is closed")

    def _take(self, pattern: str, limit: int) -> list[Message]:
        queues = [q for s, q in self._ready.items() if q and _matches(pattern, s)]
        taken: list[Message] = []
        deadline = self._clock() + self._ack_wait
        while queues and len(taken) < limit:
            queue = min(queues, key=lambda q: q[0][0])  # oldest first across subjects
            seq, msg = heapq.heappop(queue)
            self._in_flight[msg.message_id] = (deadline, seq, msg)
            taken.append(msg)
            if not queue:
                queues.remove(queue)
        return taken

    def _redeliver_expired(self) -> None:
        now = self._clock()
        expired = [mid for mid, (dl, _, _) in self._in_flight.items() if dl <= now]
        for mid in expired:
            _, seq, msg = self._in_flight.pop(mid)
            again = msgspec.structs.replace(msg, delivery=msg.delivery + 1)
            heapq.heappush(self._ready.setdefault(msg.subject, []), (seq, again))

    def _wait_time(self, remaining: float) -> float:
        """Wake up in time for the next redelivery (clock units are seconds)."""
        if not self._in_flight:
            return remaining
        next_due = min(dl for dl, _, _ in self._in_flight.values()) - self._clock()
        return max(0.001, min(remaining, next_due))

    def _forget_old_ids(self, now: float) -> None:
        seen = self._seen
        while seen and (
            len(seen) >= self._dedupe_max or next(iter(seen.values())) <= now - self._dedupe_window
        ):
            seen.popitem(last=False)


def _matches(pattern: str, subject: str) -> bool:
    if pattern == ">":
        return True
    if pattern.endswith(".>"):
        return subject.startswith(pattern[:-1])
    return pattern == subject


def check_subject(subject: str, *, wildcard_ok: bool) -> None:
    tokens = subject.split(".")
    bad = not subject or any(not t or " " in t for t in tokens)
    if ">" in subject:
        bad = bad or not wildcard_ok or ">" in tokens[:-1] or tokens[-1] != ">"
    if bad:
        what = "subject or a prefix ending in '.>'" if wildcard_ok else "subject without wildcards"
        raise TransportError(
            f"invalid subject {subject!r}: expected dot-separated tokens (a {what})"
        )
