"""The Classifier: walks a record once, skips business paths, tags annotated paths and runs
the registered detectors on every other string, gated by cheap per-string features."""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import msgspec

from silkgate.classify import detectors as _builtin_detectors  # noqa: F401  (registers)
from silkgate.classify import text as _builtin_text  # noqa: F401  (registers)
from silkgate.classify.evidence import ANNOTATION, KEY, assess, confidence
from silkgate.classify.keys import key_context
from silkgate.classify.lexmatch import forget as forget_lowered
from silkgate.classify.paths import PathNode, PathPart, normalized_path, parse_pattern
from silkgate.classify.phones import country_of_phone
from silkgate.classify.profile import TRIGGER_BITS, profile
from silkgate.classify.profile import forget as forget_profile
from silkgate.classify.registry import (
    NO_CONTEXT,
    TRIGGERS,
    Detector,
    Hit,
    KeyContext,
    registered_detectors,
)
from silkgate.classify.subjects import national_id_country, subject_key, subjects_from_findings
from silkgate.model import Finding, FindingType
from silkgate.products.registry import Product

# Whole strings that are business shapes: EPC URNs and GS1 Digital Link URIs, timestamps,
# time-zone offsets, enumerations, codes and small numbers.
_SKIP: Final = re.compile(
    r"(?:urn:epc(?:global)?:|https?://(?:id|ref)\.gs1\.org/|"
    r"\d{4}-\d\d-\d\dT\d\d:\d\d|[+-]\d\d:\d\d$|[a-z_:\-]+$|[A-Z]{2,3}$|-?\d{1,6}(?:\.\d+)?$)"
)
_NEG_CACHE_MAX: Final = 65536
_MAX_PLANS: Final = 2_000  # objects keyed by parent name, off the product's trie
_MAX_PLAN_KEYS: Final = 2_000
_MAX_CACHED_LEN: Final = 80

_KEY_HINT_TYPES: Final[frozenset[str]] = frozenset({"person_name", "address"})
_PLACEHOLDERS: Final = frozenset(
    {
        "n/a",
        "na",
        "none",
        "null",
        "nil",
        "unknown",
        "test",
        "tbd",
        "-",
        "xxx",
        "không có",
        "无",
        "ไม่มี",
        "tiada",
        "tidak ada",
    }
)
_LOCATION_KEYS: Final = frozenset({"lat", "latitude", "lng", "lon", "long", "longitude"})


class RecordClassification(msgspec.Struct, frozen=True):
    """What one record holds: findings, and the data subjects it names (raw keys)."""

    findings: tuple[Finding, ...]
    subjects: tuple[str, ...]


_NOTHING: Final = RecordClassification(findings=(), subjects=())


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
        # Subject paths without wildcards are matched against the findings' paths directly.
        annotations = product.annotations if product else {}
        self._subject_rank = {
            p: (i, annotations.get(p))
            for i, p in enumerate(product.subject_paths if product else ())
            if "[*]" not in p
        }
        self._by_trigger = _group_detectors(registered_detectors())
        self._negative: set[str] = set()
        self._combos: dict[int, list[Detector]] = {}
        self._kc_by_parent: dict[str | None, dict[str | None, KeyContext]] = {}
        self._plans_by_parent: dict[str | None, dict[str, Step]] = {}

    # ------------------------------------------------------------------ public

    def classify(self, record: Any) -> RecordClassification:
        found: list[tuple[Finding, str]] = []
        if type(record) is dict:
            self._walk_dict(record, None, self._root, None, found)
        elif isinstance(record, (dict, list)):
            self._walk(record, None, self._root, None, found)
        if not found:  # most logistics events
            return _NOTHING
        findings = tuple([f for f, _ in found])
        return RecordClassification(findings=findings, subjects=self._subjects(record, found))

    def classify_batch(self, records: Sequence[Any]) -> list[RecordClassification]:
        return [self.classify(r) for r in records]

    # ------------------------------------------------------------------ walk

    def _walk(
        self,
        value: dict[str, Any] | list[Any],
        chain: Chain,
        node: PathNode | None,
        parent: str | None,
        out: list[tuple[Finding, str]],
    ) -> None:
        if isinstance(value, dict):
            self._walk_dict(value, chain, node, parent, out)
        else:
            self._walk_list(value, chain, node, parent, out)

    def _walk_dict(
        self,
        value: dict[str, Any],
        chain: Chain,
        node: PathNode | None,
        parent: str | None,
        out: list[tuple[Finding, str]],
    ) -> None:
        """The hot loop: one pass, string leaves handled inline, paths formatted only when a
        finding needs one (a chain of (parent chain, key) pairs until then). What a key means
        here (trie node, key context) is decided once per (object kind, key) and kept in a
        plan, so a recurring key costs one dict lookup."""
        # Inlined: one call less per object.
        plan: dict[str, Step] | None = node.plan if node is not None else None
        if plan is None:
            plan = self._plan(node, parent)
        negative = self._negative
        skip = _SKIP.match
        for key, child in value.items():
            step = plan.get(key)
            if step is None:
                step = self._new_step(plan, node, parent, key)
            scan = step.scan
            if scan == _SKIPPED:
                continue
            kc = step.kc
            annotation = step.annotation
            t = type(child)
            if t is str:
                if not child:
                    continue
                if annotation is not None:
                    tagged = step.tagged
                    if tagged is None:
                        tagged = _annotated(annotation, child, step.fixed or _path(chain, key))
                    out.append((tagged, child))
                    continue
                if scan == _MUTE or (
                    scan == _PLAIN
                    and (
                        (len(child) < 3 and (len(child) < 2 or child.isascii()))
                        or child in negative
                    )
                ):  # under three characters only a Chinese name ("李飞") is worth a look
                    continue
                if skip(child):
                    continue
                self._scan_leaf(child, chain, key, kc, out)
            elif t is dict:
                # An object of business identifiers only ({"id": "urn:epc:..."}) is skipped.
                sub = step.sub
                if sub is None or not sub.business_keys.issuperset(child):
                    self._walk_dict(child, (chain, key), sub, key, out)
            elif t is list:
                sub = step.sub
                if sub is None or not sub.business_items:  # not an epcList: look inside
                    self._walk_list(child, (chain, key), sub, key, out)
            elif t is int or t is float:
                # Numbers matter only under a telling key (coordinates, IDs as integers).
                if annotation is None:
                    if kc.hint is not None:
                        self._number_leaf(child, chain, key, kc, key, out)
                else:
                    self._scalar(child, chain, key, step.sub, parent, key, out)
            elif child is not None and t is not bool:
                self._scalar(child, chain, key, step.sub, parent, key, out)

    def _plan(self, node: PathNode | None, parent: str | None) -> dict[str, Step]:
        """The per-key steps of objects at ``node`` (or, off the product's trie, of objects
        under a key named ``parent``: the key context depends on nothing else)."""
        if node is not None:
            plan = node.plan
            if plan is None:
                plan = node.plan = {}
            return plan
        plan = self._plans_by_parent.get(parent)
        if plan is None:
            plan = {}
            if len(self._plans_by_parent) < _MAX_PLANS:
                self._plans_by_parent[parent] = plan
        return plan

    def _new_step(
        self, plan: dict[str, Step], node: PathNode | None, parent: str | None, key: str
    ) -> Step:
        sub = node.children.get(key) if node is not None else None
        if sub is not None and sub.business:
            step = _BUSINESS_STEP
        else:
            kc = self._context(parent, key)
            free_text = sub is not None and sub.free_text
            if kc.hint is not None:
                scan = _HINTED
            elif kc.business and not free_text:
                scan = _MUTE
            else:
                scan = _PLAIN
            if sub is None:
                step = Step(None, kc, None, scan, None, None)
            else:
                step = Step(sub, kc, sub.annotation, scan, sub.fixed_path, _tag(sub))
        if len(plan) < _MAX_PLAN_KEYS:  # opaque keys (uuids as keys) must not grow it forever
            plan[key] = step
        return step

    def _walk_list(
        self,
        value: list[Any],
        chain: Chain,
        node: PathNode | None,
        parent: str | None,
        out: list[tuple[Finding, str]],
    ) -> None:
        """List items: their key name is the list's (``"phones": [...]``)."""
        star = node.children.get("*") if node is not None else None
        indexed = node is not None and node.indexed
        if star is not None and star.business and not indexed:  # e.g. an epcList
            return
        for i, child in enumerate(value):
            sub = node.child(i) if indexed and node is not None else star
            if sub is not None and sub.business:
                continue
            t = type(child)
            if t is dict:
                # Items made of business identifiers only ({"type": "po", "bizTransaction":
                # "urn:..."}) hold nothing to find.
                if sub is None or not sub.business_keys.issuperset(child):
                    self._walk_dict(child, (chain, i), sub, parent, out)
            elif t is list:
                self._walk_list(child, (chain, i), sub, parent, out)
            elif t is str:
                if child:
                    self._string(child, chain, i, sub, parent, out)
            elif child is not None and t is not bool:
                self._scalar(child, chain, i, sub, parent, parent, out)

    def _string(
        self,
        text: str,
        chain: Chain,
        key: PathPart,
        sub: PathNode | None,
        parent: str | None,
        out: list[tuple[Finding, str]],
    ) -> None:
        """A string inside a list (the dict loop inlines the same steps)."""
        if sub is not None and sub.annotation is not None:
            path = sub.fixed_path or _path(chain, key)
            out.append((_annotated(sub.annotation, text, path), text))
            return
        if _SKIP.match(text):
            return
        kc = self._context(parent, parent)
        if kc.hint is None and (
            (len(text) < 3 and _too_short(text))
            or (kc.business and (sub is None or not sub.free_text))
            or text in self._negative
        ):
            return
        self._scan_leaf(text, chain, key, kc, out)

    def _scalar(
        self,
        value: Any,
        chain: Chain,
        key: PathPart,
        sub: PathNode | None,
        parent: str | None,
        name: str | None,
        out: list[tuple[Finding, str]],
    ) -> None:
        if sub is not None and sub.annotation is not None:
            text = str(value)
            out.append((_annotated(sub.annotation, text, _path(chain, key)), text))
            return
        if type(value) is int or type(value) is float:
            kc = self._context(parent, name)
            if kc.hint is not None and name is not None:
                self._number_leaf(value, chain, key, kc, name, out)

    def _context(self, parent: str | None, name: str | None) -> KeyContext:
        kcs = self._kc_by_parent.get(parent)
        if kcs is None:
            kcs = self._kc_by_parent[parent] = {}
        kc = kcs.get(name)
        return kc if kc is not None else self._key_context(kcs, parent, name)

    def _key_context(
        self, kcs: dict[str | None, KeyContext], parent: str | None, name: str | None
    ) -> KeyContext:
        kc = key_context(parent, name) if name is not None else NO_CONTEXT
        if len(kcs) < 2_000 and len(self._kc_by_parent) < 2_000:
            kcs[name] = kc
        return kc

    def _scan_leaf(
        self,
        text: str,
        chain: Chain,
        key: PathPart,
        kc: KeyContext,
        out: list[tuple[Finding, str]],
    ) -> None:
        # Every caller has ruled out business shapes (_SKIP) already.
        hits = self._detect(text, kc) if kc.hint is None or len(text) >= 3 else []
        if not hits and kc.hint not in _KEY_HINT_TYPES:
            return
        path = _path(chain, key)
        for det, hit in hits:
            ftype, start, end, country = hit[0], hit[1], hit[2], hit[3]
            span = None if (start == 0 and end == len(text)) else (start, end)
            ev = assess(ftype, country, text, start, end, kc, hit[4] if len(hit) == 5 else None)
            finding = Finding(
                path=path,
                type=ftype,
                detector=det,
                country=country,
                span=span,
                confidence=confidence(ev),
                evidence=ev,
            )
            out.append((finding, text[start:end]))
        forget_lowered()  # the detectors' (and assess's) shared lower-cased copy of this string
        forget_profile()
        if (
            kc.hint in _KEY_HINT_TYPES
            and _plausible(text)
            and not any(h[1][0] == kc.hint for h in hits)
        ):
            out.append((Finding(path=path, type=kc.hint, detector="key_name", evidence=KEY), text))

    def _number_leaf(
        self,
        value: int | float,
        chain: Chain,
        key: PathPart,
        kc: KeyContext,
        name: str,
        out: list[tuple[Finding, str]],
    ) -> None:
        """Numbers matter only under a telling key: coordinates, or an identifier stored as
        an integer."""
        if kc.hint == "precise_location":
            if name.lower() in _LOCATION_KEYS and isinstance(value, float):
                decimals = repr(value).split(".")[-1]
                if len(decimals) >= 4 and "e" not in decimals:
                    finding = Finding(
                        path=_path(chain, key),
                        type="precise_location",
                        detector="location",
                        evidence=KEY,
                    )
                    out.append((finding, repr(value)))
            return
        if isinstance(value, int):
            text = str(value)
            if not _SKIP.match(text):  # small numbers: nothing to find
                self._scan_leaf(text, chain, key, kc, out)

    # ------------------------------------------------------------------ content scan

    def scan(self, text: str, kc: KeyContext = NO_CONTEXT) -> list[tuple[str, Hit]]:
        """Run the detectors on one string: [(detector name, hit), ...]."""
        hits = self._scan(text, kc)
        forget_lowered()
        forget_profile()
        return hits

    def _scan(self, text: str, kc: KeyContext) -> list[tuple[str, Hit]]:
        if len(text) < 3 or _SKIP.match(text):
            return []
        return self._detect(text, kc)

    def _detect(self, text: str, kc: KeyContext) -> list[tuple[str, Hit]]:
        cacheable = not kc.context and len(text) <= _MAX_CACHED_LEN
        if cacheable and text in self._negative:
            return []
        hits: list[Hit] = []
        named: list[tuple[str, Hit]] = []
        for det in self._applicable(text):
            before = len(hits)
            det.scan(text, kc, hits)
            if len(hits) > before:
                for i in range(before, len(hits)):
                    named.append((det.name, hits[i]))
        if not hits:
            forget_lowered()  # the detectors' shared lower-cased copy of this string
            forget_profile()
            if cacheable:
                if len(self._negative) >= _NEG_CACHE_MAX:
                    self._negative.clear()
                self._negative.add(text)
            return []
        return named

    def _applicable(self, text: str) -> list[Detector]:
        """Detectors whose triggers the string shows, by priority (one list per feature set,
        built on first use)."""
        mask = profile(text).mask
        dets = self._combos.get(mask)
        if dets is None:
            chosen = {d.name: d for d in self._by_trigger["any"]}
            for trigger, bit in TRIGGER_BITS.items():
                if mask & bit:
                    chosen.update((d.name, d) for d in self._by_trigger[trigger])
            dets = self._combos[mask] = sorted(chosen.values(), key=lambda d: d.priority)
        return dets

    # ------------------------------------------------------------------ subjects

    def _subjects(self, record: Any, found: list[tuple[Finding, str]]) -> tuple[str, ...]:
        if self._subject_paths and len(self._subject_rank) == len(self._subject_paths):
            # The best-ranked finding in one pass; nearly always it gives the subject.
            rank = self._subject_rank
            best: tuple[int, FindingType | None] | None = None
            at = 0
            for i in range(len(found)):
                r = rank.get(found[i][0].path)
                if r is not None and (best is None or r[0] < best[0]):
                    best, at = r, i
            if best is None:
                return subjects_from_findings(found)
            ftype = best[1]
            finding, value = found[at]
            key = subject_key(ftype, value, finding.country) if ftype else None
            return (key,) if key else self._ranked_subjects(found)
        for parts, ftype in self._subject_paths:
            for value in _resolve(record, parts):
                key = subject_key(ftype, value) if ftype else None
                if key:
                    return (key,)
        return subjects_from_findings(found)

    def _ranked_subjects(self, found: list[tuple[Finding, str]]) -> tuple[str, ...]:
        """The subject from the findings at the product's subject paths, best rank first
        (the plain form of ``_subjects``' first branch)."""
        rank = self._subject_rank
        ranked = [(rank[f.path], i) for i, (f, _) in enumerate(found) if f.path in rank]
        ranked.sort()
        for (_, ftype), i in ranked:
            finding, value = found[i]
            key = subject_key(ftype, value, finding.country) if ftype else None
            if key:
                return (key,)
        return subjects_from_findings(found)


_PLAIN: Final = 0  # content-scanned unless too short or known to hold nothing
_HINTED: Final = 1  # the key names a type: always scanned (and tagged if it looks like text)
_MUTE: Final = 2  # the key names a business identifier: strings are not scanned
_SKIPPED: Final = 3  # a business path: the value is skipped whole, whatever it holds


@dataclass(slots=True)
class Step:
    """What a key means in one kind of object, decided once. A class rather than a tuple:
    compiled (mypyc), its fields are read directly, where a tuple kept in a dict is checked
    and unpacked item by item."""

    sub: PathNode | None  # the product trie's node, if any
    kc: KeyContext
    annotation: FindingType | None  # the type the product's schema gives the path
    scan: int  # how strings are scanned: _PLAIN, _HINTED, _MUTE or _SKIPPED
    fixed: str | None  # the path, when it has no wildcard
    tagged: Finding | None  # an annotated string's finding when it does not depend on the value


# Business paths are one shared step, skipped whole.
_BUSINESS_STEP: Final = Step(None, NO_CONTEXT, None, _SKIPPED, None, None)

# A path as a chain of (parent chain, key) pairs, cheaper to extend than a string.
Chain = tuple[Any, PathPart] | None
_SEGMENTS: Final[dict[PathPart, str]] = {}


def _path(chain: Chain, key: PathPart) -> str:
    parts = [_segment(key)]
    while chain is not None:
        chain, k = chain
        parts.append(_segment(k))
    parts.append("$")
    parts.reverse()
    return "".join(parts)


def _segment(key: PathPart) -> str:
    """One normalized-path segment, remembered for recurring keys."""
    seg = _SEGMENTS.get(key)
    if seg is None:
        seg = normalized_path([key])[1:]
        if len(_SEGMENTS) < 100_000:
            _SEGMENTS[key] = seg
    return seg


def _tag(sub: PathNode) -> Finding | None:
    """The finding of an annotated path with a fixed path, when it does not depend on the
    value (no country to read from it): built once and shared, Findings being immutable."""
    ftype = sub.annotation
    if ftype is None or sub.fixed_path is None or ftype in ("phone", "national_id"):
        return None
    return Finding(path=sub.fixed_path, type=ftype, detector="annotation", evidence=ANNOTATION)


def _annotated(ftype: FindingType, text: str, path: str) -> Finding:
    country = None
    if ftype == "phone":
        country = country_of_phone(text)
    elif ftype == "national_id":
        country = national_id_country(text)
    # Findings are immutable and name no value: one per (path, type, country) is shared.
    key = (path, ftype, country)
    finding = _ANNOTATION_FINDINGS.get(key)
    if finding is None:
        finding = Finding(
            path=path, type=ftype, detector="annotation", country=country, evidence=ANNOTATION
        )
        if len(_ANNOTATION_FINDINGS) < 10_000:
            _ANNOTATION_FINDINGS[key] = finding
    return finding


_ANNOTATION_FINDINGS: Final[dict[tuple[str, FindingType, str | None], Finding]] = {}


def _too_short(text: str) -> bool:
    """Under three characters nothing is personal, except a Chinese name ("李飞")."""
    return len(text) < 2 or text.isascii()


def _plausible(text: str) -> bool:
    """A key says "name" or "address": is the value text rather than a code or a mask?"""
    stripped = text.strip()
    if not 2 <= len(stripped) <= 200 or "@" in stripped or "*" in stripped:
        return False
    if stripped.lower() in _PLACEHOLDERS:
        return False
    need = max(2, len(stripped) // 3)
    words = stripped.replace(" ", "")
    if words.isalpha():  # most names: letters and spaces, no need to count one by one
        return len(words) >= need
    if stripped.isascii():  # ASCII letters are [A-Za-z]: count what is left without them
        return len(stripped) - len(stripped.encode().translate(None, _ASCII_LETTERS)) >= need
    letters = 0
    for ch in stripped:  # a plain loop (no generator), done once there are enough
        if ch.isalpha():
            letters += 1
            if letters >= need:
                return True
    return False


_ASCII_LETTERS: Final = string.ascii_letters.encode()


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
    root.finish()
    return root


def _group_detectors(dets: list[Detector]) -> dict[str, list[Detector]]:
    by: dict[str, list[Detector]] = {t: [] for t in TRIGGERS}
    for d in dets:
        for t in d.triggers:
            by[t].append(d)
    return by


def _resolve(value: Any, parts: list[PathPart]) -> list[str]:
    """Values at a pattern's paths (``"*"`` expands over a list)."""
    current = [value]
    for p in parts:
        current = [c for v in current for c in _children(v, p)]
    return [
        str(v) for v in current if isinstance(v, (str, int)) and not isinstance(v, bool) and v != ""
    ]


def _children(value: Any, part: PathPart) -> list[Any]:
    if isinstance(value, list):
        if part == "*":
            return value
        if isinstance(part, int) and 0 <= part < len(value):
            return [value[part]]
    if isinstance(value, dict) and isinstance(part, str) and part in value:
        return [value[part]]
    return []
