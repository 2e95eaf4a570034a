"""Fast forms of checks and patterns give the same answers as their plain forms.

The classifier uses rewritten regexes and inlined check-digit rules for speed; these tests
compare them with the straightforward versions (and with python-stdnum) on random input.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.id import nik
from stdnum.th import pin

from silkgate.classify import checks
from silkgate.classify.classifier import _PLACEHOLDERS, _plausible
from silkgate.classify.detectors import _IPV4, _NUM
from silkgate.classify.lexmatch import _TOKEN, tokens
from silkgate.classify.phones import (
    _BY_CC,
    _NON_DIGIT,
    _REGIONS,
    Phone,
    _Region,
    _valid,
    country_of_phone,
    parse_international,
    parse_national,
    region_of,
)
from silkgate.classify.profile import _DIGIT_RE as _DIGIT
from silkgate.classify.profile import _LETTER_DIGIT, _UPPER

# The digit-run pattern as first written: a lookbehind first, so `re` tries it everywhere.
_PLAIN_NUM = re.compile(
    r"(?<![A-Za-z0-9_\-.@/#])(?:\(?\+\s?)?\(?\d(?:[\d]|[ \-.()/](?=[\d(]))*\d\)?"
    r"(?:[Xx](?![A-Za-z0-9]))?(?![A-Za-z0-9@])"
)
_NUMBERISH = st.text(alphabet="0123456789 +()-./@#_xXaZ\t٣", max_size=30)


@settings(max_examples=3000, deadline=None)
@given(_NUMBERISH)
def test_number_pattern_matches_its_plain_form(text: str) -> None:
    fast = [(m.span(), m.group()) for m in _NUM.finditer(text)]
    plain = [(m.span(), m.group()) for m in _PLAIN_NUM.finditer(text)]
    assert fast == plain


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="0123456789", min_size=13, max_size=13))
def test_thai_pid_check_matches_stdnum(digits: str) -> None:
    assert checks.th_pin_valid(digits) == pin.is_valid(digits)


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="0123456789", min_size=16, max_size=16))
def test_nik_birth_date_rule_matches_stdnum(digits: str) -> None:
    try:
        nik.get_birth_date(digits)
        expected = True
    except ValueError:
        expected = False
    assert checks._nik_birth_date_ok(digits) == expected


def _plain_country_of_phone(number: str) -> str | None:
    stripped = number.lstrip(" (")
    if stripped.startswith("+") or stripped.startswith("00"):
        digits = _NON_DIGIT.sub("", stripped)
        if digits.startswith("00"):
            digits = digits[2:]
        for n in (1, 2, 3):
            reg = _BY_CC.get(digits[:n])
            if reg is not None:
                return reg.region
    return None


@settings(max_examples=3000, deadline=None)
@given(
    st.sampled_from(["", "+", "00", " (+", "(00", "+0", "+00", "0000"]),
    st.text("0123456789 +()-٣", max_size=9),
)
def test_phone_country_table_matches_plain_lookup(lead: str, rest: str) -> None:
    assert country_of_phone(lead + rest) == _plain_country_of_phone(lead + rest)


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet="0123456789ABZaz ٣-", max_size=20))
def test_letter_digit_search_may_start_late(text: str) -> None:
    digit, cap = _DIGIT.search(text), _UPPER.search(text)
    if digit is not None and cap is not None:
        late = _LETTER_DIGIT.search(text, max(0, max(digit.start(), cap.start()) - 1))
        assert (late is None) == (_LETTER_DIGIT.search(text) is None)
    elif digit is None or cap is None:
        assert _LETTER_DIGIT.search(text) is None


@settings(max_examples=3000, deadline=None)
@given(st.sampled_from(_REGIONS), st.text(alphabet="0123456789", min_size=6, max_size=12))
def test_mobile_first_validation_matches_the_union(region: _Region, nsn: str) -> None:
    assert _valid(region, nsn) == (region.valid.fullmatch(nsn) is not None)


_PLAIN_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="0123456789..a ٣", max_size=25))
def test_ipv4_pattern_matches_its_plain_form(text: str) -> None:
    fast = [m.span() for m in _IPV4.finditer(text)]
    assert fast == [m.span() for m in _PLAIN_IPV4.finditer(text)]


def _plain_region_of(number: str) -> Phone | None:
    digits = _NON_DIGIT.sub("", number)
    if number.lstrip(" (").startswith("+"):
        return parse_international(digits)
    if digits.startswith("00"):
        return parse_international(digits[2:])
    return parse_national(digits, mobile_only=True) or parse_national(digits, mobile_only=False)


@settings(max_examples=3000, deadline=None)
@given(
    st.sampled_from(["", "+", " (+", "-+", "00", "+ ", "+84 ", "+60 1", "+86"]),
    st.text("0123456789 +()-٣", max_size=12),
)
def test_phone_region_fast_path_matches_plain_parse(lead: str, rest: str) -> None:
    assert region_of(lead + rest) == _plain_region_of(lead + rest)


def _plain_parse_international(digits: str) -> Phone | None:
    if not 8 <= len(digits) <= 15:
        return None
    for n in (1, 2, 3):
        reg = _BY_CC.get(digits[:n])
        if reg is None:
            continue
        nsn = digits[n:]
        if reg.national_prefix and nsn.startswith(reg.national_prefix):
            alt = nsn[len(reg.national_prefix) :]
            if reg.valid.fullmatch(alt):
                return Phone(reg.region, f"+{reg.country_code}{alt}")
        if reg.valid.fullmatch(nsn):
            return Phone(reg.region, f"+{reg.country_code}{nsn}")
        return None
    return None  # other countries: phonenumbers, the same call in both forms


@settings(max_examples=3000, deadline=None)
@given(
    st.sampled_from(["84", "86", "60", "65", "62", "66", "63", "855", "856", "95", "673", "8٣"]),
    st.text("0123456789", min_size=5, max_size=12),
)
def test_country_code_table_matches_digit_by_digit_reading(cc: str, rest: str) -> None:
    assert parse_international(cc + rest) == _plain_parse_international(cc + rest)


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="0123456789X٣", min_size=1, max_size=20))
def test_luhn_by_table_matches_the_loop(digits: str) -> None:
    assert checks.luhn_valid(digits) == checks._luhn_loop(digits)


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=40))
def test_ascii_words_are_the_words_of_the_token_pattern(text: str) -> None:
    lower = text.lower()
    assert tokens(lower) == set(_TOKEN.findall(lower))


def _plain_plausible(text: str) -> bool:
    stripped = text.strip()
    if not 2 <= len(stripped) <= 200 or "@" in stripped or "*" in stripped:
        return False
    if stripped.lower() in _PLACEHOLDERS:
        return False
    return sum(ch.isalpha() for ch in stripped) >= max(2, len(stripped) // 3)


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="ab Z09-,.#/ đươ李ถ٣½_\t@*", max_size=30))
def test_a_key_hinted_value_looks_like_text_as_counted_letter_by_letter(text: str) -> None:
    assert _plausible(text) == _plain_plausible(text)
