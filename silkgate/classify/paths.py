"""Product path patterns (``[*]`` = any index) compiled into a trie walked alongside the
record. Normalized paths are formatted and parsed by :mod:`silkgate.paths`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from silkgate import paths
from silkgate.model import FindingType
from silkgate.paths import Wildcard, format_path

PathPart = str | int


def normalized_path(parts: list[PathPart] | tuple[PathPart, ...]) -> str:
    """``["items", 0, "sku"]`` -> ``$['items'][0]['sku']`` (RFC 9535 section 2.7)."""
    return format_path(parts)


def parse_pattern(pattern: str) -> list[PathPart]:
    """``$['items'][*]['gtin']`` -> ``["items", "*", "gtin"]`` (``"*"`` = any index).
    A literal key "*" is not distinguishable here; products do not use one."""
    return ["*" if isinstance(s, Wildcard) else s for s in paths.parse_pattern(pattern)]


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
