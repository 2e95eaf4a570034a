"""Person names and addresses in free text, from dictionaries of common surnames, given
names, titles and address markers of the corridor's languages."""

from __future__ import annotations

import re
from typing import Final

from silkgate.classify import lexicon as lx
from silkgate.classify.detectors import overlaps
from silkgate.classify.lexmatch import WordList, lowered
from silkgate.classify.profile import GATES, profile
from silkgate.classify.registry import Detector, Hit, KeyContext, register_detector

# The lexicon's lists as compiled-module constants (lexicon.py is data, not compiled:
# reading `lx.NAME` in a loop is a module-attribute lookup each time).
_LX_CN_ADDRESS_ADMIN: Final[str] = lx.CN_ADDRESS_ADMIN
_LX_CN_COMPOUND_SURNAMES: Final[frozenset[str]] = lx.CN_COMPOUND_SURNAMES
_LX_CN_GIVEN: Final[frozenset[str]] = lx.CN_GIVEN
_LX_CN_NAME_MARKERS: Final[tuple[str, ...]] = lx.CN_NAME_MARKERS
_LX_CN_NAME_STOPS: Final[frozenset[str]] = lx.CN_NAME_STOPS
_LX_CN_SURNAMES: Final[frozenset[str]] = lx.CN_SURNAMES
_LX_LATIN_NAMES: Final[frozenset[str]] = lx.LATIN_NAMES
_LX_LATIN_STOP: Final[frozenset[str]] = lx.LATIN_STOP
_LX_LATIN_TITLES: Final[tuple[str, ...]] = lx.LATIN_TITLES
_LX_TH_GIVEN: Final[frozenset[str]] = lx.TH_GIVEN
_LX_TH_NOT_NAMES: Final[tuple[str, ...]] = lx.TH_NOT_NAMES
_LX_TH_NOT_NAME_WORDS: Final[tuple[str, ...]] = lx.TH_NOT_NAME_WORDS
_LX_TH_PERSON_CUES: Final[tuple[str, ...]] = lx.TH_PERSON_CUES
_LX_TH_TITLES: Final[tuple[str, ...]] = lx.TH_TITLES
_LX_VN_MIDDLE: Final[frozenset[str]] = lx.VN_MIDDLE
_LX_VN_PLACES: Final[tuple[str, ...]] = lx.VN_PLACES
_LX_VN_SURNAMES: Final[frozenset[str]] = lx.VN_SURNAMES
_LX_VN_TITLES: Final[tuple[str, ...]] = lx.VN_TITLES

# ---------------------------------------------------------------- addresses

_HAN_RUN: Final = re.compile(r"[\u4e00-\u9fff0-9A-Za-z#\-]{5,}")
_CN_STREET: Final = re.compile(r"路|街|大道|巷|弄|村|小区|花园|大厦|\d+号|\d+栋|\d+室")
# A slashed house number ("36/761") or a postcode counts as a marker too.
_NUMBER_MARK: Final = r"(?<![\w/])\d+(?:/\d+)+(?![\d/])|(?<![\d\-])\d{5,6}(?![\d\-])"
_VN_WORD_MARKS: Final[tuple[str, ...]] = (
    r"số\s+\d+",
    r"khóm\s+\d+",
    *(
        re.escape(w)
        for w in (
            *("đường", "phố", "phường", "quận", "huyện", "xã", "thị xã", "thị trấn", "tỉnh"),
            *("thành phố", "tp.", "ngõ", "ngách", "hẻm", "thôn", "ấp", "khu phố", "kp."),
            *("tòa nhà", "chung cư"),
        )
    ),
)
_TH_WORD_MARKS: Final = tuple(re.escape(m) for m in sorted(lx.TH_ADDRESS, key=len, reverse=True))
_LATIN_WORD_MARKS: Final = tuple(w for w in lx.LATIN_ADDRESS if w != "kg")
# Quantities in cargo notes are not postcodes ("gross 19230 kg"), and "kg" after a number is
# a unit, not kampung: a postcode is not followed by a unit, "Kg" is followed by a name.
_UNITS: Final = (
    r"(?:kgs?|g|t|tons?|tonnes?|lbs?|pcs|pieces|cbm|m3|cartons?|ctns?|cs|pallets?|bags?|teu|"
    r"units?|usd|cny|vnd|thb|myr|sgd|idr|php|c)"
)


def _by_first_char(alternatives: tuple[str, ...]) -> str:
    """An alternation of patterns grouped by their first character, in order within each
    group. `re` tries alternatives one by one at every position; grouped, a whole group is
    rejected on its first character. The matches are the same: every pattern here starts
    with a literal letter, so patterns of different groups never match at the same place."""
    groups: dict[str, list[str]] = {}
    for alt in alternatives:
        if not alt[0].isalpha():
            raise ValueError(f"a marker pattern must start with a letter: {alt!r}")
        groups.setdefault(alt[0], []).append(alt[1:])
    return "|".join(c + "(?:" + "|".join(rest) + ")" for c, rest in groups.items())


def mark_patterns(fast: bool = True) -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """The address-marker patterns (Latin, Vietnamese, Thai). Fast: marker words grouped
    by first character, behind a lookahead that every match satisfies, so that `re`
    rejects most positions at once (2-3x faster on addresses); plain: as first written,
    one alternative per word. Both find the same marks (tests/classify/test_prefilter.py)."""

    def words(alternatives: tuple[str, ...]) -> str:
        return _by_first_char(alternatives) if fast else "|".join(alternatives)

    def lead(first: str) -> str:
        return f"(?={first})" if fast else ""

    latin = (
        lead(r"[#\d]|(?<![A-Za-z])[A-Za-z]")
        + r"(?:(?<![A-Za-z])(?:"
        + words(_LATIN_WORD_MARKS)
        + r")\.?(?![A-Za-z])|(?<![A-Za-z\d] )(?<![A-Za-z\d])kg\.?(?=\s+(?-i:[A-Z]))|"
        r"#\d{1,2}-\d{1,4}|(?<![A-Za-z])No\.?\s*\d+|"
        r"(?<![\d\-])\d{5,6}(?![\d\-])(?!\s*" + _UNITS + r"(?![A-Za-z]))|"
        r"(?-i:(?<![A-Za-z])[A-Z]{2}\s\d{5}(?:-\d{4})?(?!\d)))"
    )
    vn = (
        lead(r"\d|(?<!\w)\w")
        + "(?:"
        + _NUMBER_MARK
        + r"|(?<!\w)(?:"
        + words(_VN_WORD_MARKS)
        + r")(?!\w))"
    )
    th_first = "".join(sorted({m[0] for m in _TH_WORD_MARKS}))
    th = lead(rf"\d|[{th_first}]") + "(?:" + _NUMBER_MARK + "|" + words(_TH_WORD_MARKS) + ")"
    return (
        re.compile(latin, re.IGNORECASE),
        re.compile(vn, re.IGNORECASE),
        re.compile(th),
    )


_MARKS: Final = mark_patterns()
_LATIN_MARK: Final = _MARKS[0]
_VN_MARK: Final = _MARKS[1]
_TH_MARK: Final = _MARKS[2]
_TH_WORDS: Final = WordList(lx.TH_ADDRESS)
_VN_WORDS: Final = WordList(w.rstrip(".") for w in lx.VN_ADDRESS)
_LATIN_WORDS: Final = WordList((*lx.LATIN_ADDRESS, "no"))
_VN_SURNAMES_LOWER: Final = frozenset(w.lower() for w in lx.VN_SURNAMES)
_VN_TITLE_WORDS: Final = frozenset(lx.VN_TITLES[:-1])
_LATIN_TITLE_WORDS: Final = frozenset(t.lower() for t in lx.LATIN_TITLES)
_LATIN_NAME_WORDS: Final = frozenset(w.lower() for w in lx.LATIN_NAMES)
_CLAUSE_END: Final = re.compile(r"[;\n。；|]")
_CLAUSE_START: Final = ";\n:。：|"
_HOUSE_NUMBER_TAIL: Final = re.compile(r"[0-9][0-9A-Za-z/\-]*[,\s]*$")


def scan_address(text: str, kc: KeyContext, hits: list[Hit]) -> None:
    prof = profile(text)
    if prof.han:
        for m in _HAN_RUN.finditer(text):
            run = m.group()
            if any(c in _LX_CN_ADDRESS_ADMIN for c in run) and _CN_STREET.search(run):
                hits.append(("address", m.start(), m.end(), None))
        return
    if not prof.digit:  # outside Chinese, addresses carry a house number or postcode
        return
    # A word marker must be there before the marker regex (slow on long text) is run.
    lower, words = lowered(text)
    if prof.thai:
        pattern = _TH_MARK
        if not _TH_WORDS.matches(lower, words):
            return
    elif prof.viet:
        pattern = _VN_MARK
        if not _VN_WORDS.matches(lower, words):
            return
    else:
        pattern = _LATIN_MARK
        if not _LATIN_WORDS.matches(lower, words):
            return
    marks = list(pattern.finditer(text))
    if len(marks) >= 2 and len({m.group().lower()[:4] for m in marks}) >= 2:
        hits.append(("address", *_clause(text, marks[0].start(), marks[-1].end()), None))


def _clause(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen the markers' extent to the clause around them."""
    stop = _CLAUSE_END.search(text, end)
    end = stop.start() if stop else len(text)
    cut = -1
    for ch in _CLAUSE_START:
        cut = max(cut, text.rfind(ch, 0, start))
    begin = start
    # Take in a house number written before the first marker ("12 Jalan ...").
    m = _HOUSE_NUMBER_TAIL.search(text[max(cut + 1, 0) : start])
    if m:
        begin = max(cut + 1, 0) + m.start()
    return begin, end


# ---------------------------------------------------------------- names

_CN_MARKED: Final = re.compile(
    "(?:" + "|".join(_LX_CN_NAME_MARKERS) + r")[:：\s]*([\u4e00-\u9fff]{2,4})"
)
_CN_TITLES: Final[tuple[str, ...]] = ("先生", "女士", "小姐")
_CN_TITLED: Final = re.compile(r"([\u4e00-\u9fff]{1,3})(?:" + "|".join(_CN_TITLES) + ")")
_CAPWORD: Final = re.compile(r"(?<!\w)[A-ZÀ-ỸĐ][^\W\d_A-Z]*")
_VN_TITLED: Final = re.compile(
    r"(?<!\w)(?i:" + "|".join(_LX_VN_TITLES[:-1]) + r")\s+([^\W\d_]+(?:\s+[^\W\d_]+){0,3})"
)
_VN_ADDRESS_WORDS: Final = frozenset(
    (
        "đường",
        "phố",
        "phường",
        "quận",
        "huyện",
        "xã",
        "tỉnh",
        "tp",
        "tp.",
        "thành phố",
        "ngõ",
        "hẻm",
        "thôn",
        "ấp",
        "trường",
        "chợ",
        "cầu",
        "sông",
        "bến",
        "cảng",
        "khu",
        "số",
        "khóm",
        "tổ",
        "đ.",
        "p.",
        "q.",
    )
)
_TH_TITLED: Final = re.compile(
    "("
    + "|".join(re.escape(t) for t in _LX_TH_TITLES)
    + r")\s?([\u0e01-\u0e4e]+)(?:\s([\u0e01-\u0e4e]+))?"
)
_LATIN_TITLED: Final = re.compile(
    r"(?<![A-Za-z])(?:" + "|".join(_LX_LATIN_TITLES) + r")\.?\s+[A-Z][a-z]+"
    r"(?:\s+(?:bin|binti|bt\.?|a/l|a/p|[A-Z][a-z]+)){0,4}"
)
_LATIN_BIN: Final = re.compile(
    r"[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*\s+(?:bin|binti|bt\.?|a/l|a/p)\s+[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*"
)
_CAP_WORD: Final = re.compile(r"[A-Z][a-z]+")
_LATIN_RUN: Final = re.compile(r"(?<![A-Za-z])[A-Z][a-z]+(?:[ \t]+[A-Z][a-z]+)+(?![A-Za-z])")


def cn_name(s: str) -> bool:
    if 2 <= len(s) <= 3 and s[0] in _LX_CN_SURNAMES:
        return all(c in _LX_CN_GIVEN for c in s[1:])
    if 3 <= len(s) <= 4 and s[:2] in _LX_CN_COMPOUND_SURNAMES:
        return all(c in _LX_CN_GIVEN for c in s[2:])
    return False


def scan_names(text: str, kc: KeyContext, hits: list[Hit]) -> None:
    found: list[Hit] = []
    prof = profile(text)
    if prof.han:
        _han_names(text, found)
    lower, words = lowered(text)
    if prof.thai:
        if any(t in text for t in _LX_TH_TITLES):
            _thai_names(text, found)
        if " " in text:
            _thai_untitled(text, found)
    if prof.viet:
        if not words.isdisjoint(_VN_SURNAMES_LOWER):
            _viet_names(text, found)
        if not words.isdisjoint(_VN_TITLE_WORDS):
            _viet_titled(text, found)
    _latin_names(text, lower, words, found)
    for hit in found:
        if not overlaps(hits, hit[1], hit[2]):
            hits.append(hit)


def _han_names(text: str, found: list[Hit]) -> None:
    stripped = text.strip()
    if len(stripped) <= 4 and cn_name(stripped):
        start = text.index(stripped)
        found.append(("person_name", start, start + len(stripped), None))
        return
    for m in _CN_MARKED.finditer(text):
        run = m.group(1)
        for n in (3, 2, 4):
            if len(run) >= n and cn_name(run[:n]):
                found.append(("person_name", m.start(1), m.start(1) + n, None))
                break
        else:  # a marker vouches for a surname with any given name ("收件人：覃彧")
            n = _surname_led(run)
            if n:
                found.append(("person_name", m.start(1), m.start(1) + n, None))
    if GATES[0] and not any(t in text for t in _CN_TITLES):
        return  # a gate: no title, no titled name (the pattern backtracks at every character)
    for m in _CN_TITLED.finditer(text):
        run = m.group(1)
        for k in range(len(run)):  # the longest tail that is a surname (+ given name)
            tail = run[k:]
            if (len(tail) == 1 and tail in _LX_CN_SURNAMES) or cn_name(tail):
                found.append(("person_name", m.start(1) + k, m.end(), None))
                break
        else:
            for k in range(len(run) - 1):  # "韦昉先生": the title vouches for a rare name
                if _surname_led(run[k:]) == len(run) - k:
                    found.append(("person_name", m.start(1) + k, m.end(), None))
                    break


def _surname_led(run: str) -> int:
    """The length of a name at the start of ``run``: a surname (single or compound) and one
    or two given-name characters up to a character that ends a name; 0 if none."""
    cut = 2 if run[:2] in _LX_CN_COMPOUND_SURNAMES else 1 if run[:1] in _LX_CN_SURNAMES else 0
    if not cut:
        return 0
    given = 0
    for ch in run[cut : cut + 2]:
        if ch in _LX_CN_NAME_STOPS or ch in _LX_CN_ADDRESS_ADMIN:
            break
        given += 1
    return cut + given if given else 0


def _viet_names(text: str, found: list[Hit]) -> None:
    for m in _CAPWORD.finditer(text):
        if m.group() in _LX_VN_SURNAMES:
            _viet_name_at(text, m.start(), found)


def _viet_titled(text: str, found: list[Hit]) -> None:
    for m in _VN_TITLED.finditer(text):
        before = text[max(0, m.start() - 12) : m.start()].split()
        if before and before[-1][:1].isupper():  # "Hai Bà Trưng" is a street
            continue
        words = m.group(1).split()
        keep = []
        for w in words:
            if not w[0].isupper():
                break
            keep.append(w)
        if keep:
            end = m.start(1) + len(" ".join(keep))
            found.append(("person_name", m.start(1), end, None))


def _thai_names(text: str, found: list[Hit]) -> None:
    for m in _TH_TITLED.finditer(text):
        if any(m.group(2).startswith(w) for w in _LX_TH_NOT_NAMES):
            continue
        found.append(("person_name", m.start(), m.end(), None))


_TH_WORD: Final = re.compile(r"[\u0e01-\u0e4e]+")
_TH_PAIR: Final = re.compile(r"[\u0e01-\u0e4e]{2,24} [\u0e01-\u0e4e]{2,24}")


def _thai_name_like(text: str) -> bool:
    """A value that is just two Thai words: a name unless a word of everyday phrases, goods
    or places is in it ("ของแตกง่าย ระวังด้วย")."""
    return not any(w in text for w in _LX_TH_NOT_NAME_WORDS)


def _thai_untitled(text: str, found: list[Hit]) -> None:
    """A given name and a surname (two Thai words, one space apart) without a title: the
    given name is a common one, or a word introducing a person comes just before."""
    plain = _TH_WORD.findall(text)  # a cheap look first: most Thai text holds no name
    if (
        len(plain) != 2
        and _LX_TH_GIVEN.isdisjoint(plain)
        and not any(cue in text for cue in _LX_TH_PERSON_CUES)
    ):
        return
    words = list(_TH_WORD.finditer(text))
    for i in range(len(words) - 1):
        given, family = words[i], words[i + 1]
        if text[given.end() : family.start()] != " " or len(family.group()) < 2:
            continue
        cued = i > 0 and (
            given.start() - words[i - 1].end() <= 3
            and words[i - 1].group().endswith(_LX_TH_PERSON_CUES)
        )
        whole = i == 0 and len(words) == 2 and _TH_PAIR.fullmatch(text.strip()) is not None
        named = given.group() in _LX_TH_GIVEN or cued or (whole and _thai_name_like(text))
        if named and not overlaps(found, given.start(), family.end()):
            found.append(("person_name", given.start(), family.end(), None))


def _latin_names(text: str, lower: str, words: set[str], found: list[Hit]) -> None:
    if " " not in text:
        return
    if not words.isdisjoint(_LATIN_TITLE_WORDS):
        for m in _LATIN_TITLED.finditer(text):
            found.append(("person_name", m.start(), m.end(), None))
    if not words.isdisjoint(("bin", "binti", "bt")) or "a/l" in lower or "a/p" in lower:
        for m in _LATIN_BIN.finditer(text):
            found.append(("person_name", m.start(), m.end(), None))
    if not words.isdisjoint(_LATIN_NAME_WORDS):
        for m in _LATIN_RUN.finditer(text):
            _latin_run(m.group(), m.start(), found)


def _latin_run(run: str, offset: int, found: list[Hit]) -> None:
    """Split a run of capitalised words at stop words; a piece of two to four words with a
    known given name or surname is a name."""
    piece: list[tuple[int, str]] = []
    for wm in _CAP_WORD.finditer(run):
        word = wm.group()
        if word in _LX_LATIN_STOP:
            _latin_piece(piece, offset, found)
            piece = []
        else:
            piece.append((wm.start(), word))
    _latin_piece(piece, offset, found)


def _latin_piece(piece: list[tuple[int, str]], offset: int, found: list[Hit]) -> None:
    if not 2 <= len(piece) <= 4 or not any(w in _LX_LATIN_NAMES for _, w in piece):
        return
    start = offset + piece[0][0]
    end = offset + piece[-1][0] + len(piece[-1][1])
    found.append(("person_name", start, end, None))


TEXT_DETECTORS: Final[tuple[Detector, ...]] = (
    Detector(
        "address", ("address",), frozenset({"nonascii", "latin_caps"}), scan_address, priority=70
    ),
    Detector(
        "person_name",
        ("person_name",),
        frozenset({"nonascii", "latin_caps"}),
        scan_names,
        priority=80,
    ),
)

for _d in TEXT_DETECTORS:
    register_detector(_d)


def _viet_name_at(text: str, start: int, found: list[Hit]) -> None:
    """A surname at ``start``: followed by one to three capitalised words, not a place and
    not a street ("đường Lê Lợi", "91 Võ Văn Tần")."""
    words = text[start:].split(maxsplit=4)[:4]
    if not words[0].isalpha():  # "Trần," is no name on its own
        return
    keep = [words[0]]
    for raw in words[1:]:
        w = raw.rstrip(",.;:")
        if not w or not w[0].isupper() or not w.isalpha() or w.isupper():
            break
        keep.append(w)
        if w != raw:  # punctuation ends the name
            break
    name = " ".join(keep)
    if len(keep) < 2 or text.find(name, start) != start:
        return
    if any(name.startswith(p) for p in _LX_VN_PLACES):
        return
    if keep[0] in ("Văn", "Mai", "Kim") and keep[1] not in _LX_VN_MIDDLE:
        return
    before = text[max(0, start - 12) : start].lower().split()
    if before and (
        before[-1] in _VN_ADDRESS_WORDS
        or " ".join(before[-2:]) in _VN_ADDRESS_WORDS
        or before[-1].rstrip(",").replace("/", "").isdigit()  # "91 Võ Văn Tần": a street
    ):
        return
    found.append(("person_name", start, start + len(name), None))
