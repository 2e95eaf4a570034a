"""Helpers shared by the store implementations (time keys, argument checks)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from silkgate.errors import StoreError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Purging keeps acked/rejected envelopes in their final state; undelivered ones expire.


def to_us(dt: datetime) -> int:
    """Microseconds since the epoch; the sort key for times in both stores."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise StoreError(
            f"naive datetime {dt.isoformat()}: the store needs timezone-aware (UTC) times"
        )
    return (dt - _EPOCH) // timedelta(microseconds=1)


def from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def check_paging(limit: int, offset: int = 0) -> None:
    if limit < 0 or offset < 0:
        raise StoreError(f"limit ({limit}) and offset ({offset}) must not be negative")
