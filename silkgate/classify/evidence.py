"""What supports a finding, and how sure it is: one place that turns evidence into a
confidence level, so every detector (plugins included) is graded the same way.

Evidence names what vouches for a value and which checks it passed or failed:

- ``annotation``: the product's schema says what the path holds;
- ``key``: the key name announces the type (``"sdt"``, ``"card_number"``);
- ``context``: a word in the same string does (``"身份证"``, ``"NIK"``, a title);
- checks passed: ``checksum``, ``date``, ``region``, ``place``, ``iin``, ``numbering_plan``,
  ``syntax``, ``lexicon``;
- checks failed: ``no_region``, ``no_place``, ``no_iin``, ``no_numbering_plan`` (metadata
  that lags reality: new regencies, card ranges, number ranges);
- facts that are not checks: ``region_later_than_birth`` (a CN ID issued by a county created
  after its holder was born; python-stdnum rejects such IDs, they are valid).

``high``: vouched for and no check failed. ``medium``: vouched for but a metadata check
failed, or every check passed with nothing vouching. ``low``: a check failed and nothing
vouches (shape only).
"""

from __future__ import annotations

from typing import Final

from silkgate.classify import checks
from silkgate.classify.contexts import anywhere
from silkgate.classify.phones import parse_international, region_of
from silkgate.classify.registry import KeyContext
from silkgate.model import Confidence

Evidence = tuple[str, ...]

FAILED: Final = frozenset({"no_region", "no_place", "no_iin", "no_numbering_plan"})
_VOUCHING: Final = frozenset({"annotation", "key", "context"})

ANNOTATION: Final[Evidence] = ("annotation",)
KEY: Final[Evidence] = ("key",)
_CONTEXT: Final[Evidence] = ("context",)

_DROP: Final = str.maketrans("", "", " -.()/+")
_CONTEXT_TYPES: Final = frozenset(
    {
        "passport",
        "national_id",
        "date_of_birth",
        "bank_account",
        "bank_card",
        "phone",
        "vehicle_plate",
        "person_name",
        "address",
    }
)


def confidence(evidence: Evidence) -> Confidence:
    vouched = failed = False
    for item in evidence:  # two or three items: a plain loop beats two set operations
        if item in _VOUCHING:
            vouched = True
        elif item in FAILED:
            failed = True
    if failed:
        return "medium" if vouched else "low"
    return "high" if vouched else "medium"


def assess(
    ftype: str,
    country: str | None,
    text: str,
    start: int,
    end: int,
    kc: KeyContext,
    checks_run: Evidence | None = None,
) -> Evidence:
    """The evidence for a detector's hit ``text[start:end]`` under key context ``kc``: what
    vouches for it, then the checks the detector ran (``checks_run``) or, when it did not
    say, the checks of its type run again here. Called while the detectors' lower-cased
    copy of ``text`` is still shared (lexmatch)."""
    if kc.hint == ftype:
        vouch: Evidence = KEY
    elif ftype in _CONTEXT_TYPES and anywhere(ftype, text, kc):
        vouch = _CONTEXT
    else:
        vouch = ()
    if checks_run is not None:
        return vouch + checks_run if vouch else checks_run
    ev = list(vouch)
    value = text[start:end]
    if ftype == "national_id":
        _national_id(value, country, ev)
    elif ftype == "bank_card":
        digits = value.translate(_DROP)
        ev.append("checksum")
        ev.append("iin" if checks.card_brand(digits) else "no_iin")
    elif ftype == "phone":
        ev.append("numbering_plan" if _plan_ok(value) else "no_numbering_plan")
    elif ftype in ("email", "ip_address", "precise_location", "vehicle_plate"):
        ev.append("syntax")
    elif ftype == "date_of_birth":
        ev.append("date")
    elif ftype in ("person_name", "address"):
        ev.append("lexicon")
    return tuple(ev)


def _plan_ok(value: str) -> bool:
    stripped = value.lstrip(" (")
    if stripped[:1] == "+":
        return parse_international(value.translate(_DROP)) is not None
    return region_of(value) is not None


def _national_id(value: str, country: str | None, ev: list[str]) -> None:
    digits = value.translate(_DROP).upper()
    if country == "CN" and len(digits) == 18:
        ev += ("checksum", "date", "region")
        if not checks.cn_region_assigned_at_birth(digits):
            ev.append("region_later_than_birth")
    elif country == "ID":
        ev += ("date", "region" if checks.id_nik_valid(digits) else "no_region")
    elif country == "MY":
        ev += ("date", "place" if checks.my_nric_valid(digits) else "no_place")
    elif country in ("TH", "SG"):
        ev.append("checksum")
    elif country == "VN":
        ev.append("region")
