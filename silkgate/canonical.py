"""Canonical JSON: the byte form that is hashed and signed everywhere in silkgate.

Object keys sorted, no insignificant whitespace, UTF-8, bytes as standard base64 (with
padding), datetimes as RFC 3339 in UTC with a trailing ``Z``. Documented in docs/envelope.md
and docs/ledger.md so that other implementations can reproduce the exact bytes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

_encoder = msgspec.json.Encoder(order="sorted")


def canonical_json(obj: Any) -> bytes:
    """Encode `obj` (builtins, msgspec Structs, bytes, datetimes) canonically."""
    return _encoder.encode(obj)


def canonical_json_lines(items: Iterable[Any]) -> bytes:
    """NDJSON: each item's canonical JSON followed by ``\\n`` (one C call for all items)."""
    return _encoder.encode_lines(items)
