"""Generalization: replace a value by a coarser one that keeps its analytic use.

* date_of_birth: the year (``"1990"``);
* precise_location: coordinates rounded to 2 decimals (~1 km) in numbers, ``"lat,lon"``
  strings, ``{lat, lon}`` objects and ``[lon, lat]`` arrays;
* address: an object keeps city, province, state, region and country; a string keeps its
  last two comma-separated parts;
* ip_address: the /24 network for IPv4 (``203.0.113.0/24``), /48 for IPv6;
* phone: the country calling code (``+84``), or null;
* email: ``*@`` + the domain;
* anything else: null (nothing coarser is known, so the value is suppressed).

Generalizing a generalized value changes nothing.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Any

from silkgate.transform.mask import ADDRESS_KEEP_KEYS, MASK, calling_code_length

COORDINATE_DECIMALS = 2
COORDINATE_KEYS = frozenset({"lat", "lon", "lng", "latitude", "longitude", "coordinates"})
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _year(value: Any) -> Any:
    if isinstance(value, str):
        m = re.search(r"(?<!\d)(1[89]\d\d|2[01]\d\d)(?!\d)", value)
        return m.group(1) if m else None
    return None


def _round(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return round(float(value), COORDINATE_DECIMALS)
    if isinstance(value, str):
        return _NUMBER.sub(lambda m: f"{float(m.group()):.{COORDINATE_DECIMALS}f}", value)
    if isinstance(value, list):
        return [_round(v) for v in value]
    if isinstance(value, dict):
        return {k: _round(v) if k.lower() in COORDINATE_KEYS else v for k, v in value.items()}
    return None


def _address(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k.lower() in ADDRESS_KEEP_KEYS}
    if isinstance(value, str):
        parts = [p.strip() for p in value.split(",") if p.strip()]
        return ", ".join(parts[-2:])
    return None


def _ip(value: Any) -> Any:
    if not isinstance(value, str):
        return None
    try:
        iface = ipaddress.ip_interface(value.strip())
    except ValueError:
        return None
    target = 24 if iface.version == 4 else 48
    prefix = min(iface.network.prefixlen, target)
    return str(iface.network.supernet(new_prefix=prefix))


def _phone(value: Any) -> Any:
    if not isinstance(value, str) or not value.strip().startswith("+"):
        return None
    idx = [i for i, c in enumerate(value) if c.isdigit()]
    cc = calling_code_length(value, idx)
    return "+" + "".join(value[i] for i in idx[:cc]) if cc else None


def _email(value: Any) -> Any:
    if not isinstance(value, str) or "@" not in value:
        return None
    return MASK + value[value.rfind("@") :]


GENERALIZERS: dict[str, Callable[[Any], Any]] = {
    "date_of_birth": _year,
    "precise_location": _round,
    "address": _address,
    "ip_address": _ip,
    "phone": _phone,
    "email": _email,
}


def generalize_value(value: Any, finding_type: str | None = None) -> Any:
    """A coarser version of `value` for `finding_type` (see the module docstring)."""
    fn = GENERALIZERS.get(finding_type or "")
    return fn(value) if fn else None
