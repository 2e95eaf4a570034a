"""The subset of RFC 8941 Structured Field Values that HTTP signatures need: dictionaries
whose members are bare items or inner lists, with parameters; items are integers, strings,
tokens, byte sequences and booleans (decimals are not supported)."""

from __future__ import annotations

import base64
import binascii
import re
import string
from typing import TypeAlias

from silkgate.errors import InputError

# A Token is a str subclass, so `str` covers both strings and tokens.
Item: TypeAlias = int | str | bytes | bool
Params: TypeAlias = list[tuple[str, Item]]
InnerList: TypeAlias = list[tuple[Item, Params]]
Member: TypeAlias = tuple[Item | InnerList, Params]

_KEY_FIRST = set(string.ascii_lowercase + "*")
_KEY_REST = set(string.ascii_lowercase + string.digits + "_-.*")
_TCHAR = set("!#$%&'*+-.^_`|~" + string.ascii_letters + string.digits + ":/")
_B64 = set(string.ascii_letters + string.digits + "+/=")
_TOKEN_RE = re.compile(r"[A-Za-z*][!#$%&'*+\-.^_`|~A-Za-z0-9:/]*\Z")


class StructuredFieldError(InputError, ValueError):
    """A field value that is not a valid structured field (RFC 8941). Also a ValueError, as
    callers of this module have always caught."""


class Token(str):
    """An sf-token (serialized without quotes)."""

    __slots__ = ()


class _Parser:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0

    def peek(self) -> str:
        return self.s[self.i] if self.i < len(self.s) else ""

    def take(self, expected: str) -> None:
        if self.peek() != expected:
            raise StructuredFieldError(f"expected {expected!r} at {self.i} in {self.s!r}")
        self.i += 1

    def skip(self, chars: str) -> None:
        while self.peek() and self.peek() in chars:
            self.i += 1

    def key(self) -> str:
        start = self.i
        if self.peek() not in _KEY_FIRST or not self.peek():
            raise StructuredFieldError(f"invalid key at {self.i} in {self.s!r}")
        while self.peek() and self.peek() in _KEY_REST:
            self.i += 1
        return self.s[start : self.i]

    def params(self) -> Params:
        out: Params = []
        while self.peek() == ";":
            self.i += 1
            self.skip(" ")
            name = self.key()
            value: Item = True
            if self.peek() == "=":
                self.i += 1
                value = self.bare()
            out = [(k, v) for k, v in out if k != name] + [(name, value)]
        return out

    def bare(self) -> Item:
        c = self.peek()
        if c == "-" or c.isdigit():
            return self.integer()
        if c == '"':
            return self.string()
        if c == ":":
            return self.bytes_()
        if c == "?":
            return self.boolean()
        if c and (c.isalpha() or c == "*"):
            return self.token()
        raise StructuredFieldError(f"unexpected {c!r} at {self.i} in {self.s!r}")

    def integer(self) -> int:
        m = re.compile(r"-?[0-9]{1,15}").match(self.s, self.i)
        if not m or (self.peek() == "-" and len(m.group()) == 1):
            raise StructuredFieldError(f"invalid integer at {self.i}")
        if self.s[m.end() : m.end() + 1] == ".":
            raise StructuredFieldError("decimals are not supported")
        self.i = m.end()
        return int(m.group())

    def string(self) -> str:
        self.take('"')
        out: list[str] = []
        while True:
            c = self.peek()
            if not c:
                raise StructuredFieldError("unterminated string")
            self.i += 1
            if c == '"':
                return "".join(out)
            if c == "\\":
                nxt = self.peek()
                if nxt not in ('"', "\\") or not nxt:
                    raise StructuredFieldError("invalid escape in string")
                self.i += 1
                out.append(nxt)
            elif not 0x20 <= ord(c) <= 0x7E:
                raise StructuredFieldError("invalid character in string")
            else:
                out.append(c)

    def token(self) -> Token:
        start = self.i
        self.i += 1
        while self.peek() and self.peek() in _TCHAR:
            self.i += 1
        return Token(self.s[start : self.i])

    def bytes_(self) -> bytes:
        self.take(":")
        end = self.s.find(":", self.i)
        if end < 0 or not set(self.s[self.i : end]) <= _B64:
            raise StructuredFieldError("invalid byte sequence")
        try:
            value = base64.b64decode(self.s[self.i : end], validate=True)
        except binascii.Error as exc:
            raise StructuredFieldError(f"invalid base64 in byte sequence: {exc}") from exc
        self.i = end + 1
        return value

    def boolean(self) -> bool:
        self.take("?")
        c = self.peek()
        if c not in ("0", "1") or not c:
            raise StructuredFieldError("invalid boolean")
        self.i += 1
        return c == "1"

    def inner_list(self) -> InnerList:
        self.take("(")
        items: InnerList = []
        while True:
            self.skip(" ")
            if self.peek() == ")":
                self.i += 1
                return items
            items.append((self.bare(), self.params()))
            if self.peek() not in (" ", ")") or not self.peek():
                raise StructuredFieldError(f"invalid inner list at {self.i}")

    def member(self) -> Member:
        if self.peek() == "(":
            inner = self.inner_list()
            return inner, self.params()
        return self.bare(), self.params()


def parse_dictionary(text: str) -> dict[str, Member]:
    """Parse an sf-dictionary; later duplicates override earlier ones (RFC 8941 §4.2.2)."""
    p = _Parser(text)
    out: dict[str, Member] = {}
    p.skip(" ")
    while p.peek():
        name = p.key()
        if p.peek() == "=":
            p.i += 1
            member = p.member()
        else:
            member = (True, p.params())
        out.pop(name, None)
        out[name] = member
        p.skip(" \t")
        if not p.peek():
            return out
        p.take(",")
        p.skip(" \t")
        if not p.peek():
            raise StructuredFieldError("trailing comma in dictionary")
    return out


def serialize_string(value: str) -> str:
    if any(not 0x20 <= ord(c) <= 0x7E for c in value):
        raise StructuredFieldError(f"string {value!r} has characters outside printable ASCII")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def serialize_bare(value: Item) -> str:
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes):
        return ":" + base64.b64encode(value).decode("ascii") + ":"
    if isinstance(value, Token):
        if not _TOKEN_RE.match(value):
            raise StructuredFieldError(f"invalid token {value!r}")
        return str(value)
    return serialize_string(value)


def serialize_params(params: Params) -> str:
    out = []
    for name, value in params:
        out.append(f";{name}" if value is True else f";{name}={serialize_bare(value)}")
    return "".join(out)


def serialize_inner_list(items: InnerList, params: Params) -> str:
    inner = " ".join(serialize_bare(v) + serialize_params(p) for v, p in items)
    return f"({inner}){serialize_params(params)}"


def serialize_dictionary(members: dict[str, Member]) -> str:
    out = []
    for name, (value, params) in members.items():
        if isinstance(value, list):
            out.append(f"{name}={serialize_inner_list(value, params)}")
        elif value is True:
            out.append(f"{name}{serialize_params(params)}")
        else:
            out.append(f"{name}={serialize_bare(value)}{serialize_params(params)}")
    return ", ".join(out)
