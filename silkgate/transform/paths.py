"""RFC 9535 normalized paths: ``$['consignee']['phone']``, ``$['items'][0]['name']``.

As an extension, ``[*]`` selects every member of an array or object.
"""

from __future__ import annotations

from collections.abc import Sequence

from silkgate.errors import InputError


class Wildcard:
    """The ``[*]`` segment."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "[*]"


WILDCARD = Wildcard()
Segment = str | int | Wildcard

_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "'": "'", "\\": "\\", "/": "/"}
_REVERSE = {v: "\\" + k for k, v in _ESCAPES.items() if k != "/"}


def _bad(path: str, why: str) -> InputError:
    return InputError(f"invalid normalized path {path!r}: {why}", path=path)


def _name(path: str, i: int) -> tuple[str, int]:
    """Parse a single-quoted name starting after the quote at `i`; return (name, next index)."""
    out: list[str] = []
    while i < len(path):
        c = path[i]
        if c == "'":
            return "".join(out), i + 1
        if c != "\\":
            out.append(c)
            i += 1
            continue
        esc = path[i + 1 : i + 2]
        if esc == "u":
            hexdigits = path[i + 2 : i + 6]
            if len(hexdigits) != 4:
                raise _bad(path, "short \\u escape")
            out.append(chr(int(hexdigits, 16)))
            i += 6
        elif esc in _ESCAPES:
            out.append(_ESCAPES[esc])
            i += 2
        else:
            raise _bad(path, f"unknown escape \\{esc}")
    raise _bad(path, "unterminated name")


def parse_path(path: str) -> tuple[Segment, ...]:
    """Split a normalized path into names (str), indices (int) and wildcards."""
    if not path.startswith("$"):
        raise _bad(path, "it must start with $")
    segments: list[Segment] = []
    i = 1
    while i < len(path):
        if path[i] != "[":
            raise _bad(path, f"expected [ at {i}")
        if path.startswith("['", i):
            name, i = _name(path, i + 2)
            segments.append(name)
        elif path.startswith("[*", i):
            segments.append(WILDCARD)
            i += 2
        else:
            end = path.find("]", i)
            digits = path[i + 1 : end] if end > 0 else ""
            if not digits.isdigit() or (digits != "0" and digits.startswith("0")):
                raise _bad(path, f"bad index at {i}")
            segments.append(int(digits))
            i = end
        if path[i : i + 1] != "]":
            raise _bad(path, f"expected ] at {i}")
        i += 1
    return tuple(segments)


def _quote(name: str) -> str:
    out = []
    for c in name:
        if c in _REVERSE:
            out.append(_REVERSE[c])
        elif ord(c) < 0x20:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    return "'" + "".join(out) + "'"


def format_path(segments: Sequence[Segment]) -> str:
    """The normalized path of `segments` (inverse of :func:`parse_path`)."""
    parts = ["$"]
    for seg in segments:
        if isinstance(seg, Wildcard):
            parts.append("[*]")
        elif isinstance(seg, int):
            parts.append(f"[{seg}]")
        else:
            parts.append(f"[{_quote(seg)}]")
    return "".join(parts)
