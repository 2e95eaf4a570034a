"""The store: one source of truth. ``open_store(url)`` picks the implementation."""

from __future__ import annotations

import re

from silkgate.errors import ConfigError
from silkgate.store.base import (
    EnvelopeState,
    NodeKey,
    OutboxMessage,
    PushEndpoint,
    Store,
    StoredEnvelope,
)
from silkgate.store.memory import MemoryStore
from silkgate.store.migrations import LATEST_VERSION
from silkgate.store.sqlite import SqliteStore

__all__ = [
    "LATEST_VERSION",
    "EnvelopeState",
    "MemoryStore",
    "NodeKey",
    "OutboxMessage",
    "PushEndpoint",
    "SqliteStore",
    "Store",
    "StoredEnvelope",
    "open_store",
]

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")


def open_store(url: str) -> Store:
    """Open a store from a URL.

    ``memory:`` is a fresh in-memory store. ``postgresql://user[:password]@host:port/db``
    (or ``postgres://``) connects to PostgreSQL, shared by every hub process (see
    docs/scale-out.md), and applies pending migrations. ``sqlite:///data/silkgate.db``
    opens a SQLite file
    (the part after ``sqlite:///`` is the path, so ``sqlite:////abs/x.db`` is absolute and
    ``sqlite:///rel/x.db`` relative, as in SQLAlchemy). A URL without a scheme is a path.
    """
    if url in ("memory:", "memory://"):
        return MemoryStore()
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if not path:
            raise ConfigError(f"store URL {url!r} names no file; use sqlite:///path/to/file.db")
        return SqliteStore(path)
    if url.startswith(("postgresql://", "postgres://")):
        from silkgate.store.postgres import PostgresStore  # psycopg only when asked for

        return PostgresStore(url)
    match = _SCHEME.match(url)
    if match is None and url:
        return SqliteStore(url)
    scheme = match.group(1) if match else ""
    raise ConfigError(
        f"unknown store URL {url!r} (scheme {scheme!r}); "
        "use memory:, sqlite:///path/to/file.db, postgresql://user@host/db or a file path"
    )
