"""One leader at a time among the processes sharing a store: the checkpoint sequencer.

`leadership(store, role)` returns a `Leadership` for the store's kind:

- PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) on a connection of
  its own, outside the pool. The lock lives as long as that session: a leader process that
  dies (kill -9, a crash, a machine lost) or whose connection is cut (a restart, a
  failover, ``pg_terminate_backend``) loses it, and the next process to ask takes it. A
  leader checks its session before each round, so it notices the loss itself.
- SQLite: an exclusive ``flock`` on a file next to the database, held by the open file;
  the kernel releases it when the process dies.
- in memory: one process, always the leader.

Leadership avoids duplicated work (several processes signing the same tree, asking the
same witnesses); it is not what keeps the log consistent. Every checkpoint is still signed
under the ledger lock after a consistency check (silkgate.ledger.log), so even two
processes that both believe they lead, for the moment it takes the first to notice, sign
checkpoints of one growing tree.
"""

from __future__ import annotations

import fcntl
import os
from typing import IO, Protocol

from silkgate.errors import StoreError
from silkgate.store.sqlite import SqliteStore


class Leadership(Protocol):
    role: str

    @property
    def leading(self) -> bool:
        """Whether this process held the lead at its last `lead()`."""
        ...

    def lead(self) -> bool:
        """Take the lead if it is free, or check that it is still held; True while this
        process leads. Raises StoreError when the store cannot be reached."""
        ...

    def release(self) -> None:
        """Give the lead up (another process may take it at once)."""
        ...


def leadership(store: object, role: str) -> Leadership:
    """The leadership of `role` (e.g. ``"checkpoints"``) among processes sharing `store`."""
    if isinstance(store, SqliteStore):
        return FileLeadership(f"{store.path}.{role}.leader", role)
    url = getattr(store, "url", None)
    if isinstance(url, str) and url.startswith(("postgresql://", "postgres://")):
        from silkgate.store.postgres import AdvisoryLeadership  # psycopg only when in use

        return AdvisoryLeadership(url, role)
    return SoleLeadership(role)  # a store of this process only (memory)


class SoleLeadership:
    """A store only this process can open (memory): it always leads."""

    def __init__(self, role: str) -> None:
        self.role = role
        self._leading = False

    @property
    def leading(self) -> bool:
        return self._leading

    def lead(self) -> bool:
        self._leading = True
        return True

    def release(self) -> None:
        self._leading = False


class FileLeadership:
    """An exclusive flock on `path`, held while the file stays open."""

    def __init__(self, path: str, role: str) -> None:
        self.path, self.role = path, role
        self._file: IO[bytes] | None = None

    @property
    def leading(self) -> bool:
        return self._file is not None

    def lead(self) -> bool:
        if self._file is not None:
            return True
        try:
            file = open(self.path, "ab")  # noqa: SIM115 - held open while leading
        except OSError as exc:
            raise StoreError(f"cannot open the leader lock file {self.path}: {exc}") from exc
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.close()
            return False
        except OSError as exc:
            file.close()
            raise StoreError(f"cannot lock {self.path}: {exc}") from exc
        file.truncate(0)
        file.write(f"{os.getpid()}\n".encode())
        file.flush()
        self._file = file
        return True

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing the file releases the lock
            self._file = None
