"""Resumable sending: each batch of a file gets an idempotency key derived from what it
is (exporter, importer, product, purpose, its position in the file and its records), so
re-running the same `send` after a crash, a kill or a lost connection commits nothing
twice: the hub answers a batch it already committed with the first result (replayed)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import orjson

KEY_PREFIX = "send-"


def batch_key(
    exporter: str, importer: str, product: str, purpose: str, start: int, records: Sequence[Any]
) -> str:
    """The idempotency key of the batch holding `records`, at record offset `start`."""
    digest = hashlib.sha256()
    digest.update(orjson.dumps([exporter, importer, product, purpose, start, len(records)]))
    for record in records:
        digest.update(b"\n" + orjson.dumps(record, option=orjson.OPT_SORT_KEYS))
    return KEY_PREFIX + digest.hexdigest()[:48]
