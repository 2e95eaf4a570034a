"""Retention (pure): which sealed payloads to drop at a given time.

silkgate.mailbox.service.run_purge applies the plan to a store, through the state machine
(silkgate.mailbox.states): pending envelopes past their delivery deadline *expire*
(``pending → expired``, data dropped); acknowledged envelopes lose their data a retention
period after the acknowledgement; rejected envelopes lose their data (rejecting drops it
at once; this catches older data). Held envelopes are never touched: they wait for a
regulator's decision, whatever their age.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

import msgspec

from silkgate.mailbox import states
from silkgate.store.base import StoredEnvelope


class PurgePlan(msgspec.Struct, frozen=True, kw_only=True):
    expire: list[str]  # pending past their delivery TTL: state `expired`, data dropped
    acked: list[str]  # acknowledged longer ago than the retention: data dropped
    rejected: list[str]  # rejected by a regulator: never deliverable, data dropped


class PurgeReport(msgspec.Struct, frozen=True, kw_only=True):
    at: datetime
    expired: int
    acked_purged: int
    rejected_purged: int
    nonces_purged: int


def plan_purge(
    envelopes: Iterable[StoredEnvelope],
    acked_at: Mapping[str, datetime],
    now: datetime,
    retention: timedelta,
) -> PurgePlan:
    """Which sealed payloads to drop at `now`. Held envelopes stay until released or
    rejected. An acknowledgement's time is its receipt's `received_at` (`acked_at`),
    clamped to the envelope's lifetime, since a receipt can only be posted while the
    envelope is deliverable; without one, the envelope's expiry."""
    plan = PurgePlan(expire=[], acked=[], rejected=[])
    for e in envelopes:
        if not e.data:
            continue
        if states.due_to_expire(e, now):
            plan.expire.append(e.id)
        elif e.state == "acked" and now >= ack_time(e, acked_at.get(e.id)) + retention:
            plan.acked.append(e.id)
        elif e.state == "rejected":
            plan.rejected.append(e.id)
    return plan


def ack_time(envelope: StoredEnvelope, received_at: datetime | None) -> datetime:
    if received_at is None:
        return envelope.expires_at
    return min(max(received_at, envelope.created_at), envelope.expires_at)
