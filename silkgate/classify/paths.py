"""RFC 9535 normalized paths, and product path patterns (``[*]`` = any index) compiled
into a trie walked alongside the record."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from silkgate.model import FindingType

PathPart = str | int

_ESCAPES = {
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "'": "\\'",
    "\\": "\\\\",
}
_NEEDS_ESCAPE = re.compile(r"[\x00-\x1f'\\]")


def _escape_char(m: re.Match[str]) -> str:
    ch = m.group()
    return _ESCAPES.get(ch) or f"\\u{ord(ch):04x}"


def normalized_path(parts: list[PathPart] | tuple[PathPart, ...]) -> str:
    """``["items", 0, "sku"]`` -> ``$['items'][0]['sku']`` (RFC 9535 section 2.7)."""
    out = ["$"]
    for p in parts:
        if isinstance(p, int):
            out.append(f"[{p}]")
        else:
            out.append("['" + _NEEDS_ESCAPE.sub(_escape_char, p) + "']")
    return "".join(out)


_SEGMENT = re.compile(r"\['((?:[^'\\]|\\.)*)'\]|\[(\*|\d+)\]")


def parse_pattern(pattern: str) -> list[PathPart]:
    """``$['items'][*]['gtin']`` -> ``["items", "*", "gtin"]`` (``"*"`` = any index).
    A literal key "*" is not distinguishable here; products do not use one."""
    if not pattern.startswith("$"):
        raise ValueError(f"not a normalized path: {pattern!r}")
    parts: list[PathPart] = []
    pos = 1
    while pos < len(pattern):
        m = _SEGMENT.match(pattern, pos)
        if m is None:
            raise ValueError(f"cannot parse path {pattern!r} at offset {pos}")
        if m.group(1) is not None:
            parts.append(re.sub(r"\\(.)", r"\1", m.group(1)))
        elif m.group(2) == "*":
            parts.append("*")
        else:
            parts.append(int(m.group(2)))
        pos = m.end()
    return parts


@dataclass(slots=True)
class PathNode:
    children: dict[PathPart, PathNode] = field(default_factory=dict)
    business: bool = False
    free_text: bool = False
    annotation: FindingType | None = None
    fixed_path: str | None = None  # the node's normalized path when it has no wildcard
    indexed: bool = False  # has children for specific list indexes, not only "*"
    business_keys: frozenset[PathPart] = frozenset()  # children that are business paths
    business_items: bool = False  # a list of business identifiers only (an epcList)
    # The classifier's per-key steps for objects at this node, filled on first use (the
    # trie belongs to one classifier, so the plan does too).
    plan: dict[str, Any] | None = None

    def finish(self) -> None:
        """Compute derived fields once the trie is complete."""
        self.business_keys = frozenset(k for k, c in self.children.items() if c.business)
        star = self.children.get("*")
        self.business_items = star is not None and star.business and not self.indexed
        for c in self.children.values():
            c.finish()

    def child(self, part: PathPart) -> PathNode | None:
        node = self.children.get(part)
        if node is None and isinstance(part, int):
            node = self.children.get("*")
        return node

    def insert(self, parts: list[PathPart]) -> PathNode:
        node = self
        for i, p in enumerate(parts):
            if isinstance(p, int):
                node.indexed = True
            node = node.children.setdefault(p, PathNode())
            if "*" not in parts[: i + 1]:
                node.fixed_path = normalized_path(parts[: i + 1])
        return node
