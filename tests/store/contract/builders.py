"""Values the store contract suites write and read back."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import msgspec

from silkgate.model import (
    Agreement,
    BatchResult,
    Decision,
    Filing,
    Obligation,
    Participant,
    Receipt,
)
from silkgate.store.ports import (
    DecisionFact,
    EnvelopeState,
    FactColumns,
    PushEndpoint,
    StoredEnvelope,
)

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def participant(pid: str, name: str = "Nanning Freight") -> Participant:
    return Participant(
        id=pid, name=name, jurisdiction="CN", roles=("exporter",), signing_key=b"k" * 32
    )


def agreement(aid: str, exporter: str = "p_ex", importer: str = "p_im") -> Agreement:
    return Agreement(
        id=aid,
        exporter=exporter,
        importer=importer,
        product="logistics.waybill",
        purpose="contract_performance",
        instrument="cn_standard_contract",
        valid_from=date(2026, 1, 1),
        valid_until=date(2027, 1, 1),
    )


def filing(fid: str, exporter: str = "p_ex") -> Filing:
    return Filing(
        id=fid,
        exporter=exporter,
        kind="standard_contract",
        recipient=None,
        valid_from=date(2026, 1, 1),
        reference="CAC-1",
    )


def batch(bid: str, minute: int, exporter: str = "p_ex", importer: str = "p_im") -> BatchResult:
    decision = Decision(
        outcome="allow_transformed",
        obligations=(Obligation(action="mask", path="$['phone']", finding_type="phone"),),
        rule_ids=("cn.art5.1",),
        citations=("Provisions Art. 5(1)",),
        policy_version="cn-2024.1",
        facts={"types": ["phone"], "count": 2},
    )
    return BatchResult(
        batch_id=bid,
        exporter=exporter,
        importer=importer,
        product="logistics.waybill",
        purpose="contract_performance",
        records=2,
        outcomes={"allow_transformed": 2},
        decisions=(decision, decision),
        envelope_id=f"e_{bid}",
        held_id=None,
        ledger_index=7,
        policy_version="cn-2024.1",
        committed_at=T0 + timedelta(minutes=minute),
    )


def envelope(
    eid: str,
    minute: int,
    *,
    importer: str = "p_im",
    exporter: str = "p_ex",
    state: EnvelopeState = "pending",
    expires_days: int = 30,
) -> StoredEnvelope:
    created = T0 + timedelta(minutes=minute)
    return StoredEnvelope(
        id=eid,
        batch_id=f"b_{eid}",
        exporter=exporter,
        importer=importer,
        state=state,
        created_at=created,
        expires_at=created + timedelta(days=expires_days),
        data=b"sealed:" + eid.encode(),
    )


def receipt(eid: str, bid: str = "b_1") -> Receipt:
    return Receipt(
        envelope_id=eid,
        batch_id=bid,
        importer="p_im",
        envelope_digest=hashlib.sha256(eid.encode()).digest(),
        received_at=T0,
        key_id="p_im#1",
        signature=b"s" * 64,
    )


def h(i: int) -> bytes:
    return hashlib.sha256(str(i).encode()).digest()


def fact(batch_id: str, record: int, at: datetime, outcome: str = "allow") -> DecisionFact:
    return DecisionFact(
        time=at,
        batch_id=batch_id,
        record=record,
        exporter="p_ex",
        importer="p_im",
        origin="CN",
        destination="VN",
        product="logistics.waybill",
        sector="logistics",
        purpose="logistics_operations",
        instrument="cn_standard_contract",
        ciio=False,
        transit=False,
        filings=("standard_contract",),
        agreement_days=10,
        tia_age_days=None,
        gate="",
        findings=(("$['consignee']['phone']", "phone"),),
        paths=(),
        types=("phone",),
        categories=("pi",),
        subjects=(h(record),),
        counted=("pi",),
        pi_before=record,
        pi_after=record + 1,
        sensitive_pi_before=0,
        sensitive_pi_after=0,
        outcome=outcome,
        rule_ids=("cn.art5-4.below-threshold",),
        policy_version="v1",
        tags=("sandbox:exp-1",),
    )


def push(importer: str, url: str = "https://hook.example/in") -> PushEndpoint:
    return PushEndpoint(importer=importer, url=url, created_at=T0)


class Boom(Exception):
    """Raised inside a transaction to abort it."""


# The fields of `fact` a batch's facts share, and those of one record shape and decision.
SHAPE_FIELDS = ("gate", "findings", "paths", "types", "categories", "counted", "pi_before",
                "pi_after", "sensitive_pi_before", "sensitive_pi_after", "outcome",
                "rule_ids", "policy_version", "tags")  # fmt: skip


def fact_columns(batch_id: str, at: datetime, outcomes: Sequence[str]) -> FactColumns:
    """A batch's facts by column, one record per outcome (records of one outcome share a
    shape), as the sandbox makes them."""
    whole = msgspec.structs.asdict(fact(batch_id, 0, at))
    common = {
        k: v for k, v in whole.items() if k not in {*SHAPE_FIELDS, "record", "subjects", "seq"}
    }
    kinds = list(dict.fromkeys(outcomes))
    shapes = [
        {**{k: whole[k] for k in SHAPE_FIELDS}, "outcome": o, "pi_after": n}
        for n, o in enumerate(kinds)
    ]
    return FactColumns(
        common, shapes, [kinds.index(o) for o in outcomes], [(h(i),) for i in range(len(outcomes))]
    )
