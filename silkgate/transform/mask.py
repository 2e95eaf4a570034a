"""Type-aware masking. Masking replaces letters and digits with ``*`` and keeps everything
else (spaces, punctuation, ``@``, ``+``), so a masked value keeps its shape and length.

Which characters survive depends only on their position among the maskable characters
(letters, digits and ``*``) and on the non-maskable ones, so masking a masked value changes
nothing: masking is idempotent by construction.

What is kept, per finding type:

* phone: a leading ``+`` country calling code and the last 2 digits;
* email: the domain (everything after the last ``@``);
* person_name: the first character (the family name in CJK order), if there are ≥ 2;
* national_id, passport, bank_card, bank_account, vehicle_plate: the last 4 characters
  (of ≥ 8), the last 2 (of ≥ 4), else nothing;
* address: the part after the last comma (usually city / country);
* ip_address: IPv4: the first three octets; IPv6: the first three groups;
* date_of_birth: the first run of exactly 4 digits (the year);
* anything else, or ``full=True``: nothing.

Numbers become ``"***"``; booleans and null are left alone; objects and arrays are masked
leaf by leaf (an address object keeps its city, province, state, region and country).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import phonenumbers

MASK = "*"
MASKED_NUMBER = "***"
ADDRESS_KEEP_KEYS = frozenset(
    {"city", "town", "province", "state", "region", "country", "country_code", "countrycode"}
)

Keep = Callable[[str, list[int]], set[int]]  # (string, maskable indices) -> indices kept


def _maskable(c: str) -> bool:
    return c.isalnum() or c == MASK


def mask_string(s: str, keep: Keep) -> str:
    """Replace every maskable character whose index `keep` does not return with ``*``."""
    indices = [i for i, c in enumerate(s) if _maskable(c)]
    kept = keep(s, indices)
    chars = list(s)
    for i in indices:
        if i not in kept:
            chars[i] = MASK
    return "".join(chars)


def _keep_none(s: str, idx: list[int]) -> set[int]:
    return set()


def calling_code_length(s: str, idx: list[int]) -> int:
    """Digits of the country calling code after a leading ``+`` (0 if none)."""
    if not s.lstrip().startswith("+"):
        return 0
    lead = "".join(s[i] for i in idx[:3])
    for n in (1, 2, 3):
        code = lead[:n]  # ASCII digits only: '¹'.isdigit() holds, int('¹') fails
        if (
            code.isascii()
            and code.isdecimal()
            and int(code) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE
        ):
            return n
    return 0


def _keep_phone(s: str, idx: list[int]) -> set[int]:
    cc = calling_code_length(s, idx)
    n = len(idx)
    tail = 2 if n - cc >= 6 else 0
    return set(idx[:cc]) | set(idx[n - tail :] if tail else [])


def _keep_after(sep: str) -> Keep:
    def keep(s: str, idx: list[int]) -> set[int]:
        at = s.rfind(sep)
        return {i for i in idx if i > at} if at >= 0 else set()

    return keep


def _keep_first(s: str, idx: list[int]) -> set[int]:
    return {idx[0]} if len(idx) >= 2 else set()


def _keep_last_digits(s: str, idx: list[int]) -> set[int]:
    n = len(idx)
    tail = 4 if n >= 8 else 2 if n >= 4 else 0
    return set(idx[n - tail :]) if tail else set()


def _keep_ip(s: str, idx: list[int]) -> set[int]:
    if "." in s:
        cut = s.rfind(".")
    else:
        colons = [i for i, c in enumerate(s) if c == ":"]
        cut = colons[2] if len(colons) > 2 else -1
    return {i for i in idx if i < cut}


def _runs(idx: list[int]) -> list[list[int]]:
    """Maximal runs of adjacent maskable indices."""
    runs: list[list[int]] = []
    for i in idx:
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def _keep_year(s: str, idx: list[int]) -> set[int]:
    for run in _runs(idx):
        text = "".join(s[i] for i in run)
        if len(run) == 4 and text.isascii() and text.isdigit():
            return set(run)
    return set()


KEEPERS: dict[str, Keep] = {
    "phone": _keep_phone,
    "email": _keep_after("@"),
    "person_name": _keep_first,
    "national_id": _keep_last_digits,
    "passport": _keep_last_digits,
    "bank_card": _keep_last_digits,
    "bank_account": _keep_last_digits,
    "vehicle_plate": _keep_last_digits,
    "address": _keep_after(","),
    "ip_address": _keep_ip,
    "date_of_birth": _keep_year,
}


def mask_value(value: Any, finding_type: str | None = None, *, full: bool = False) -> Any:
    """Mask `value` for `finding_type` (see the module docstring); never mutates `value`."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return MASKED_NUMBER
    if isinstance(value, str):
        keep = _keep_none if full else KEEPERS.get(finding_type or "", _keep_none)
        return mask_string(value, keep)
    if isinstance(value, dict):
        return _mask_object(value, finding_type, full)
    if isinstance(value, list):
        return [mask_value(v, finding_type, full=full) for v in value]
    return MASKED_NUMBER


def _mask_object(value: dict[str, Any], finding_type: str | None, full: bool) -> dict[str, Any]:
    keep_keys = ADDRESS_KEEP_KEYS if finding_type == "address" and not full else frozenset()
    return {
        k: v if k.lower() in keep_keys else mask_value(v, finding_type, full=full)
        for k, v in value.items()
    }
