"""Apply a record's obligations (mask, pseudonymize, generalize, drop) at their paths.

The input record is never modified; the result is a new record. When several obligations
name the same path (and span), the strongest wins: drop > pseudonymize > generalize > mask.
A path that does not exist in the record is skipped (records of one product vary). Dropping
removes an object member, or sets an array element to null so that sibling indices stay
valid.

An obligation with a ``span`` (``(start, end)`` character offsets, as in ``Finding.span``;
use :class:`SpanObligation`, or any obligation object with a ``span`` attribute) transforms
only that part of the string at its path: spans are applied right to left so the offsets of
the others stay valid, then whole-value obligations on the same path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import msgspec

from silkgate.errors import InputError
from silkgate.model import Obligation, ObligationAction
from silkgate.paths import PatternSegment, Wildcard, parse_pattern
from silkgate.transform.generalize import generalize_value
from silkgate.transform.mask import mask_value
from silkgate.transform.pseudonymize import MIN_KEY_BYTES, pseudonymize_value

STRENGTH = {"mask": 0, "generalize": 1, "pseudonymize": 2, "drop": 3}
_DROP = object()

Action = Callable[[Any], Any]
Span = tuple[int, int]


class SpanObligation(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """An obligation on part of a string: characters ``span[0]`` to ``span[1]`` (exclusive)."""

    action: ObligationAction
    path: str
    finding_type: str | None = None
    span: Span | None = None


AnyObligation = Obligation | SpanObligation


def span_of(ob: AnyObligation) -> Span | None:
    span = getattr(ob, "span", None)
    return (int(span[0]), int(span[1])) if span is not None else None


def copy_json(value: Any) -> Any:
    """A deep copy of a JSON value (dicts and lists; scalars are immutable)."""
    if isinstance(value, dict):
        return {k: copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_json(v) for v in value]
    return value


def _order(ob: AnyObligation) -> tuple[int, str, bool, int]:
    span = span_of(ob)
    return (-len(parse_pattern(ob.path)), ob.path, span is None, -(span[0] if span else 0))


def plan(obligations: Iterable[AnyObligation]) -> list[AnyObligation]:
    """One obligation per path and span (the strongest); deepest paths first, spans right
    to left before whole values."""
    best: dict[tuple[str, Span | None], AnyObligation] = {}
    for ob in obligations:
        if ob.action not in STRENGTH:
            raise InputError(f"unknown obligation action {ob.action!r}", path=ob.path)
        key = (ob.path, span_of(ob))
        current = best.get(key)
        if current is None or STRENGTH[ob.action] > STRENGTH[current.action]:
            best[key] = ob
    return sorted(best.values(), key=_order)


def _on_span(fn: Action, span: Span) -> Action:
    def apply(value: Any) -> Any:
        start, end = span
        if not isinstance(value, str) or not 0 <= start <= end <= len(value):
            return value
        part = fn(value[start:end])
        replacement = "" if part is _DROP or part is None else str(part)
        return value[:start] + replacement + value[end:]

    return apply


def _action(ob: AnyObligation, pseudonym_key: bytes, full_mask: bool) -> Action:
    span = span_of(ob)
    whole = _whole_action(ob, pseudonym_key, full_mask)
    return _on_span(whole, span) if span is not None else whole


def _whole_action(ob: AnyObligation, pseudonym_key: bytes, full_mask: bool) -> Action:
    kind = ob.finding_type
    if ob.action == "mask":
        return lambda v: mask_value(v, kind, full=full_mask)
    if ob.action == "pseudonymize":
        return lambda v: pseudonymize_value(v, pseudonym_key, kind)
    if ob.action == "generalize":
        return lambda v: generalize_value(v, kind)
    return lambda v: _DROP


def _set(container: Any, key: str | int, value: Any) -> None:
    if value is not _DROP:
        container[key] = value
    elif isinstance(container, dict):
        del container[key]
    else:
        container[key] = None


def _keys(container: Any, seg: PatternSegment) -> list[str | int]:
    if isinstance(seg, Wildcard):
        if isinstance(container, dict):
            return list(container)
        return list(range(len(container))) if isinstance(container, list) else []
    if isinstance(container, dict) and isinstance(seg, str) and seg in container:
        return [seg]
    if isinstance(container, list) and isinstance(seg, int) and seg < len(container):
        return [seg]
    return []


def _apply_at(
    node: Any, segments: tuple[PatternSegment, ...], fn: Action, copies: set[int] | None
) -> None:
    """Apply `fn` at `segments` under `node`. `copies`: the ids of the containers this call
    made (copy on write: a shared container is copied before it is changed), or None when
    the whole record was copied first."""
    head, rest = segments[0], segments[1:]
    for key in _keys(node, head):
        if rest:
            child = node[key]
            if copies is not None and isinstance(child, (dict, list)) and id(child) not in copies:
                child = node[key] = _shallow(child, copies)
            _apply_at(child, rest, fn, copies)
        else:
            _set(node, key, fn(node[key]))


def _shallow(value: Any, copies: set[int]) -> Any:
    copy = dict(value) if isinstance(value, dict) else list(value)
    copies.add(id(copy))
    return copy


def apply_obligations(
    record: Any,
    obligations: Iterable[AnyObligation],
    *,
    pseudonym_key: bytes,
    full_mask: bool = False,
    share: bool = False,
) -> Any:
    """A transformed copy of `record`. `pseudonym_key` keys the HMAC of pseudonymization
    (≥ 16 bytes, kept by the exporter or the hub, never sent with the data).

    With `share`, only the containers on the way to a changed value are copied: the result
    shares the rest with `record` (equal to the full copy; for a result that is only read,
    e.g. encoded, never changed in place)."""
    if len(pseudonym_key) < MIN_KEY_BYTES:
        pseudonymize_value("", pseudonym_key)  # raises ConfigError with the reason
    copies: set[int] | None = None
    if not share:
        out = copy_json(record)
    elif isinstance(record, (dict, list)):
        copies = set()
        out = _shallow(record, copies)
    else:
        out = record
    for ob in plan(obligations):
        segments = parse_pattern(ob.path)
        fn = _action(ob, pseudonym_key, full_mask)
        if not segments:
            result = fn(out)
            out = None if result is _DROP else result
        else:
            _apply_at(out, segments, fn, copies)
    return out
