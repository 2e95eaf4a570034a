"""What the web console needs beyond the other routes (mounted under /v1/console; the
contract is docs/console.md, "API the console uses").

Public, no signature (hashes, sizes and signatures, never contents):
- ``GET /checkpoint``: the latest checkpoint parsed, with its signatures and cosignatures;
- ``GET /ledger-history``: the ledger's size over time.

Signed, authorized by silkgate.api.authz (``stats.corridors``, ``stats.rules``): regulators
see every batch, an exporter or importer the batches it is a party of:
- ``GET /corridors``: batches and records per day, origin, destination and outcome;
- ``GET /rules``: the rules fired, most records first.

Every aggregate is computed by the store (silkgate.store.stats: SQL ``GROUP BY``), never by
loading batches, and every answer is paged with ``limit`` and ``offset``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal

import msgspec
from fastapi import APIRouter, Query
from fastapi.responses import Response

from silkgate.api.authz import ALL, Action, Caller, scopes
from silkgate.api.deps import ApiState, Auth, State, json_response
from silkgate.api.openapi import ERRORS, json_reply
from silkgate.errors import ForbiddenError, InputError, LedgerVerificationError
from silkgate.ledger.checkpoint import (
    COSIGNATURE_V1,
    NoteSignature,
    NoteVerifier,
    parse_note,
    parse_vkey,
    verify_cosignature,
)
from silkgate.ledger.log import TransparencyLog
from silkgate.store.stats import FlowCount, RuleCount, SizePoint

MAX_DAYS = 366  # the widest window of /corridors and /rules
DEFAULT_DAYS = 30
GATE_PACK = "gate"
BUCKETS: dict[str, int] = {"day": 86_400, "hour": 3_600}


class SignatureView(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One signature line of the checkpoint note. `kind`: ``log`` (the log's own),
    ``cosignature`` (a timestamped witness cosignature, tlog-cosignature v1) or ``unknown``.
    `time` is the cosignature's timestamp (claimed unless `verified`)."""

    name: str
    key_id: str  # hex, 4 bytes
    kind: Literal["log", "cosignature", "unknown"]
    known: bool  # the log itself, or a witness the hub is configured with
    verified: bool  # checked by the hub with the known key
    time: datetime | None = None
    vkey: str | None = None  # the known key (note verifier key), to check it in the browser


class CheckpointView(msgspec.Struct, frozen=True, kw_only=True):
    origin: str
    size: int
    root_hash: bytes  # base64 in JSON
    log_key: str  # the log's verifier key (vkey)
    note: str  # the signed note, as served by /v1/ledger/checkpoint
    witnessed_at: datetime | None  # the latest verified cosignature's time
    signatures: list[SignatureView]


class LedgerHistory(msgspec.Struct, frozen=True, kw_only=True):
    bucket: str
    since: datetime
    until: datetime
    size: int  # the ledger's size now
    limit: int
    offset: int
    points: list[SizePoint]


class CorridorReport(msgspec.Struct, frozen=True, kw_only=True):
    since: date
    until: date  # exclusive
    limit: int
    offset: int
    rows: list[FlowCount]


class FiredRuleCount(msgspec.Struct, frozen=True, kw_only=True):
    rule_id: str
    pack: str  # the live rule pack holding it; "gate" for deny-by-default; "" if none does
    origin: str
    title: str
    records: int
    batches: int


class RuleReport(msgspec.Struct, frozen=True, kw_only=True):
    since: date
    until: date  # exclusive
    limit: int
    offset: int
    rules: list[FiredRuleCount]


DOCUMENTED = [
    SignatureView, CheckpointView, SizePoint, LedgerHistory, FlowCount, CorridorReport,
    FiredRuleCount, RuleReport,
]  # fmt: skip

router = APIRouter(prefix="/console", tags=["console"])


# -- public ------------------------------------------------------------------------------


@router.get(
    "/checkpoint",
    summary="The latest checkpoint parsed, with witness cosignatures (no signature)",
    responses=json_reply(CheckpointView),
)
def checkpoint(state: State) -> Response:
    hub = state.hub
    witnesses = [parse_vkey(w.key) for w in hub.settings.witnesses]
    return json_response(checkpoint_view(hub.log, witnesses))


def checkpoint_view(log: TransparencyLog, witnesses: list[NoteVerifier]) -> CheckpointView:
    """The latest checkpoint (signed now if the tree grew, as /v1/ledger/checkpoint does),
    each signature line classified and, for the log and configured witnesses, verified."""
    signed = log.checkpoint()
    note = parse_note(signed.note)
    own = log.verifier
    known = {(w.name, w.key_id): w for w in witnesses if w.sig_type == COSIGNATURE_V1}
    views = []
    for sig in note.signatures:
        if (sig.name, sig.key_id) == (own.name, own.key_id):
            # log.checkpoint() opened the note with the log's key: this line verified.
            views.append(
                SignatureView(
                    name=sig.name,
                    key_id=sig.key_id.hex(),
                    kind="log",
                    known=True,
                    verified=True,
                    vkey=own.vkey(),
                )
            )
            continue
        views.append(_cosignature_view(note.text, sig, known.get((sig.name, sig.key_id))))
    times = [v.time for v in views if v.kind == "cosignature" and v.verified and v.time]
    return CheckpointView(
        origin=signed.origin,
        size=signed.size,
        root_hash=signed.root_hash,
        log_key=log.vkey,
        note=signed.note,
        witnessed_at=max(times) if times else None,
        signatures=views,
    )


def _cosignature_view(text: str, sig: NoteSignature, witness: NoteVerifier | None) -> SignatureView:
    claimed = _claimed_time(sig)
    kind: Literal["cosignature", "unknown"] = "cosignature" if claimed else "unknown"
    seen = SignatureView(
        name=sig.name, key_id=sig.key_id.hex(), kind=kind, known=False, verified=False, time=claimed
    )
    if witness is None:
        return seen
    try:
        at = verify_cosignature(text, sig, witness)
    except LedgerVerificationError:
        return msgspec.structs.replace(seen, known=True, vkey=witness.vkey())
    return msgspec.structs.replace(
        seen,
        kind="cosignature",
        known=True,
        verified=True,
        time=datetime.fromtimestamp(at, UTC),
        vkey=witness.vkey(),
    )


def _claimed_time(sig: NoteSignature) -> datetime | None:
    """The timestamp a cosignature/v1 line carries (8 bytes, then a 64-byte signature)."""
    if len(sig.signature) != 8 + 64:
        return None
    (seconds,) = struct.unpack(">Q", sig.signature[:8])
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


@router.get(
    "/ledger-history",
    summary="The ledger's size over time: after the last batch of each day or hour (no signature)",
    responses=json_reply(LedgerHistory),
)
def ledger_history(
    state: State,
    bucket: Literal["day", "hour"] = "day",
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    until_at = _aware(until, "until") if until is not None else _next_day(state.clock())
    since_at = (
        _aware(since, "since") if since is not None else until_at - timedelta(days=DEFAULT_DAYS)
    )
    if since_at >= until_at:
        raise InputError("since must be before until", path="$['since']")
    store = state.hub.store
    points = store.ledger_growth(
        since=since_at, until=until_at, bucket_seconds=BUCKETS[bucket], limit=limit, offset=offset
    )
    return json_response(
        LedgerHistory(
            bucket=bucket,
            since=since_at,
            until=until_at,
            size=store.ledger_size(),
            limit=limit,
            offset=offset,
            points=points,
        )
    )


def _aware(at: datetime, name: str) -> datetime:
    if at.tzinfo is None:
        raise InputError(f"{name} needs a time zone (RFC 3339, e.g. 2026-06-01T00:00:00Z)")
    return at.astimezone(UTC)


def _next_day(now: datetime) -> datetime:
    return datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)


# -- signed ------------------------------------------------------------------------------


class Narrowing(msgspec.Struct, frozen=True, kw_only=True):
    exporter: str | None = None
    importer: str | None = None
    party: str | None = None


def narrowing(
    caller: Caller, action: Action, exporter: str | None, importer: str | None
) -> Narrowing:
    """The store filters for what `caller` may see: everything (narrowed as asked) for a
    regulator, else the batches it is a party of; naming another party is refused."""
    fields = scopes(caller, action)
    if ALL in fields:
        return Narrowing(exporter=exporter, importer=importer)
    for name, value in (("exporter", exporter), ("importer", importer)):
        if value not in (None, caller.id):
            raise ForbiddenError(
                f"{caller.id} may not read the figures of {name} {value}: only its own"
            )
    if {"exporter", "importer"} <= fields:
        return Narrowing(exporter=exporter, importer=importer, party=caller.id)
    if "exporter" in fields:
        return Narrowing(exporter=caller.id, importer=importer)
    return Narrowing(exporter=exporter, importer=caller.id)


def window(today: date, since: date | None, until: date | None) -> tuple[date, date]:
    """[since, until) in UTC days: default the last DEFAULT_DAYS days up to today."""
    end = until if until is not None else today + timedelta(days=1)
    start = since if since is not None else end - timedelta(days=DEFAULT_DAYS)
    if start >= end:
        raise InputError("since must be before until", path="$['since']")
    if (end - start).days > MAX_DAYS:
        raise InputError(f"at most {MAX_DAYS} days at once; page through a longer period")
    return start, end


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@router.get(
    "/corridors",
    summary="Batches and records per UTC day, origin, destination and outcome",
    responses={**ERRORS, **json_reply(CorridorReport)},
)
def corridors(
    auth: Auth,
    state: State,
    since: date | None = None,
    until: date | None = None,
    exporter: str | None = None,
    importer: str | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    narrow = narrowing(auth.caller, "stats.corridors", exporter, importer)
    start, end = window(state.clock().date(), since, until)
    rows = state.hub.store.flow_counts(
        since=_midnight(start), until=_midnight(end), exporter=narrow.exporter,
        importer=narrow.importer, party=narrow.party, limit=limit, offset=offset,
    )  # fmt: skip
    return json_response(
        CorridorReport(since=start, until=end, limit=limit, offset=offset, rows=rows)
    )


@router.get(
    "/rules",
    summary="The rules that decided the most records (with their pack and title)",
    responses={**ERRORS, **json_reply(RuleReport)},
)
def rules(
    auth: Auth,
    state: State,
    since: date | None = None,
    until: date | None = None,
    exporter: str | None = None,
    importer: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    narrow = narrowing(auth.caller, "stats.rules", exporter, importer)
    start, end = window(state.clock().date(), since, until)
    counts = state.hub.store.rule_counts(
        since=_midnight(start), until=_midnight(end), exporter=narrow.exporter,
        importer=narrow.importer, party=narrow.party, limit=limit, offset=offset,
    )  # fmt: skip
    describe = _describer(state)
    return json_response(
        RuleReport(
            since=start, until=end, limit=limit, offset=offset, rules=[describe(c) for c in counts]
        )
    )


_Describe = Callable[[RuleCount], FiredRuleCount]


def _describer(state: ApiState) -> _Describe:
    """Pack and title of each rule from the live engine (the gate's titles otherwise)."""
    return describe_with(state.hub.live_engine())


def describe_with(engine: object) -> _Describe:
    from silkgate.policy.explain import GATE_TITLES, find_rule

    def describe(count: RuleCount) -> FiredRuleCount:
        rule = find_rule(engine, count.rule_id)  # type: ignore[arg-type]
        if rule is not None:
            pack, title = rule.pack, rule.title
        elif count.rule_id in GATE_TITLES:
            pack, title = GATE_PACK, GATE_TITLES[count.rule_id]
        else:
            pack, title = "", count.rule_id
        return FiredRuleCount(
            rule_id=count.rule_id,
            pack=pack,
            origin=count.origin,
            title=title,
            records=count.records,
            batches=count.batches,
        )

    return describe
