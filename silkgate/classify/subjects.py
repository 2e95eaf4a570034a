"""Data subjects as raw normalized keys (``phone:+84912345678``). The hub hashes them with a
key before storing; nothing here keeps them."""

from __future__ import annotations

import re
from typing import Final

from silkgate.classify import checks
from silkgate.classify.phones import region_of
from silkgate.model import Finding
from silkgate.paths import parent

# Strongest first: what identifies a person most reliably.
_RANK: Final[tuple[str, ...]] = (
    "national_id",
    "passport",
    "phone",
    "email",
    "bank_card",
    "bank_account",
    "person_name",
)
_RANK_OF: Final = {ftype: i for i, ftype in enumerate(_RANK)}
_ALNUM: Final = re.compile(r"[^0-9A-Za-z]")
_SPACES: Final = re.compile(r"\s+")
_NON_DIGIT: Final = re.compile(r"\D")


def national_id_country(value: str) -> str | None:
    """The issuing country of an ID number, when its format and check digits tell."""
    code = _ALNUM.sub("", value).upper()
    n = len(code)
    if n == 18 and checks.cn_resident_id(code):
        return "CN"
    if n == 9 and checks.sg_nric_valid(code):
        return "SG"
    if n == 16 and checks.id_nik_valid(code):
        return "ID"
    if n == 13 and checks.th_pin_valid(code):
        return "TH"
    if n == 12 and checks.my_nric_valid(code) and "-" in value:
        return "MY"
    if n == 12 and checks.vn_citizen_id_valid(code):
        return "VN"
    if n == 12 and checks.my_nric_valid(code):
        return "MY"
    return None


def subject_key(ftype: str, value: str, country: str | None = None) -> str | None:
    """Normalize one identifying value; None if it is empty after normalization.
    ``country``: an ID's issuing country when the caller already knows it."""
    value = value.strip()
    if not value:
        return None
    if ftype == "national_id":
        code = _ALNUM.sub("", value).upper()
        country = country or national_id_country(value)
        return f"national_id:{country}:{code}" if country else f"national_id:{code}"
    if ftype == "passport":
        return f"passport:{_ALNUM.sub('', value).upper()}"
    if ftype == "phone":
        phone = region_of(value)
        if phone is not None and phone.e164.startswith("+"):
            return f"phone:{phone.e164}"
        digits = _NON_DIGIT.sub("", value)
        return f"phone:{digits}" if digits else None
    if ftype == "email":
        return f"email:{value.lower()}"
    if ftype in ("bank_card", "bank_account"):
        digits = _NON_DIGIT.sub("", value)
        return f"{ftype}:{digits}" if digits else None
    if ftype == "person_name":
        return f"person_name:{_SPACES.sub(' ', value.casefold())}"
    return None


def _parent(path: str) -> str:
    """The path of the object holding ``path`` (silkgate.paths.parent), remembered for
    recurring paths: paths name keys and indexes, never values."""
    got = _PARENTS.get(path)
    if got is None:
        got = parent(path)
        if len(_PARENTS) < 10_000:
            _PARENTS[path] = got
    return got


_PARENTS: Final[dict[str, str]] = {}


def subjects_from_findings(found: list[tuple[Finding, str]]) -> tuple[str, ...]:
    """One subject per object holding identifying findings (a consignee object with a phone
    and a name is one person): its strongest identifier."""
    best: dict[str, tuple[int, str, str]] = {}
    for finding, value in found:
        rank = _RANK_OF.get(finding.type)
        if rank is None:
            continue
        group = _parent(finding.path)
        if group not in best or rank < best[group][0]:
            best[group] = (rank, finding.type, value)
    keys: list[str] = []
    for _, ftype, value in best.values():
        key = subject_key(ftype, value)
        if key and key not in keys:
            keys.append(key)
    return tuple(keys)
