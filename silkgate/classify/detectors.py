"""Built-in content detectors for identifiers with a recognisable shape: emails, locations,
IP addresses, vehicle plates, passports and NRICs, and every digit-based identifier.

Each scan function runs only on strings showing its trigger, finds candidates with one
regex pass and validates only those candidates.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Final

from silkgate.classify import checks
from silkgate.classify.contexts import anywhere, business_before, near
from silkgate.classify.phones import (
    parse_international,
    parse_national,
    well_formed_international,
    well_formed_national,
)
from silkgate.classify.profile import GATES
from silkgate.classify.registry import (
    NO_CONTEXT,
    Checks,
    Detector,
    Hit,
    KeyContext,
    register_detector,
)
from silkgate.model import FindingType


def overlaps(hits: list[Hit], start: int, end: int) -> bool:
    # A plain loop: any() would build a generator per candidate (hot path, few hits).
    for h in hits:  # noqa: SIM110
        if h[1] < end and start < h[2]:
            return True
    return False


# ---------------------------------------------------------------- email

_EMAIL: Final = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]*@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*"
    r"\.[A-Za-z]{2,24}(?![A-Za-z0-9\-])"
)


def scan_email(text: str, kc: KeyContext, hits: list[Hit]) -> None:
    for m in _EMAIL.finditer(text):
        hits.append(("email", m.start(), m.end(), None))


# ---------------------------------------------------------------- precise location

# Four decimals of a degree is about 11 m: enough to pick out a building.
_COORD: Final = re.compile(
    r"(?<![\d.])(?:geo:)?(-?\d{1,2}\.\d{4,})\s*[,;]\s*(-?\d{1,3}\.\d{4,})(?![\d.])"
)


# Both coordinates carry ".dddd": a literal-led search (fast in `re`) rules most strings out.
_FOUR_DECIMALS: Final = re.compile(r"\.\d{4}")


def scan_location(text: str, kc: KeyContext, hits: list[Hit]) -> None:
    if "." not in text or _FOUR_DECIMALS.search(text) is None:
        return
    for m in _COORD.finditer(text):
        lat, lon = float(m.group(1)), float(m.group(2))
        if abs(lat) <= 90 and abs(lon) <= 180 and not (lat == 0 and lon == 0):
            hits.append(("precise_location", m.start(), m.end(), None))


# ---------------------------------------------------------------- IP addresses

# (?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.]), written to start with a character class
# (lookbehind after the first digit) so `re` skips to digits in C; same matches.
_IPV4: Final = re.compile(r"\d(?<![\d.]\d)\d{0,2}\.(?:\d{1,3}\.){2}\d{1,3}(?![\d.])")
_IPV6: Final = re.compile(
    r"(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.\d{1,3}){0,3}(?![\w:])"
)


def scan_ip(text: str, kc: KeyContext, hits: list[Hit]) -> None:
    # Gates: an IPv4 address holds three dots, an IPv6 address at least two colons.
    gated = GATES[0]
    if "." in text and (not gated or text.count(".") >= 3):
        for m in _IPV4.finditer(text):
            if all(int(p) <= 255 for p in m.group().split(".")) and not overlaps(
                hits, m.start(), m.end()
            ):
                hits.append(("ip_address", m.start(), m.end(), None))
    if ":" in text and (not gated or text.count(":") >= 2):
        for m in _IPV6.finditer(text):
            if m.group().count(":") < 2:
                continue
            try:
                ipaddress.IPv6Address(m.group())
            except ValueError:
                continue
            hits.append(("ip_address", m.start(), m.end(), None))


# ---------------------------------------------------------------- vehicle plates

_CN_PROVINCES: Final = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_CN_PLATE: Final = re.compile(
    rf"[{_CN_PROVINCES}][A-HJ-NP-Z][·•\s]?[A-HJ-NP-Z0-9]{{5,6}}(?![A-Za-z0-9])"
)
# Viet Nam: province code, series letter(s), serial: "51F-123.45", "29A1-234.56".
_VN_PLATE: Final = re.compile(
    r"(?<![A-Za-z0-9\-])(\d{2})([A-Z]{1,2}\d?)([-\s]?)(\d{3}\.\d{2}|\d{4,5})(?![A-Za-z0-9])"
)


def scan_plate(text: str, kc: KeyContext, hits: list[Hit]) -> None:
    if not text.isascii():
        for m in _CN_PLATE.finditer(text):
            if any(ch.isdigit() for ch in m.group()[2:]):
                hits.append(("vehicle_plate", m.start(), m.end(), "CN"))
    for m in _VN_PLATE.finditer(text):
        formatted = m.group(3) == "-" or "." in m.group(4)
        if 11 <= int(m.group(1)) <= 99 and (
            formatted or near("vehicle_plate", text, m.start(), kc)
        ):
            hits.append(("vehicle_plate", m.start(), m.end(), "VN"))


# ---------------------------------------------------------------- passports, SG NRIC/FIN

_ALNUM: Final = re.compile(r"(?<![A-Za-z0-9\-])[A-Z]{1,2}\d{6,8}[A-Z]?(?![A-Za-z0-9\-])")
_SG_NRIC: Final = re.compile(r"[STFGM]\d{7}[A-Z]")
_PASSPORT_COUNTRY: Final[tuple[tuple[re.Pattern[str], str], ...]] = (
    (re.compile(r"E\d{8}|E[A-HJ-NP-Z]\d{7}|G\d{8}"), "CN"),
    (re.compile(r"[AH]\d{8}"), "MY"),
    (re.compile(r"[EK]\d{7}[A-Z]"), "SG"),
    (re.compile(r"P\d{7}[A-Z]"), "PH"),
)


def scan_alnum_ids(text: str, kc: KeyContext, hits: list[Hit]) -> None:
    for m in _ALNUM.finditer(text):
        code, start, end = m.group(), m.start(), m.end()
        if overlaps(hits, start, end):
            continue
        passport_ctx = near("passport", text, start, kc)
        if _SG_NRIC.fullmatch(code) and checks.sg_nric_valid(code) and not passport_ctx:
            hits.append(("national_id", start, end, "SG"))
            continue
        if 7 <= len(code) <= 10 and passport_ctx:
            hits.append(("passport", start, end, _passport_country(code)))


def _passport_country(code: str) -> str | None:
    for pattern, country in _PASSPORT_COUNTRY:
        if pattern.fullmatch(code):
            return country
    return None


# ---------------------------------------------------------------- digit-based identifiers

# A run of digits with the separators people type into numbers, optionally led by "+" or
# "(+", optionally ending in the "X" of a Chinese resident ID. Not glued to letters.
# Written to start with a character class (the lookbehinds come after the first character,
# which then picks the branch: "(+", "+", "(" or a digit), so `re` skips to candidate
# characters in C instead of trying the whole pattern at every position: about a third
# faster, and the same matches as the plain form
# (?<![A-Za-z0-9_\-.@/#])(?:\(?\+\s?)?\(?\d... (tests/classify/test_speed_forms.py).
_NUM: Final = re.compile(
    r"[\d(+](?<![A-Za-z0-9_\-.@/#][\d(+])"
    r"(?:(?<=\()\+\s?\(?\d|(?<=\+)\s?\(?\d|(?<=\()\d|(?<=\d))"
    r"(?:[\d]|[ \-.()/](?=[\d(]))*\d\)?"
    r"(?:[Xx](?![A-Za-z0-9]))?(?![A-Za-z0-9@])"
)
_DROP: Final = str.maketrans("", "", " -.()/+")
_DATE_SHAPE: Final = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4}")
_DATE_ANY: Final = re.compile(
    r"(?<!\d)(?:(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?|(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}))(?!\d)"
)
_MY_FORMAT: Final = re.compile(r"\d{6}-\d{2}-\d{4}")
_TH_FORMAT: Final = re.compile(r"\d-\d{4}-\d{5}-\d{2}-\d")
_CARD_GROUPS: Final = re.compile(r"\d{4}([ -])\d{4}\1\d{4}\1\d{4}(?:\1\d{1,3})?")
_SG_GROUPS: Final = re.compile(r"[89]\d{3}[ -]\d{4}")
_PH_WORDS: Final = re.compile(r"philsys|\bpsn\b|\bpcn\b", re.IGNORECASE)


# Every date _DATE_ANY finds holds a four-digit year next to a separator: without one, no
# need to look for birth-date words (a gate: the plain form looks every time). Written to
# start with the separator, so that `re` skips to separators in C: a match exists exactly
# when \d{4}[-/.年]|[-/.]\d{4} has one (tests/classify/test_prefilter.py).
_DATE_GATE: Final = re.compile(r"[-/.年](?:(?<=\d{4}[-/.年])|(?<=[-/.])(?=\d{4}))")


def scan_numbers(text: str, kc: KeyContext, hits: list[Hit]) -> None:
    if (not GATES[0] or _DATE_GATE.search(text) is not None) and anywhere(
        "date_of_birth", text, kc
    ):
        _scan_dates(text, hits)
    for m in _NUM.finditer(text):
        start, end = m.span()
        if overlaps(hits, start, end):
            continue
        hit = _number(text, m.group(), start, end, kc)
        if hit is not None:
            hits.append(hit)


def _scan_dates(text: str, hits: list[Hit]) -> None:
    for m in _DATE_ANY.finditer(text):
        if m.group(1):
            y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        else:
            d, mo, y = int(m.group(4)), int(m.group(5)), int(m.group(6))
        if checks.valid_date(y, mo, d) and y <= 2026:
            hits.append(("date_of_birth", m.start(), m.end(), None))


def _number(text: str, raw: str, start: int, end: int, kc: KeyContext) -> Hit | None:
    digits = raw.translate(_DROP).upper()
    n = len(digits)
    if n < 7 or _DATE_SHAPE.fullmatch(raw):
        return None
    if "+" in raw[:3]:
        phone = parse_international(digits)
        if phone:
            return ("phone", start, end, phone.region, _PLAN)
        # A well-formed number in a range the plan's metadata calls unallocated is still a
        # number: reported (medium under a phone key or word, low on its own shape).
        phone = well_formed_international(digits)
        return ("phone", start, end, phone.region, _NO_PLAN) if phone else None
    if digits.startswith("00") and 10 <= n <= 17 and not near("bank_account", text, start, kc):
        phone = parse_international(digits[2:])
        if phone:
            return ("phone", start, end, phone.region, _PLAN)
    if digits[-1] == "X":
        ok = n == 18 and checks.cn_resident_id(digits)
        return ("national_id", start, end, "CN", _cn_checks(digits)) if ok else None
    found = _identity(text, raw, digits, start, kc)
    if found is not None:
        return (found[0], start, end, found[1], found[2])
    return _phone_or_account(text, raw, digits, start, end, kc)


# The checks a hit passed (or failed: "no_..."), handed to the classifier as evidence.
_PLAN: Final[Checks] = ("numbering_plan",)
_NO_PLAN: Final[Checks] = ("no_numbering_plan",)
_CARD: Final[Checks] = ("checksum", "iin")
_CARD_NO_IIN: Final[Checks] = ("checksum", "no_iin")
_CN: Final[Checks] = ("checksum", "date", "region")
_CN_LATER: Final[Checks] = (*_CN, "region_later_than_birth")
_NIK: Final[Checks] = ("date", "region")
_NIK_NO_REGION: Final[Checks] = ("date", "no_region")
_MY: Final[Checks] = ("date", "place")
_MY_NO_PLACE: Final[Checks] = ("date", "no_place")
_CHECKSUM: Final[Checks] = ("checksum",)
_PROVINCE: Final[Checks] = ("region",)


def _cn_checks(digits: str) -> Checks:
    return _CN if checks.cn_region_assigned_at_birth(digits) else _CN_LATER


def _identity(
    text: str, raw: str, digits: str, start: int, kc: KeyContext
) -> tuple[FindingType, str | None, Checks] | None:
    n = len(digits)
    if n == 18 and checks.cn_resident_id(digits):
        return ("national_id", "CN", _cn_checks(digits))
    card = 15 <= n <= 19 and checks.bank_card_valid(digits)
    card_checks = _CARD
    if not card and checks.card_shape(digits):
        # Luhn holds but the issuer table does not know the range: a card under a card key
        # or word (the key decides outright; a word only against a NIK reading).
        if kc.hint == "bank_card":
            return ("bank_card", None, _CARD_NO_IIN)
        card = near("bank_card", text, start, kc) and not near("national_id", text, start, kc)
        card_checks = _CARD_NO_IIN
    # A 16-digit number can pass both as a card and as a NIK; grouping and words decide,
    # and a card (Luhn and issuer range both hold) wins when nothing does.
    if (
        n == 16
        and checks.id_nik_valid(digits)
        and (not card or (near("national_id", text, start, kc) and not _CARD_GROUPS.fullmatch(raw)))
    ):
        return ("national_id", "ID", _NIK)
    if card and not (
        n == 18 and checks.gs1_valid(digits) and not near("bank_card", text, start, kc)
    ):
        return ("bank_card", None, card_checks)
    if n not in (12, 13, 16):
        return None
    id_ctx = near("national_id", text, start, kc)
    if n == 13 and checks.th_pin_valid(digits) and (id_ctx or _TH_FORMAT.fullmatch(raw)):
        return ("national_id", "TH", _CHECKSUM)
    if n == 12 and checks.my_nric_valid(digits) and (id_ctx or _MY_FORMAT.fullmatch(raw)):
        return ("national_id", "MY", _MY)
    if id_ctx and n == 12 and checks.vn_citizen_id_valid(digits):
        return ("national_id", "VN", _PROVINCE)
    # Region and place lists lag (new regencies, new MyKad codes): under an ID key or word
    # the shape and birth date are enough.
    if id_ctx and n == 16 and checks.id_nik_shape(digits) and not _PH_WORDS.search(text):
        return ("national_id", "ID", _NIK if checks.id_nik_valid(digits) else _NIK_NO_REGION)
    if id_ctx and n == 12 and checks.my_nric_shape(digits) and not _PH_WORDS.search(text):
        return ("national_id", "MY", _MY_NO_PLACE)
    if id_ctx and checks.ph_philsys_valid(digits) and (n == 16 or _PH_WORDS.search(text)):
        return ("national_id", "PH", ())
    return None


def _phone_word(text: str, start: int) -> bool:
    return near("phone", text, start, NO_CONTEXT)


_NOT_PHONE_KEYS: Final = frozenset(
    {"national_id", "passport", "bank_card", "bank_account", "date_of_birth"}
)


def _phone_or_account(
    text: str, raw: str, digits: str, start: int, end: int, kc: KeyContext
) -> Hit | None:
    n = len(digits)
    if kc.hint == "bank_account" or (
        kc.hint is None and near("bank_account", text, start, kc) and not _phone_word(text, start)
    ):
        return ("bank_account", start, end, None) if 6 <= n <= 20 else None
    if 7 <= n <= 12 and kc.hint not in _NOT_PHONE_KEYS:
        # Mobile numbers stand on their own; fixed lines and bare numbers need phone words.
        # Tariff lines ("0901210000") look like trunk-prefixed mobiles but end in zeros.
        if raw.isdigit() and raw.endswith("00") and n == 10 and not near("phone", text, start, kc):
            return None
        phone = parse_national(digits, mobile_only=True)
        if phone is None and n == 8 and _SG_GROUPS.fullmatch(raw):
            phone = parse_international("65" + digits)
        phone_ctx = False
        plan = _PLAN
        if phone is None:
            phone_ctx = near("phone", text, start, kc)
            if phone_ctx:  # a phone key may hold the country code without "+"
                phone = parse_national(digits, mobile_only=False) or parse_international(digits)
            if phone is None and kc.hint == "phone":  # a phone key vouches for the form
                phone = well_formed_national(digits) or well_formed_international(digits)
                plan = _NO_PLAN
        if phone is not None and (
            phone_ctx or not business_before(text, start) or near("phone", text, start, kc)
        ):
            return ("phone", start, end, phone.region, plan)
    if (
        6 <= n <= 20
        and near("bank_account", text, start, kc)
        and not near("phone", text, start, kc)
    ):
        return ("bank_account", start, end, None)
    return None


# ---------------------------------------------------------------- registration

BUILTIN_DETECTORS: Final[tuple[Detector, ...]] = (
    Detector("email", ("email",), frozenset({"at"}), scan_email, priority=10),
    Detector("location", ("precise_location",), frozenset({"digit"}), scan_location, priority=20),
    Detector("ip", ("ip_address",), frozenset({"digit", "colon"}), scan_ip, priority=30),
    Detector(
        "vehicle_plate", ("vehicle_plate",), frozenset({"letter_digit"}), scan_plate, priority=35
    ),
    Detector(
        "passport_nric",
        ("passport", "national_id"),
        frozenset({"letter_digit"}),
        scan_alnum_ids,
        priority=40,
    ),
    Detector(
        "numbers",
        ("phone", "national_id", "bank_card", "bank_account", "date_of_birth"),
        frozenset({"digit"}),
        scan_numbers,
        priority=50,
    ),
)

for _d in BUILTIN_DETECTORS:
    register_detector(_d)
