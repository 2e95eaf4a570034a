"""`minor` findings: a record whose subject is a child under 14 on the day of the decision
(China treats all personal information of a child under 14 as sensitive, PIPL Art. 28).

Age depends on the day, which classification does not know, so this is a pure step after
it: given a record, its findings and the day, it adds a `minor` finding where

- a `date_of_birth` finding's value is a date less than 14 years before the day;
- a Chinese resident ID number (`national_id`, country CN) encodes such a birth date;
- a field named for an age (`age`, `年龄`, `tuổi`, `อายุ`, `umur`, `usia`, `edad`) at the
  top level or one level down holds a whole number below 14.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any, Final

from silkgate.errors import InputError
from silkgate.model import Finding
from silkgate.paths import format_path, parse_path

MINOR_AGE = 14
AGE_KEYS = frozenset({"age", "年龄", "年齡", "tuổi", "tuoi", "อายุ", "umur", "usia", "edad"})
_PERSONAL = frozenset({"person_name", "date_of_birth", "national_id", "passport"})
_YMD = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
_DMY = re.compile(r"(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{4})")
_COMPACT = re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)")


def minor_findings(record: Any, findings: Sequence[Finding], on: date) -> tuple[Finding, ...]:
    """The `minor` findings to add to a record's findings on day `on` (often none)."""
    personal = False
    out: dict[str, Finding] = {}
    for f in findings:  # one pass: is any finding personal, and which give a birth date
        ftype = f.type
        if ftype not in _PERSONAL:
            continue
        personal = True
        if ftype == "date_of_birth" or ftype == "national_id":
            born = _birth_date(record, f)
            if born is not None and _age(born, on) < MINOR_AGE:
                out.setdefault(f.path, _minor(f.path, f"minor.{ftype}", f.confidence))
    if not personal:
        return ()
    if _may_name_an_age(record):
        for path, value in _age_fields_plain(record):
            age = _whole(value) if isinstance(value, int | str) else None
            if age is not None and 0 <= age < MINOR_AGE:
                out.setdefault(path, _minor(path, "minor.age", "high"))
    return tuple(out.values()) if out else ()


def _minor(path: str, detector: str, confidence: Any) -> Finding:
    return Finding(path=path, type="minor", detector=detector, confidence=confidence)


def _birth_date(record: Any, finding: Finding) -> date | None:
    if finding.type not in ("date_of_birth", "national_id"):
        return None
    text = _text_at(record, finding)
    if text is None:
        return None
    if finding.type == "national_id":
        return _cn_id_birth(text) if finding.country == "CN" else None
    for pattern, order in ((_YMD, (0, 1, 2)), (_COMPACT, (0, 1, 2)), (_DMY, (2, 1, 0))):
        m = pattern.search(text)
        if m:
            parts = m.groups()
            return _date(parts[order[0]], parts[order[1]], parts[order[2]])
    return None


def _cn_id_birth(text: str) -> date | None:
    digits = "".join(c for c in text if c.isascii() and (c.isdigit() or c in "xX"))
    if len(digits) == 18:
        return _date(digits[6:10], digits[10:12], digits[12:14])
    if len(digits) == 15:  # first-generation IDs: YYMMDD, all born in the 1900s
        return _date("19" + digits[6:8], digits[8:10], digits[10:12])
    return None


def _date(year: str, month: str, day: str) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _text_at(record: Any, finding: Finding) -> str | None:
    try:
        segments = parse_path(finding.path)
    except InputError:
        return None
    node = record
    for segment in segments:
        try:
            node = node[segment]
        except (KeyError, IndexError, TypeError):
            return None
    if not isinstance(node, str | int):
        return None
    text = str(node)
    if finding.span is not None:
        text = text[finding.span[0] : finding.span[1]]
    return text


def _age_fields(record: Any) -> Iterator[tuple[str, Any]]:
    if _may_name_an_age(record):
        yield from _age_fields_plain(record)


def _may_name_an_age(record: Any) -> bool:
    """Whether ``_age_fields_plain`` can find anything: False for nearly every record, with
    no need to look key by key."""
    if not isinstance(record, dict):
        return False
    try:
        return not _no_age_key(record)
    except TypeError:  # a key that is not a string: the key-by-key loop sets it aside
        return True


def _no_age_key(record: dict[Any, Any]) -> bool:
    """No key at the top level or one level down names an age. Keys seen before are known
    not to (``_NOT_AGE``): ``issuperset`` is a C loop of set lookups, with no lower-cased
    copy per key. TypeError on a key that is not a str."""
    known = _NOT_AGE
    if not known.issuperset(record) and not _learn(record):
        return False
    for value in record.values():
        if isinstance(value, dict) and not known.issuperset(value) and not _learn(value):
            return False
    return True


def _learn(keys: dict[Any, Any]) -> bool:
    """No key of ``keys`` names an age (lower-cased by ``map``, compared by ``isdisjoint``,
    in C); if so, they are remembered in ``_NOT_AGE`` while it has room."""
    if not AGE_KEYS.isdisjoint(map(str.lower, keys)):
        return False
    if len(_NOT_AGE) < _NOT_AGE_MAX:
        _NOT_AGE.update(keys)
    return True


# Keys (never values) known not to name an age. Bounded: records keyed by ids must not
# grow it forever; past the bound, new keys are lower-cased each time, as without it.
_NOT_AGE: Final[set[str]] = set()
_NOT_AGE_MAX: Final = 10_000


def _age_fields_plain(record: dict[Any, Any]) -> Iterator[tuple[str, Any]]:
    for key, value in record.items():
        if isinstance(key, str) and key.lower() in AGE_KEYS:
            yield format_path((key,)), value
        elif isinstance(value, dict):
            for inner, v in value.items():
                if isinstance(inner, str) and inner.lower() in AGE_KEYS:
                    yield format_path((key, inner)), v


def _whole(value: int | str) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = value.strip()
    return int(text) if text.isascii() and text.isdecimal() and len(text) <= 3 else None
