"""RFC 9535 normalized paths: the one place that formats, parses and matches them.

A *normalized path* (RFC 9535 section 2.7) names one node of a JSON value:
``$['consignee']['phone']``, ``$['items'][0]['sku']``. Member names are single-quoted;
inside them ``'`` and ``\\`` are escaped with a backslash, the control characters
U+0008, U+000C, U+000A, U+000D and U+0009 as ``\\b \\f \\n \\r \\t``, every other control
character below U+0020 as ``\\u00XX`` (lowercase hex), and nothing else is escaped. Array
indices are non-negative decimal integers without leading zeros. Each node has exactly one
normalized path, so two paths name the same node if and only if their strings are equal.

A *path pattern* is a normalized path in which ``[*]`` stands for any one segment (any
array index or any member name, as RFC 9535's wildcard selector). Data products use
patterns for their annotations (``$['items'][*]['gtin']``), rule packs for catalogue
entries and path fields, obligations may carry them (the transformer applies one to every
match). A member literally named ``*`` is written ``['*']`` and is not a wildcard.

Every finding's path, every path a rule pack matches and every path an obligation is
applied to is made here, so the classifier, the policy engine and the transformer agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from typing import Any, Final

from silkgate.errors import InputError

__all__ = [
    "WILDCARD",
    "PathError",
    "PatternSegment",
    "Segment",
    "Wildcard",
    "compile_pattern",
    "format_path",
    "format_segment",
    "from_msgspec_path",
    "iter_leaves",
    "leaf_paths",
    "parent",
    "parse_path",
    "parse_pattern",
    "pattern_matches",
]


class Wildcard:
    """The ``[*]`` segment of a path pattern (any index or member name)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "[*]"


WILDCARD: Final = Wildcard()

Segment = str | int
"""A member name (str) or an array index (int)."""
PatternSegment = str | int | Wildcard


class PathError(InputError):
    """A string is not a normalized path (or path pattern). `text` is the string, `position`
    the offset of the first character that is wrong."""

    def __init__(self, text: str, position: int, why: str) -> None:
        super().__init__(
            f"invalid normalized path {text!r} at position {position}: {why} (RFC 9535 section 2.7)"
        )
        self.text = text
        self.position = position


# ------------------------------------------------------------------------------ format

# RFC 9535 section 2.7: the characters a normalized path escapes, and how.
_SHORT_ESCAPES: Final = {
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "'": "\\'",
    "\\": "\\\\",
}
_NEEDS_ESCAPE: Final = re.compile(r"[\x00-\x1f'\\\ud800-\udfff]")


def _escape(m: re.Match[str]) -> str:
    ch = m.group()
    short = _SHORT_ESCAPES.get(ch)
    if short is not None:
        return short
    if "\ud800" <= ch <= "\udfff":
        raise InputError(
            f"a member name holds a lone surrogate U+{ord(ch):04X}, which no RFC 9535 path "
            "can name (JSON text must be valid Unicode)"
        )
    return f"\\u{ord(ch):04x}"


def format_segment(segment: PatternSegment) -> str:
    """One bracketed segment: ``'a'b`` -> ``['a\\'b']``, ``3`` -> ``[3]``, ``WILDCARD`` ->
    ``[*]``. Raises ValueError for a negative index or a bool (a caller's bug), InputError
    for a name holding a lone surrogate (data no JSON text can carry)."""
    if isinstance(segment, str):
        if _NEEDS_ESCAPE.search(segment) is None:
            return "['" + segment + "']"
        return "['" + _NEEDS_ESCAPE.sub(_escape, segment) + "']"
    if isinstance(segment, Wildcard):
        return "[*]"
    if isinstance(segment, bool) or not isinstance(segment, int) or segment < 0:
        raise ValueError(f"an array index is a non-negative integer, not {segment!r}")
    return f"[{segment}]"


def format_path(segments: Iterable[PatternSegment]) -> str:
    """``["items", 0, "sku"]`` -> ``$['items'][0]['sku']`` (inverse of :func:`parse_path`,
    and of :func:`parse_pattern` when `segments` hold ``WILDCARD``)."""
    return "$" + "".join(format_segment(s) for s in segments)


# ------------------------------------------------------------------------------- parse

_UNESCAPE: Final = {
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "'": "'",
    "\\": "\\",
}
# The only \u escapes a normalized path holds: control characters without a short form.
_HEX_ESCAPABLE: Final = frozenset(f"{c:04x}" for c in range(0x20) if chr(c) not in _SHORT_ESCAPES)
# A run of characters that stand for themselves inside a quoted name.
_PLAIN_RUN: Final = re.compile(r"[^\x00-\x1f'\\\ud800-\udfff]+")
_INDEX: Final = re.compile(r"0|[1-9][0-9]*")


def _parse_name(text: str, i: int) -> tuple[str, int]:
    """The member name whose opening quote is at `i - 1`; returns (name, index after the
    closing quote)."""
    out: list[str] = []
    n = len(text)
    while i < n:
        run = _PLAIN_RUN.match(text, i)
        if run is not None:
            out.append(run.group())
            i = run.end()
            continue
        ch = text[i]
        if ch == "'":
            return "".join(out), i + 1
        if ch != "\\":
            what = "a lone surrogate" if "\ud800" <= ch <= "\udfff" else "a control character"
            raise PathError(text, i, f"{what} U+{ord(ch):04X} must be escaped")
        esc = text[i + 1 : i + 2]
        if esc in _UNESCAPE:
            out.append(_UNESCAPE[esc])
            i += 2
        elif esc == "u":
            digits = text[i + 2 : i + 6]
            if digits not in _HEX_ESCAPABLE:
                raise PathError(
                    text,
                    i,
                    f"\\u{digits} is not a normalized escape (only U+0000 to U+001F without a "
                    "short form, as \\u00XX in lowercase hex)",
                )
            out.append(chr(int(digits, 16)))
            i += 6
        elif not esc:
            break
        else:
            raise PathError(text, i, f"unknown escape \\{esc}")
    raise PathError(text, n, "the member name is not closed with '")


def _parse(text: str, wildcards: bool) -> tuple[PatternSegment, ...]:
    if not isinstance(text, str):
        raise TypeError(f"a normalized path is a str, not {type(text).__name__}")
    if not text.startswith("$"):
        raise PathError(text, 0, "it must start with $")
    segments: list[PatternSegment] = []
    i, n = 1, len(text)
    while i < n:
        if text[i] != "[":
            raise PathError(text, i, f"expected [ but found {text[i]!r}")
        nxt = text[i + 1 : i + 2]
        if nxt == "'":
            name, i = _parse_name(text, i + 2)
            segments.append(name)
        elif nxt == "*":
            if not wildcards:
                raise PathError(text, i + 1, "[*] is a pattern, not a normalized path")
            segments.append(WILDCARD)
            i += 2
        else:
            m = _INDEX.match(text, i + 1)
            if m is None:
                raise PathError(text, i + 1, "expected a quoted name or an index")
            if text[m.end() : m.end() + 1].isdigit():
                raise PathError(text, i + 1, "an index has no leading zeros")
            segments.append(int(m.group()))
            i = m.end()
        if text[i : i + 1] != "]":
            raise PathError(text, i, "expected ]")
        i += 1
    return tuple(segments)


@lru_cache(maxsize=8192)
def parse_path(text: str) -> tuple[Segment, ...]:
    """``$['items'][0]['sku']`` -> ``("items", 0, "sku")``. Only normalized paths are
    accepted (no ``[*]``, no other spelling of the same path); raises :class:`PathError`
    naming the position of the first error."""
    return _parse(text, False)  # type: ignore[return-value]


@lru_cache(maxsize=8192)
def parse_pattern(text: str) -> tuple[PatternSegment, ...]:
    """Like :func:`parse_path`, and ``[*]`` becomes ``WILDCARD``."""
    return _parse(text, True)


# ------------------------------------------------------------------------------- match

# One segment of a normalized path, whatever it is (what [*] matches in a path string).
_ANY_SEGMENT: Final = r"\[(?:0|[1-9][0-9]*|'(?:[^'\\]|\\.)*')\]"


def compile_pattern(pattern: str, *, descendants: bool = False) -> re.Pattern[str]:
    """A regular expression whose ``match`` accepts exactly the normalized paths that
    `pattern` names (and, with `descendants`, every path below them too). Raises
    :class:`PathError` when `pattern` is not a path pattern."""
    body = "".join(
        _ANY_SEGMENT if isinstance(s, Wildcard) else re.escape(format_segment(s))
        for s in parse_pattern(pattern)
    )
    tail = r"(?:\[.*)?" if descendants else ""
    return re.compile(r"\$" + body + tail + r"\Z", re.DOTALL)


def pattern_matches(
    pattern: str | Sequence[PatternSegment],
    path: str | Sequence[Segment],
    *,
    descendants: bool = False,
) -> bool:
    """Whether `path` is named by `pattern` (or lies below it, with `descendants`); both
    may be given as strings or as parsed segments."""
    pat = parse_pattern(pattern) if isinstance(pattern, str) else tuple(pattern)
    segs = parse_path(path) if isinstance(path, str) else tuple(path)
    if len(segs) < len(pat) or (len(segs) > len(pat) and not descendants):
        return False
    return all(
        isinstance(p, Wildcard) or (p == s and isinstance(p, int) == isinstance(s, int))
        for p, s in zip(pat, segs, strict=False)
    )


def parent(path: str) -> str:
    """The normalized path of the node holding `path`'s node (``$`` for ``$``).

    An unescaped ``'`` inside a path is a name's opening or closing quote, so the last
    ``['`` before a path's closing ``']`` opens its last name (a ``['`` ending at that
    closing quote belongs to a name ending in ``[``); a path ending in an index ends in
    ``[digits]``."""
    if path == "$":
        return path
    cut = path.rfind("['", 0, len(path) - 2) if path.endswith("']") else path.rfind("[")
    return path[:cut] if cut > 0 else "$"


# ------------------------------------------------------------------------------ leaves


def _member(name: str) -> str:
    # Most keys are identifiers, which never need escaping (a C-speed check).
    return "['" + name + "']" if name.isidentifier() else format_segment(name)


def iter_leaves(value: Any, prefix: str = "$") -> Iterator[tuple[str, Any]]:
    """(normalized path, value) of every leaf of a JSON value (every value that is not an
    object or an array), in document order. Empty objects and arrays have no leaves."""
    stack: list[tuple[str, Any]] = [(prefix, value)]
    pop, push = stack.pop, stack.append
    while stack:
        path, node = pop()
        if isinstance(node, dict):
            for k in reversed(node):
                push((path + _member(k if isinstance(k, str) else str(k)), node[k]))
        elif isinstance(node, list):
            for i in range(len(node) - 1, -1, -1):
                push((f"{path}[{i}]", node[i]))
        else:
            yield path, node


def leaf_paths(value: Any) -> tuple[str, ...]:
    """The normalized paths of every leaf of a JSON value, in document order."""
    return tuple(path for path, _ in iter_leaves(value))


# --------------------------------------------------------------------- other notations

_MSGSPEC_SEGMENT: Final = re.compile(r"\.([^.\[]+)|\[(\d+)\]|\[\.\.\.\]")


def from_msgspec_path(text: str) -> str:
    """msgspec's error location (``$.items[0].sku``, ``$.m[...].x``) as a normalized path.

    msgspec writes ``[...]`` for a value under a mapping key it does not name; the path then
    stops at the mapping, the deepest node it does name. Field names are taken as written
    (msgspec does not quote names that contain dots)."""
    segments: list[Segment] = []
    i = 1 if text.startswith("$") else 0
    while i < len(text):
        m = _MSGSPEC_SEGMENT.match(text, i)
        if m is None or m.group() == "[...]":
            break
        segments.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
        i = m.end()
    return format_path(segments)
