"""Keyed pseudonymization: ``pz_`` + 24 hex digits of HMAC-SHA256(key, normalized value).

The same value under the same key always gives the same token (so records stay joinable
at the importer); without the key, tokens cannot be reversed or recomputed. Values are
normalized first so that formatting does not split one identity into two tokens:

* phone: only ``+`` and digits are kept;
* other strings: trimmed, inner whitespace collapsed, case-folded;
* other JSON values: their canonical JSON.

A value that already is a token is returned unchanged (pseudonymization is idempotent).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

from silkgate.canonical import canonical_json
from silkgate.errors import ConfigError

PREFIX = "pz_"
MIN_KEY_BYTES = 16
_CONTEXT = b"silkgate/pseudonym/v1\x00"
_TOKEN = re.compile(r"pz_[0-9a-f]{24}\Z")


def is_token(value: Any) -> bool:
    return isinstance(value, str) and _TOKEN.match(value) is not None


def normalize(value: Any, finding_type: str | None = None) -> bytes:
    """The bytes that are keyed-hashed for `value`."""
    if isinstance(value, str):
        if finding_type == "phone":
            return "".join(c for c in value if c.isdigit() or c == "+").encode()
        return " ".join(value.split()).casefold().encode()
    return canonical_json(value)


def pseudonymize_value(value: Any, key: bytes, finding_type: str | None = None) -> Any:
    """The stable token for `value` under `key`; null stays null."""
    if len(key) < MIN_KEY_BYTES:
        raise ConfigError(
            f"pseudonym key has {len(key)} bytes; use at least {MIN_KEY_BYTES} random bytes"
        )
    if value is None or is_token(value):
        return value
    mac = hmac.new(key, _CONTEXT + normalize(value, finding_type), hashlib.sha256)
    return PREFIX + mac.hexdigest()[:24]
