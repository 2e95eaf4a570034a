"""The Classifier: walks a record once, skips business paths, tags annotated paths and runs
the registered detectors on every other string, gated by cheap per-string features."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from silkgate.classify import detectors as _builtin_detectors  # noqa: F401  (registers)
from silkgate.classify import text as _builtin_text  # noqa: F401  (registers)
from silkgate.classify.keys import key_context
from silkgate.classify.paths import PathNode, PathPart, normalized_path, parse_pattern
from silkgate.classify.phones import region_of
from silkgate.classify.registry import (
    NO_CONTEXT,
    Detector,
    Hit,
    KeyContext,
    registered_detectors,
)
from silkgate.classify.subjects import subject_key, subjects_from_findings
from silkgate.model import Finding, FindingType
from silkgate.products.registry import Product

# Whole strings that are business shapes: EPC URNs and GS1 Digital Link URIs, timestamps,
# time-zone offsets, enumerations, codes and small numbers.
_SKIP = re.compile(
    r"(?:urn:epc(?:global)?:|https?://(?:id|ref)\.gs1\.org/|"
    r"\d{4}-\d\d-\d\dT\d\d:\d\d|[+-]\d\d:\d\d$|[a-z_:\-]+$|[A-Z]{2,3}$|-?\d{1,6}(?:\.\d+)?$)"
)
_DIGIT = re.compile(r"\d")
_CAPS = re.compile(r"[A-Z][a-z]")
_NEG_CACHE_MAX = 65536
_MAX_CACHED_LEN = 80

_KEY_HINT_TYPES: frozenset[str] = frozenset({"person_name", "address"})
_LOCATION_KEYS = frozenset({"lat", "latitude", "lng", "lon", "long", "longitude"})


@dataclass(frozen=True, slots=True)
class RecordClassification:
    findings: tuple[Finding, ...]
    subjects: tuple[str, ...]


class Classifier:
    """Compiled once per product; ``classify`` is pure apart from a cache of strings known
    to hold nothing (never personal values)."""

    def __init__(self, product: Product | None = None) -> None:
        self.product = product
        self._root = _compile_product(product)
        self._subject_paths = [
            (parse_pattern(p), (product.annotations.get(p) if product else None))
            for p in (product.subject_paths if product else ())
        ]
        self._by_trigger = _group_detectors(registered_detectors())
        self._negative: set[str] = set()

    # ------------------------------------------------------------------ public

    def classify(self, record: Any) -> RecordClassification:
        found: list[tuple[Finding, str]] = []
        self._walk(record, [], self._root, None, found)
        findings = tuple(f for f, _ in found)
        return RecordClassification(findings=findings, subjects=self._subjects(record, found))

    def classify_batch(self, records: Sequence[Any]) -> list[RecordClassification]:
        return [self.classify(r) for r in records]

    # ------------------------------------------------------------------ walk

    def _walk(
        self,
        value: Any,
        parts: list[PathPart],
        node: PathNode | None,
        parent: str | None,
        out: list[tuple[Finding, str]],
    ) -> None:
        if isinstance(value, dict):
            for key, child in value.items():
                if not isinstance(key, str):
                    continue
                sub = node.children.get(key) if node is not None else None
                parts.append(key)
                self._visit(child, parts, sub, parent, key, out)
                parts.pop()
        elif isinstance(value, list):
            for i, child in enumerate(value):
                sub = node.child(i) if node is not None else None
                parts.append(i)
                self._visit(child, parts, sub, parent, parent, out)
                parts.pop()

    def _visit(
        self,
        value: Any,
        parts: list[PathPart],
        node: PathNode | None,
        parent: str | None,
        key: str | None,
        out: list[tuple[Finding, str]],
    ) -> None:
        if node is not None and node.business:
            return
        if type(value) is str:
            if value:
                self._leaf(value, parts, node, parent, key, out)
        elif isinstance(value, (dict, list)):
            self._walk(value, parts, node, key, out)
        elif node is not None and node.annotation is not None and value is not None:
            self._leaf(str(value), parts, node, parent, key, out)
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and key:
            self._number_leaf(value, parts, parent, key, out)

    def _leaf(
        self,
        text: str,
        parts: list[PathPart],
        node: PathNode | None,
        parent: str | None,
        key: str | None,
        out: list[tuple[Finding, str]],
    ) -> None:
        if node is not None and node.annotation is not None:
            out.append((_annotated(node.annotation, text, normalized_path(parts)), text))
            return
        kc = key_context(parent, key) if key is not None else NO_CONTEXT
        if kc.business and (node is None or not node.free_text):
            return
        hits = self.scan(text, kc)
        path = normalized_path(parts) if hits or kc.hint else ""
        for det, (ftype, start, end, country) in hits:
            span = None if (start == 0 and end == len(text)) else (start, end)
            out.append(
                (Finding(path=path, type=ftype, detector=det, country=country, span=span),
                 text[start:end])
            )
        if kc.hint in _KEY_HINT_TYPES and _plausible(text) and not any(h[1][0] == kc.hint for h in hits):
            out.append((Finding(path=path, type=kc.hint, detector="key_name"), text))

    def _number_leaf(
        self,
        value: float,
        parts: list[PathPart],
        parent: str | None,
        key: str,
        out: list[tuple[Finding, str]],
    ) -> None:
        """Numbers matter only under a telling key: coordinates, or an identifier stored as
        an integer."""
        kc = key_context(parent, key)
        if kc.hint is None:
            return
        if kc.hint == "precise_location":
            if key.lower() in _LOCATION_KEYS and isinstance(value, float):
                decimals = repr(value).split(".")[-1]
                if len(decimals) >= 4 and "e" not in decimals:
                    out.append((Finding(path=normalized_path(parts), type="precise_location",
                                        detector="location"), repr(value)))
            return
        if isinstance(value, int):
            self._leaf(str(value), parts, None, parent, key, out)

    # ------------------------------------------------------------------ content scan

    def scan(self, text: str, kc: KeyContext = NO_CONTEXT) -> list[tuple[str, Hit]]:
        """Run the detectors on one string: [(detector name, hit), ...]."""
        if len(text) < 3 or _SKIP.match(text):
            return []
        cacheable = not kc.context and len(text) <= _MAX_CACHED_LEN
        if cacheable and text in self._negative:
            return []
        hits: list[Hit] = []
        names: list[str] = []
        for det in self._applicable(text):
            before = len(hits)
            det.scan(text, kc, hits)
            names.extend([det.name] * (len(hits) - before))
        if not hits:
            if cacheable:
                if len(self._negative) >= _NEG_CACHE_MAX:
                    self._negative.clear()
                self._negative.add(text)
            return []
        return list(zip(names, hits, strict=True))

    def _applicable(self, text: str) -> list[Detector]:
        by = self._by_trigger
        dets: list[Detector] = list(by["any"])
        if _DIGIT.search(text):
            dets += by["digit"]
        if "@" in text:
            dets += by["at"]
        if ":" in text:
            dets += by["colon"]
        if not text.isascii():
            dets += by["nonascii"]
        elif _CAPS.search(text):
            dets += by["latin_caps"]
        if len(dets) > 1:
            seen: dict[str, Detector] = {d.name: d for d in dets}
            dets = sorted(seen.values(), key=lambda d: d.priority)
        return dets

    # ------------------------------------------------------------------ subjects

    def _subjects(self, record: Any, found: list[tuple[Finding, str]]) -> tuple[str, ...]:
        for parts, ftype in self._subject_paths:
            for value in _resolve(record, parts):
                key = subject_key(ftype, value) if ftype else None
                if key:
                    return (key,)
        return subjects_from_findings(found)


def _annotated(ftype: FindingType, text: str, path: str) -> Finding:
    country = None
    if ftype == "phone":
        phone = region_of(text)
        country = phone.region if phone else None
    elif ftype == "national_id":
        from silkgate.classify.subjects import national_id_country

        country = national_id_country(text)
    return Finding(path=path, type=ftype, detector="annotation", country=country)


def _plausible(text: str) -> bool:
    """A key says "name" or "address": is the value text rather than a code or a mask?"""
    stripped = text.strip()
    if not 2 <= len(stripped) <= 200 or "@" in stripped or "*" in stripped:
        return False
    letters = sum(ch.isalpha() for ch in stripped)
    return letters >= max(2, len(stripped) // 3)


def _compile_product(product: Product | None) -> PathNode | None:
    if product is None:
        return None
    root = PathNode()
    for pattern in product.business_paths:
        root.insert(parse_pattern(pattern)).business = True
    for pattern in product.free_text_paths:
        root.insert(parse_pattern(pattern)).free_text = True
    for pattern, ftype in product.annotations.items():
        root.insert(parse_pattern(pattern)).annotation = ftype
    return root


def _group_detectors(dets: list[Detector]) -> dict[str, list[Detector]]:
    by: dict[str, list[Detector]] = {t: [] for t in ("any", "digit", "at", "colon", "nonascii",
                                                     "latin_caps")}
    for d in dets:
        for t in d.triggers:
            by[t].append(d)
    return by


def _resolve(value: Any, parts: list[PathPart]) -> list[str]:
    """Values at a pattern's paths (``"*"`` expands over a list)."""
    current = [value]
    for p in parts:
        nxt: list[Any] = []
        for v in current:
            if p == "*" and isinstance(v, list):
                nxt.extend(v)
            elif isinstance(p, str) and isinstance(v, dict) and p in v:
                nxt.append(v[p])
            elif isinstance(p, int) and isinstance(v, list) and p < len(v):
                nxt.append(v[p])
        current = nxt
    return [str(v) for v in current if isinstance(v, (str, int)) and not isinstance(v, bool) and v != ""]
