"""The clock and the randomness are passed in; these are the defaults the adapters use."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
Random = Callable[[int], bytes]


def system_clock() -> datetime:
    return datetime.now(UTC)


def system_random(n: int) -> bytes:
    return secrets.token_bytes(n)


def new_id(prefix: str, random: Random = system_random) -> str:
    """A short, unguessable, URL-safe id such as ``b_3f9c0a...`` (16 random bytes in hex)."""
    return f"{prefix}_{random(16).hex()}"
