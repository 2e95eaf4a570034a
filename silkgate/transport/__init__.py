"""The transport: carries work, never the source of truth. ``open_transport(url)`` picks one."""

from __future__ import annotations

from silkgate.errors import ConfigError
from silkgate.transport.base import Message, Transport
from silkgate.transport.inproc import InProcessTransport

__all__ = ["InProcessTransport", "Message", "Transport", "open_transport"]


def open_transport(url: str) -> Transport:
    """``inproc:`` is an in-process work queue (the embedded default). ``nats://host:port``
    (comma-separate the servers of a cluster; options ``?stream=&prefix=&ack_wait=``) is
    NATS JetStream, shared by every hub process (docs/scale-out.md)."""
    if url in ("inproc:", "inproc://"):
        return InProcessTransport()
    if url.startswith("nats://"):
        from silkgate.transport.jetstream import open_nats  # nats-py only when asked for

        return open_nats(url)
    raise ConfigError(f"unknown transport URL {url!r}; use inproc: or nats://host:port")
