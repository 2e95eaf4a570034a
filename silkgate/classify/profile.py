"""One look at a string, shared by the classifier and every detector.

Before, each detector asked its own questions of every string it was given (is there a Han
character? a Thai one? a digit?), and the classifier asked some of them again to choose the
detectors. ``profile(text)`` answers them once per string:

- facts the detectors decide on (``ascii``, ``han``, ``thai``, ``viet``, ``digit``): always
  exact;
- the triggers a string shows, which choose the detectors that look at it (``mask``): a
  digit, "@" and ":" are gates (no email without "@"); text that is not ASCII, a
  capitalised word and a capital next to a digit are facts (lower-case ASCII text is not
  searched for names);
- gates, used only to skip work that cannot find anything: ``first_letter`` (no context
  word can occur before it, every word list being made of letters).

The detectors keep gates of their own, read from ``GATES[0]`` (no IPv6 pass under two
colons, no birth-date words looked up without a date shape, no titled Chinese name without
a title).

The gates can be switched off (``prefilter(False)``): every detector whose triggers are
facts then runs, and does all its work, as if nothing were known in advance. The tests
compare the findings both ways (tests/classify/test_prefilter.py); ``bench/classify_eval.py
--no-prefilter`` times it.

Like ``lexmatch.lowered``, the profile of the string being scanned is kept in a one-entry
cache, replaced atomically, and dropped (``forget``, called by the classifier) when the
scan is over: no scanned value stays behind.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

# Trigger bits, in registry.TRIGGERS order ("any" is every detector's and has no bit).
DIGIT: Final = 1
AT: Final = 2
COLON: Final = 4
NONASCII: Final = 8
LATIN_CAPS: Final = 16
LETTER_DIGIT: Final = 32
ALL_TRIGGERS: Final = 63
TRIGGER_BITS: Final = {
    "digit": DIGIT,
    "at": AT,
    "colon": COLON,
    "nonascii": NONASCII,
    "latin_caps": LATIN_CAPS,
    "letter_digit": LETTER_DIGIT,
}

_DIGIT_RE: Final = re.compile(r"\d")
_UPPER: Final = re.compile(r"[A-Z]")
_LETTER_DIGIT: Final = re.compile(r"[A-Z]\d|\d[A-Z]")
_CAPS: Final = re.compile(r"[A-Z][a-z]")
# What the word lists' tokens are made of (lexmatch._TOKEN): every context word, title and
# marker holds at least one such character (tests/classify/test_prefilter.py checks it).
_LETTER: Final = re.compile(r"[^\W\d_]")
_HAN: Final = re.compile(r"[\u4e00-\u9fff]")
_THAI: Final = re.compile(r"[\u0e01-\u0e4e]")
# Vietnamese letters with diacritics; the range holds the Thai block too, as it always did
# for the detectors that test it.
_VIET: Final = re.compile(r"[À-ỹĐđ]")


# ASCII text by character class, one byte each: "0" a digit, "A" a capital, "a" a small
# letter, " " anything else. In ASCII, `\d` is [0-9] and a letter ([^\W\d_]) is [A-Za-z].
def _ascii_classes() -> bytes:
    table = bytearray(b" " * 256)
    for first, last, cls in (("0", "9", "0"), ("A", "Z", "A"), ("a", "z", "a")):
        for b in range(ord(first), ord(last) + 1):
            table[b] = ord(cls)
    return bytes(table)


_ASCII_CLASSES: Final = _ascii_classes()


class Profile:
    """The facts and triggers of one string. A plain class: compiled (mypyc), it is built
    and read directly (a named tuple, or a dataclass, is built by an interpreted function)."""

    __slots__ = ("ascii", "digit", "first_letter", "gated", "han", "mask", "thai", "viet")

    def __init__(
        self,
        ascii: bool,
        digit: bool,
        han: bool,
        thai: bool,
        viet: bool,
        mask: int,
        first_letter: int,
        gated: bool,
    ) -> None:
        self.ascii = ascii
        self.digit = digit
        self.han = han
        self.thai = thai
        self.viet = viet
        self.mask = mask  # trigger bits the string shows (gate)
        self.first_letter = first_letter  # index of the first letter, len(text) if none (gate)
        self.gated = gated  # False: computed with every gate open (detectors skip no work)


def _compute(text: str) -> Profile:
    if text.isascii():
        return _compute_ascii(text)
    digit = _DIGIT_RE.search(text)
    mask = 0
    if digit is not None:
        mask = DIGIT
        # A capital next to a digit starts at most one character before the later of the
        # first capital and the first digit (both searches are fast in `re`).
        cap = _UPPER.search(text)
        if cap is not None and _LETTER_DIGIT.search(
            text, max(0, max(cap.start(), digit.start()) - 1)
        ):
            mask |= LETTER_DIGIT
    if "@" in text:
        mask |= AT
    if ":" in text:
        mask |= COLON
    letter = _LETTER.search(text)
    first_letter = len(text) if letter is None else letter.start()
    thai = _THAI.search(text) is not None
    return Profile(
        False,
        digit is not None,
        _HAN.search(text) is not None,
        thai,
        thai or _VIET.search(text) is not None,
        mask | NONASCII,
        first_letter,
        True,
    )


def _compute_ascii(text: str) -> Profile:
    """The same for ASCII text (most strings), from one translation of the text into
    character classes: a handful of substring searches instead of a regex search each."""
    classes = text.encode().translate(_ASCII_CLASSES).decode()
    mask = 0
    digit = "0" in classes
    if digit:
        mask = DIGIT
        if "A0" in classes or "0A" in classes:
            mask |= LETTER_DIGIT
    if "@" in text:
        mask |= AT
    if ":" in text:
        mask |= COLON
    upper = classes.find("A")
    lower = classes.find("a")
    if upper < 0:
        first_letter = len(text) if lower < 0 else lower
    else:
        first_letter = upper if lower < 0 or upper < lower else lower
        if "Aa" in classes:
            mask |= LATIN_CAPS
    return Profile(True, digit, False, False, False, mask, first_letter, True)


def _compute_plain(text: str) -> Profile:
    """The facts asked one by one, every gate open: the form to compare against. The
    triggers that choose what a detector looks at (text that is not ASCII or holds a
    capitalised word; a capital next to a digit) are facts, not gates, and stay."""
    ascii_ = text.isascii()
    mask = DIGIT | AT | COLON
    if not ascii_:
        mask |= NONASCII
    elif _CAPS.search(text) is not None:
        mask |= LATIN_CAPS
    if _LETTER_DIGIT.search(text) is not None:
        mask |= LETTER_DIGIT
    return Profile(
        ascii_,
        _DIGIT_RE.search(text) is not None,
        _HAN.search(text) is not None,
        _THAI.search(text) is not None,
        _VIET.search(text) is not None,
        mask,
        0,
        False,
    )


class _Profiled:
    """The remembered string and its profile (a class, as lexmatch._Lowered)."""

    __slots__ = ("profile", "text")

    def __init__(self, text: str, profile: Profile) -> None:
        self.text = text
        self.profile = profile


_EMPTY: Final = _Profiled("", _compute(""))
_last: Final[list[_Profiled]] = [_EMPTY]
# Whether the gates are on: GATES[0] (read by the detectors; set only by `prefilter`).
GATES: Final = [True]


def profile(text: str) -> Profile:
    """The profile of ``text`` (computed once while the same string is being scanned)."""
    cached = _last[0]
    if cached.text is text:
        return cached.profile
    value = _compute(text) if GATES[0] else _compute_plain(text)
    _last[0] = _Profiled(text, value)
    return value


def forget() -> None:
    _last[0] = _EMPTY


def gates_on() -> bool:
    return GATES[0]


@contextmanager
def prefilter(enabled: bool) -> Iterator[None]:
    """Run with the gates on (the default) or off; for tests and benchmarks. Process-wide:
    not for use while other threads classify."""
    saved = GATES[0]
    GATES[0] = enabled
    forget()
    try:
        yield
    finally:
        GATES[0] = saved
        forget()
