"""Check-digit and structure checks for identifiers: personal ones (to flag) and business
ones (to leave alone). Algorithms are the published ones; python-stdnum is used where it
has the scheme."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date
from importlib.resources import files
from typing import Final

from stdnum.id import nik as id_nik
from stdnum.my import nric as my_nric
from stdnum.th import pin as th_pin

# ---------------------------------------------------------------- personal identifiers


# stdnum looks regions up in its data files on every call (tens of µs); the answer depends
# only on the region digits, so it is remembered per region (bounded by the region list).
def _stdnum_ok(is_valid: Callable[[str], bool], number: str) -> bool:
    try:
        return bool(is_valid(number))
    except (ValueError, KeyError):  # stdnum 2.2 raises KeyError on some region entries
        return False


_MY_PLACE_OK: Final[dict[str, bool]] = {}
_ID_PLACE_OK: Final[dict[str, bool]] = {}


def cn_resident_id(number: str) -> bool:
    """18 characters, mod 11-2 check character, a real birth date and a region code that
    exists or once existed. The code says where the ID was issued, not where its holder was
    born, so it is not compared with the birth year (see `cn_region_assigned_at_birth`)."""
    if len(number) != 18 or number[0] == "0" or not number[:17].isdigit():
        return False
    if _cn_check_char(number) != number[17]:
        return False
    if not valid_date(int(number[6:10]), int(number[10:12]), int(number[12:14])):
        return False
    return number[:6] in cn_region_years()


def cn_region_assigned_at_birth(number: str) -> bool:
    """The stricter check (python-stdnum's): the region code was in use in the birth year.
    Evidence only: border towns and renamed districts issue valid IDs to older holders."""
    spans = cn_region_years().get(number[:6], ())
    year = int(number[6:10])
    return any(start <= year <= end for start, end in spans)


@functools.cache
def cn_region_years() -> dict[str, tuple[tuple[int, int], ...]]:
    """Every region code python-stdnum lists (current and historical) -> the years it was in
    use. Read once from stdnum's data file, the same list its own check uses."""
    text = files("stdnum").joinpath("cn/loc.dat").read_text(encoding="utf-8")
    out: dict[str, tuple[tuple[int, int], ...]] = {}
    province = ""
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        code, _, rest = line.strip().partition(" ")
        if not line.startswith(" "):
            province = code
            out[province + "0000"] = ((0, 9999),)
            continue
        names = rest.partition('="')[2].rstrip('"').split(",")
        spans = []
        for name in names:
            if name.startswith("[") and "]" in name:
                start, _, end = name[1:].partition("]")[0].partition("-")
                spans.append((int(start) if start else 0, int(end) if end else 9999))
            else:
                spans.append((0, 9999))
        out[province + code] = tuple(spans)
    return out


_CN_WEIGHTS: Final = tuple(2 ** (17 - i) % 11 for i in range(17))


def _cn_check_char(number: str) -> str:
    """GB 11643 (ISO 7064 MOD 11-2) check character."""
    total = sum((ord(ch) - 48) * w for ch, w in zip(number[:17], _CN_WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


def my_nric_valid(digits: str) -> bool:
    if len(digits) != 12 or not digits.isdigit():
        return False
    # stdnum's rule: YYMMDD read in the 1900s, else in the 2000s.
    yy, mm, dd = int(digits[:2]), int(digits[2:4]), int(digits[4:6])
    if not (_is_date(1900 + yy, mm, dd) or _is_date(2000 + yy, mm, dd)):
        return False
    ok = _MY_PLACE_OK.get(digits[6:8])
    if ok is None:
        ok = _MY_PLACE_OK[digits[6:8]] = _stdnum_ok(my_nric.is_valid, digits)
    return ok


def th_pin_valid(digits: str) -> bool:
    if len(digits) != 13:
        return False
    if not (digits.isascii() and digits.isdigit()):  # stdnum's cleaning rules decide
        return _stdnum_ok(th_pin.is_valid, digits)
    # stdnum's check, inlined (its compact/clean steps cost a few µs on every call).
    if digits[0] in "09":
        return False
    total = sum((2 - i) * (ord(ch) - 48) for i, ch in enumerate(digits[:12])) % 11
    return str((1 - total) % 10) == digits[12]


def id_nik_valid(digits: str) -> bool:
    if len(digits) != 16 or not digits.isdigit():
        return False
    if not _nik_birth_date_ok(digits):
        return False
    ok = _ID_PLACE_OK.get(digits[:4])
    if ok is None:
        ok = _ID_PLACE_OK[digits[:4]] = _stdnum_ok(id_nik.is_valid, digits)
    return ok


# Province codes of Indonesia's regions (the first two NIK digits), including provinces
# created after python-stdnum's list was made (North Kalimantan 65, the Papuan provinces).
_ID_PROVINCES: Final = frozenset(
    (*range(11, 20), 21, *range(31, 37), 51, 52, 53, *range(61, 66), *range(71, 77), 81, 82)
) | frozenset(range(91, 98))


def id_nik_shape(digits: str) -> bool:
    """A NIK without the regency check: 16 digits, a province code and a birth date. The
    regency list lags new regencies, so under a NIK key or word this is enough."""
    return (
        len(digits) == 16
        and digits.isascii()
        and digits.isdigit()
        and int(digits[:2]) in _ID_PROVINCES
        and _nik_birth_date_ok(digits)
    )


def my_nric_shape(digits: str) -> bool:
    """A MyKad number without the place-of-birth check: 12 digits and a birth date."""
    if len(digits) != 12 or not (digits.isascii() and digits.isdigit()):
        return False
    yy, mm, dd = int(digits[:2]), int(digits[2:4]), int(digits[4:6])
    return _is_date(1900 + yy, mm, dd) or _is_date(2000 + yy, mm, dd)


def _nik_birth_date_ok(digits: str) -> bool:
    """stdnum's ``get_birth_date`` rule (DD + 40 for women, YY in the 1900s or 2000s),
    without its string cleaning."""
    if not digits.isascii():
        try:
            id_nik.get_birth_date(digits)
        except ValueError:
            return False
        return True
    day, month, year = int(digits[6:8]) % 40, int(digits[8:10]), int(digits[10:12])
    return _is_date(1900 + year, month, day) or _is_date(2000 + year, month, day)


_SG_WEIGHTS: Final[tuple[int, ...]] = (2, 7, 6, 5, 4, 3, 2)
_SG_ST: Final = "JZIHGFEDCBA"
_SG_FG: Final = "XWUTRQPNMLK"
_SG_M: Final = "XWUTRQPNJLK"


def sg_nric_valid(code: str) -> bool:
    """Singapore NRIC/FIN: prefix S/T (citizens, PRs), F/G/M (foreigners), 7 digits and a
    check letter from a weighted sum (offset 4 for T and G, 3 for M)."""
    if len(code) != 9 or not code[1:8].isdigit():
        return False
    prefix, check = code[0], code[8]
    total = sum(int(d) * w for d, w in zip(code[1:8], _SG_WEIGHTS, strict=True))
    if prefix in "TG":
        total += 4
    elif prefix == "M":
        total += 3
    if prefix in "ST":
        table = _SG_ST
    elif prefix in "FG":
        table = _SG_FG
    elif prefix == "M":
        table = _SG_M
    else:
        return False
    return table[total % 11] == check


def sg_nric_check_letter(prefix: str, digits7: str) -> str:
    """The check letter for a prefix and 7 digits (used by the synthetic generator)."""
    for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        if sg_nric_valid(prefix + digits7 + letter):
            return letter
    raise ValueError(f"no check letter for {prefix}{digits7}")


# Viet Nam's citizen identity number (CCCD): 3-digit province code, a century/sex digit,
# two digits of the birth year and six random digits. No check digit, so it needs context.
_VN_PROVINCES: Final = frozenset(
    {
        1,
        2,
        4,
        6,
        8,
        10,
        11,
        12,
        14,
        15,
        17,
        19,
        20,
        22,
        24,
        25,
        26,
        27,
        30,
        31,
        33,
        34,
        35,
        36,
        37,
        38,
        40,
        42,
        44,
        45,
        46,
        48,
        49,
        51,
        52,
        54,
        56,
        58,
        60,
        62,
        64,
        66,
        67,
        68,
        70,
        72,
        74,
        75,
        77,
        79,
        80,
        82,
        83,
        84,
        86,
        87,
        89,
        91,
        92,
        93,
        94,
        95,
        96,
    }
)


def vn_citizen_id_valid(digits: str) -> bool:
    return len(digits) == 12 and int(digits[:3]) in _VN_PROVINCES and digits[3] in "0123"


def ph_philsys_valid(digits: str) -> bool:
    """PhilSys Number (12 digits) or PhilSys Card Number (16 digits); no public check
    digit, so only the shape is checked and context is required."""
    return len(digits) in (12, 16) and digits[0] != "0"


# ---------------------------------------------------------------- payment cards


# Luhn's doubled digit (2d, minus 9 above 9) is again one digit: a character table.
_LUHN_DOUBLED: Final = str.maketrans("0123456789", "0246813579")


def luhn_valid(digits: str) -> bool:
    if digits.isascii() and digits.isdigit():
        # Every other digit from the right as is, the others doubled, summed through ord()
        # in C: same total as the loop below (tests/classify/test_speed_forms.py).
        kept = digits[::-2]
        doubled = digits[-2::-2].translate(_LUHN_DOUBLED)
        total = sum(map(ord, kept)) + sum(map(ord, doubled)) - 48 * (len(kept) + len(doubled))
        return total % 10 == 0
    return _luhn_loop(digits)


def _luhn_loop(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def card_brand(digits: str) -> str | None:
    """Issuer by IIN range and length; None if no known scheme fits."""
    n = len(digits)
    if digits[0] == "4" and n in (16, 19):
        return "visa"
    two, four = int(digits[:2]), int(digits[:4])
    if n == 16 and (51 <= two <= 55 or 2221 <= four <= 2720):
        return "mastercard"
    if n == 15 and two in (34, 37):
        return "amex"
    if two == 62 and 16 <= n <= 19:
        return "unionpay"
    if 3528 <= four <= 3589 and n == 16:
        return "jcb"
    if (four == 6011 or two == 65) and n == 16:
        return "discover"
    return None


def bank_card_valid(digits: str) -> bool:
    return 15 <= len(digits) <= 19 and card_brand(digits) is not None and luhn_valid(digits)


def card_shape(digits: str) -> bool:
    """A card number without the issuer table: 13 to 19 digits passing Luhn. Issuer ranges
    change faster than any table (NAPAS, RuPay, private labels), so under a card key or word
    this is enough."""
    return 13 <= len(digits) <= 19 and digits[0] != "0" and luhn_valid(digits)


# ---------------------------------------------------------------- business identifiers


def gs1_check_digit(body: str) -> str:
    """GS1 mod-10 check digit (weights 3,1 from the right) for GTIN, GLN, SSCC."""
    total = sum((3 if i % 2 == 0 else 1) * (ord(ch) - 48) for i, ch in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def gs1_valid(digits: str) -> bool:
    return len(digits) in (8, 12, 13, 14, 17, 18) and gs1_check_digit(digits[:-1]) == digits[-1]


def iso6346_check_digit(code10: str) -> str:
    """ISO 6346 container check digit for owner code + category + serial (10 chars)."""
    # Letters count from A=10 upwards, skipping multiples of 11.
    values: list[int] = []
    n = 10
    for _ in range(26):
        if n % 11 == 0:
            n += 1
        values.append(n)
        n += 1
    total = 0
    for i, ch in enumerate(code10):
        v = int(ch) if ch.isdigit() else values[ord(ch) - 65]
        total += v * (1 << i)
    return str(total % 11 % 10)


_S10_WEIGHTS: Final[tuple[int, ...]] = (8, 6, 4, 2, 3, 5, 9, 7)


def s10_check_digit(serial8: str) -> str:
    """UPU S10 check digit over the 8-digit serial."""
    total = sum(int(d) * w for d, w in zip(serial8, _S10_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "5" if check == 10 else "0" if check == 11 else str(check)


def _is_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def valid_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return 1900 <= year <= 2100
