"""Reading records from files: NDJSON (one JSON value per line) or an EPCIS 2.0 document.

An EPCISDocument (or EPCISQueryDocument) is split into the events of its
``epcisBody.eventList`` (or ``epcisBody.queryResults.resultsBody.eventList``); each event is
one record. Errors name the line (NDJSON) or the event index.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from silkgate.errors import InputError


def split_epcis_document(document: Any) -> list[Any] | None:
    """The events of an EPCIS document, or None if `document` is not one."""
    if not isinstance(document, dict) or document.get("type") not in (
        "EPCISDocument",
        "EPCISQueryDocument",
    ):
        return None
    body = document.get("epcisBody")
    if not isinstance(body, dict):
        raise InputError("EPCIS document has no epcisBody object", path="$['epcisBody']")
    events = body.get("eventList")
    if events is None and isinstance(body.get("queryResults"), dict):
        events = body["queryResults"].get("resultsBody", {}).get("eventList")
    if not isinstance(events, list):
        raise InputError(
            "EPCIS document has no eventList array", path="$['epcisBody']['eventList']"
        )
    return events


def parse_records(data: bytes) -> list[Any]:
    """Parse a whole file's bytes: an EPCIS document, a JSON array, or NDJSON."""
    stripped = data.lstrip()
    if stripped[:1] in (b"{", b"[") and b"\n" not in stripped.rstrip():
        return _parse_single_document(stripped)
    if stripped[:1] == b"{":
        # A pretty-printed document spans lines; try it whole before falling back to NDJSON.
        try:
            whole = orjson.loads(stripped)
        except orjson.JSONDecodeError:
            whole = None
        if whole is not None:
            events = split_epcis_document(whole)
            return events if events is not None else [whole]
    return list(_iter_ndjson(data))


def _parse_single_document(data: bytes) -> list[Any]:
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"malformed JSON: {exc}", record=0) from None
    events = split_epcis_document(value)
    if events is not None:
        return events
    if isinstance(value, list):
        return value
    return [value]


def _iter_ndjson(data: bytes) -> Iterator[Any]:
    index = 0
    for line_no, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise InputError(f"malformed JSON on line {line_no}: {exc}", record=index) from None
        events = split_epcis_document(value)
        if events is not None:
            yield from events
            index += len(events)
        else:
            yield value
            index += 1


def read_records(path: Path) -> list[Any]:
    """Read a file of records; raises InputError naming the file on failure."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return parse_records(data)
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None
