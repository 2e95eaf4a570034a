"""The transport: carries work, never the source of truth. ``open_transport(url)`` picks one."""

from __future__ import annotations

from silkgate.errors import ConfigError
from silkgate.transport.base import Message, Transport
from silkgate.transport.inproc import InProcessTransport

__all__ = ["InProcessTransport", "Message", "Transport", "open_transport"]


def open_transport(url: str) -> Transport:
    """``inproc:`` is an in-process work queue (the embedded default)."""
    if url in ("inproc:", "inproc://"):
        return InProcessTransport()
    raise ConfigError(f"unknown transport URL {url!r}; use inproc:")
