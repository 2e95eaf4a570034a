"""Phone validation from phonenumbers' own per-region metadata, compiled once.

`phonenumbers.parse` + `is_valid_number` costs ~34 µs; matching the same metadata patterns
directly costs well under 1 µs, so every candidate can be validated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

import phonenumbers

CORRIDOR_REGIONS: Final[tuple[str, ...]] = (
    "CN",
    "VN",
    "TH",
    "MY",
    "SG",
    "ID",
    "PH",
    "KH",
    "LA",
    "MM",
    "BN",
)
_TYPES: Final[tuple[str, ...]] = (
    "fixed_line",
    "mobile",
    "toll_free",
    "premium_rate",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
)


@dataclass(frozen=True, slots=True)
class _Region:
    region: str
    country_code: str
    national_prefix: str
    valid: re.Pattern[str]
    mobile: re.Pattern[str]
    lengths: frozenset[int]


def _pattern(desc: object) -> str | None:
    pat = getattr(desc, "national_number_pattern", None)
    return pat if isinstance(pat, str) and pat and pat != "NA" else None


def _compile(region: str) -> _Region:
    md = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if md is None or md.general_desc is None:
        raise ValueError(f"phonenumbers has no metadata for {region}")
    pats = [p for t in _TYPES if (p := _pattern(getattr(md, t, None))) is not None]
    mobile = _pattern(md.mobile) or "(?!)"
    return _Region(
        region=region,
        country_code=str(md.country_code),
        national_prefix=md.national_prefix or "",
        valid=re.compile("(?:" + "|".join(pats) + ")"),
        mobile=re.compile(mobile),
        lengths=frozenset(md.general_desc.possible_length or ()),
    )


_NON_DIGIT: Final = re.compile(r"\D")
_REGIONS: Final = tuple(_compile(r) for r in CORRIDOR_REGIONS)
_BY_CC: Final = {r.country_code: r for r in _REGIONS}


def _cc_of_head() -> dict[str, tuple[_Region, int]]:
    """Three leading digits -> the corridor region whose country code they start with and
    the code's length (shortest code first, as reading the digits one by one would)."""
    out: dict[str, tuple[_Region, int]] = {}
    for i in range(1000):
        head = f"{i:03d}"
        for n in (1, 2, 3):
            reg = _BY_CC.get(head[:n])
            if reg is not None:
                out[head] = (reg, n)
                break
    return out


_CC_OF_HEAD: Final = _cc_of_head()


def _cc_of(digits: str) -> tuple[_Region, int] | None:
    """The same, read digit by digit (heads the table lacks: other digit scripts)."""
    for n in (1, 2, 3):
        reg = _BY_CC.get(digits[:n])
        if reg is not None:
            return reg, n
    return None


class Phone:
    """A validated number. A plain class: built for every phone met; a frozen dataclass
    costs several times as much to create, and compiled (mypyc), a named tuple is built by
    an interpreted function."""

    __slots__ = ("e164", "region")

    def __init__(self, region: str | None, e164: str) -> None:
        self.region = region
        self.e164 = e164

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Phone):
            return NotImplemented
        return self.region == other.region and self.e164 == other.e164

    def __hash__(self) -> int:
        return hash((self.region, self.e164))

    def __repr__(self) -> str:
        return f"Phone(region={self.region!r}, e164={self.e164!r})"


def parse_international(digits: str) -> Phone | None:
    """`digits` follow a '+' or '00'. Corridor numbers use the compiled metadata; others
    fall back to phonenumbers (rare, so its cost does not matter)."""
    if not 8 <= len(digits) <= 15:
        return None
    found = _CC_OF_HEAD.get(digits[:3]) or _cc_of(digits)
    if found is not None:
        reg, n = found
        nsn = digits[n:]
        if reg.national_prefix and nsn.startswith(reg.national_prefix):
            # "+84 (0) 912 ..." keeps the trunk zero by habit.
            alt = nsn[len(reg.national_prefix) :]
            if _valid(reg, alt):
                return Phone(reg.region, f"+{reg.country_code}{alt}")
        if _valid(reg, nsn):
            return Phone(reg.region, f"+{reg.country_code}{nsn}")
        return None
    return _parse_foreign(digits)


def _valid(reg: _Region, nsn: str) -> bool:
    """Any number type of the region. Most numbers met are mobiles, and the mobile pattern
    (part of the union) is much smaller than the union of every type: try it first."""
    return reg.mobile.fullmatch(nsn) is not None or reg.valid.fullmatch(nsn) is not None


def _parse_foreign(digits: str) -> Phone | None:
    try:
        num = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(num):
        return None
    region = phonenumbers.region_code_for_number(num)
    return Phone(region, f"+{num.country_code}{num.national_number}")


def parse_national(digits: str, *, mobile_only: bool) -> Phone | None:
    """A number written without country code. Without phone context only mobile numbers
    with a trunk prefix (or China's 11-digit mobiles) are accepted: fixed-line national
    formats look too much like other numbers. An ambiguous number gets region None."""
    found: list[tuple[_Region, str]] = []
    for reg, cut in _candidates(len(digits), digits[:2], mobile_only):
        nsn = digits[cut:]
        if (reg.mobile if mobile_only else reg.valid).fullmatch(nsn):
            found.append((reg, nsn))
    if not found:
        return None
    if len(found) == 1:
        reg, nsn = found[0]
        return Phone(reg.region, f"+{reg.country_code}{nsn}")
    return Phone(None, digits)


@lru_cache(maxsize=1024)
def _candidates(n: int, head: str, mobile_only: bool) -> tuple[tuple[_Region, int], ...]:
    """Regions whose trunk prefix and number lengths fit a number of ``n`` digits starting
    with ``head``, and where the national number starts (depends on nothing else)."""
    out: list[tuple[_Region, int]] = []
    for reg in _REGIONS:
        pre = reg.national_prefix
        if pre and head.startswith(pre):
            cut = len(pre)
        elif (reg.region == "CN" and n == 11 and head[0] == "1") or (not pre and not mobile_only):
            cut = 0
        else:
            continue
        if n - cut in reg.lengths:
            out.append((reg, cut))
    return tuple(out)


def well_formed_international(digits: str) -> Phone | None:
    """A corridor number (after '+' or '00') of a length its region uses, whatever the
    numbering plan says of its prefix: plans allocate new ranges before metadata knows them.
    Only for values a key or word vouches for."""
    found = _CC_OF_HEAD.get(digits[:3]) or _cc_of(digits)
    if found is None:
        return None
    reg, n = found
    nsn = digits[n:]
    if reg.national_prefix and nsn.startswith(reg.national_prefix):
        nsn = nsn[len(reg.national_prefix) :]
    if len(nsn) in reg.lengths and nsn[:1] not in ("", "0"):
        return Phone(reg.region, f"+{reg.country_code}{nsn}")
    return None


def well_formed_national(digits: str) -> Phone | None:
    """The same for a number written without country code: a trunk prefix (or China's
    leading 1) and a length the region uses; several regions fit -> region None."""
    found = [
        (reg, digits[cut:])
        for reg, cut in _candidates(len(digits), digits[:2], False)
        if digits[cut : cut + 1] not in ("", "0")
    ]
    if not found:
        return None
    if len(found) == 1:
        reg, nsn = found[0]
        return Phone(reg.region, f"+{reg.country_code}{nsn}")
    return Phone(None, digits)


def region_of(number: str) -> Phone | None:
    """Validate a whole phone string (annotated values, subjects)."""
    stripped = number.lstrip(" (")
    if stripped[:1] == "+":
        # "+84912345678", "+60 13-335 9550": the digits without a regex pass.
        compact = stripped[1:].replace(" ", "").replace("-", "")
        if compact.isascii() and compact.isdigit():
            return parse_international(compact)
    digits = _NON_DIGIT.sub("", number)
    if stripped.startswith("+"):
        return parse_international(digits)
    if digits.startswith("00"):
        return parse_international(digits[2:])
    # Mobile patterns are small; the union of every number type is large and slow.
    return parse_national(digits, mobile_only=True) or parse_national(digits, mobile_only=False)


def country_of_phone(number: str) -> str | None:
    """Cheap region of an annotated phone: from its country code when written
    internationally; a national-format number does not say (None)."""
    stripped = number.lstrip(" (")
    if stripped[:1] == "+" or stripped[:2] == "00":
        # Usually the code comes at once ("+84...", "+60 13-...", "0084..."): no need to
        # clean the whole number.
        skip = 1 if stripped[0] == "+" else 2
        head = stripped[skip : skip + 6].replace(" ", "").replace("-", "")[:3]
        if len(head) == 3 and head.isascii() and head.isdigit() and (skip == 2 or head[:2] != "00"):
            return _REGION_BY_HEAD.get(head)
        digits = _NON_DIGIT.sub("", stripped)
        if digits[:2] == "00":
            digits = digits[2:]
        for n in (1, 2, 3):
            reg = _BY_CC.get(digits[:n])
            if reg is not None:
                return reg.region
    return None


def _region_by_head() -> dict[str, str]:
    """Every three-digit head -> the region of the country code it starts with (the
    shortest code first, as a left-to-right read of the digits would find it)."""
    out: dict[str, str] = {}
    for i in range(1000):
        head = f"{i:03d}"
        for n in (1, 2, 3):
            reg = _BY_CC.get(head[:n])
            if reg is not None:
                out[head] = reg.region
                break
    return out


_REGION_BY_HEAD: Final = _region_by_head()
