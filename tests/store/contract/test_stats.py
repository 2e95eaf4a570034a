"""StatsPort contract: aggregates over committed batches (every implementation), checked
against the pure grouping of silkgate.store.stats over the same batches, and by hand."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import TypedDict

import pytest

from silkgate.errors import StoreError
from silkgate.model import OUTCOMES, BatchResult, Decision
from silkgate.store.base import Store
from silkgate.store.stats import (
    FlowCount,
    RuleCount,
    SizePoint,
    flow_rows,
    group_flows,
    group_growth,
    group_rules,
    rule_rows,
)

T0 = datetime(2026, 3, 1, 22, 0, tzinfo=UTC)


class Span(TypedDict):
    since: datetime
    until: datetime


class Narrow(TypedDict, total=False):
    exporter: str
    importer: str
    party: str


WIDE = Span(since=datetime(2000, 1, 1, tzinfo=UTC), until=datetime(2100, 1, 1, tzinfo=UTC))


def _decision(outcome: str, rules: tuple[str, ...], origin: str, destination: str) -> Decision:
    return Decision(
        outcome=outcome,  # type: ignore[arg-type]
        rule_ids=rules,
        facts={"origin": origin, "destination": destination},
    )


def made(
    bid: str,
    at: datetime,
    decisions: list[Decision],
    *,
    exporter: str = "p_ex",
    importer: str = "p_im",
    index: int | None = 0,
) -> BatchResult:
    outcomes = {o: sum(d.outcome == o for d in decisions) for o in OUTCOMES}
    return BatchResult(
        batch_id=bid,
        exporter=exporter,
        importer=importer,
        product="logistics.waybill",
        purpose="contract_performance",
        records=len(decisions),
        outcomes=outcomes,
        decisions=tuple(decisions),
        envelope_id=None,
        held_id=None,
        ledger_index=index,
        policy_version="v1",
        committed_at=at,
    )


def test_by_hand(store: Store) -> None:
    vn = ("CN", "VN")
    store.put_batch_result(
        made(
            "b1",
            T0,
            [_decision("allow", ("r.a",), *vn)] * 3 + [_decision("hold", ("r.h",), *vn)],
            index=4,
        )
    )
    store.put_batch_result(
        made(
            "b2",
            T0 + timedelta(hours=3),
            [_decision("allow", ("r.a", "r.t"), "CN", "TH")],
            exporter="p_other",
            index=9,
        )
    )
    store.put_batch_result(
        made("b3", T0 + timedelta(minutes=5), [_decision("hold", ("r.h",), *vn)], index=6)
    )
    flows = store.flow_counts(**WIDE)
    assert flows == [
        FlowCount(
            day=date(2026, 3, 1),
            origin="CN",
            destination="VN",
            outcome="allow",
            batches=1,
            records=3,
        ),
        FlowCount(
            day=date(2026, 3, 1),
            origin="CN",
            destination="VN",
            outcome="hold",
            batches=2,
            records=2,
        ),
        FlowCount(
            day=date(2026, 3, 2),
            origin="CN",
            destination="TH",
            outcome="allow",
            batches=1,
            records=1,
        ),
    ]
    assert store.rule_counts(**WIDE) == [
        RuleCount(origin="CN", rule_id="r.a", records=4, batches=2),
        RuleCount(origin="CN", rule_id="r.h", records=2, batches=2),
        RuleCount(origin="CN", rule_id="r.t", records=1, batches=1),
    ]
    assert store.ledger_growth(**WIDE, bucket_seconds=86400, limit=10) == [
        SizePoint(time=datetime(2026, 3, 1, tzinfo=UTC), size=7),
        SizePoint(time=datetime(2026, 3, 2, tzinfo=UTC), size=10),
    ]
    assert store.ledger_growth(**WIDE, bucket_seconds=3600, limit=10) == [
        SizePoint(time=datetime(2026, 3, 1, 22, tzinfo=UTC), size=7),
        SizePoint(time=datetime(2026, 3, 2, 1, tzinfo=UTC), size=10),
    ]
    # filters and the time window
    assert [f.records for f in store.flow_counts(**WIDE, exporter="p_other")] == [1]
    assert store.flow_counts(**WIDE, importer="nobody") == []
    assert [f.outcome for f in store.flow_counts(**WIDE, party="p_im")] == [
        "allow",
        "hold",
        "allow",
    ]
    day2 = datetime(2026, 3, 2, tzinfo=UTC)
    assert [f.day for f in store.flow_counts(since=day2, until=WIDE["until"])] == [day2.date()]
    assert store.flow_counts(since=T0, until=T0) == []  # until is exclusive
    first = store.rule_counts(since=T0, until=T0 + timedelta(minutes=1))
    assert first == [
        RuleCount(origin="CN", rule_id="r.a", records=3, batches=1),
        RuleCount(origin="CN", rule_id="r.h", records=1, batches=1),
    ]


def test_replacing_a_batch_replaces_its_rows(store: Store) -> None:
    store.put_batch_result(made("b1", T0, [_decision("hold", ("r.h",), "CN", "VN")] * 2))
    store.put_batch_result(made("b1", T0, [_decision("allow", ("r.a",), "CN", "VN")], index=3))
    assert [(f.outcome, f.batches, f.records) for f in store.flow_counts(**WIDE)] == [
        ("allow", 1, 1)
    ]
    assert [r.rule_id for r in store.rule_counts(**WIDE)] == ["r.a"]
    assert [p.size for p in store.ledger_growth(**WIDE, bucket_seconds=60, limit=5)] == [4]
    assert [p.size for p in store.ledger_growth(**WIDE, bucket_seconds=3600, limit=5)] == [4]
    # again, a day later and with a smaller index: the old day and hour forget it
    later = T0 + timedelta(days=1, minutes=7)
    store.put_batch_result(made("b1", later, [_decision("deny", ("r.d",), "CN", "TH")], index=1))
    store.put_batch_result(made("b2", T0, [_decision("allow", ("r.a",), "CN", "VN")], index=0))
    assert [(f.day, f.outcome, f.batches) for f in store.flow_counts(**WIDE)] == [
        (T0.date(), "allow", 1),
        (later.date(), "deny", 1),
    ]
    assert [(r.rule_id, r.batches) for r in store.rule_counts(**WIDE)] == [("r.a", 1), ("r.d", 1)]
    for bucket in (3600, 86400):
        growth = store.ledger_growth(**WIDE, bucket_seconds=bucket, limit=5)
        assert [p.size for p in growth] == [1, 2]


def test_a_failed_transaction_leaves_no_rows(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.put_batch_result(made("b1", T0, [_decision("allow", ("r.a",), "CN", "VN")]))
        raise RuntimeError("abort")
    assert store.flow_counts(**WIDE) == [] and store.rule_counts(**WIDE) == []


def test_equal_to_the_pure_grouping_with_paging(store: Store) -> None:
    rng = random.Random(7)
    corridors = [("CN", "VN"), ("CN", "TH"), ("VN", "CN"), ("CN", "MY")]
    rules = ["cn.a", "cn.b", "cn.b-x", "cn.B", "vn.c", "gate.no-agreement"]
    results = [_random_batch(rng, f"b{i}", i, corridors, rules) for i in range(60)]
    for result in results:
        store.put_batch_result(result)
    # some batches put again, changed (another day, outcome, rules, index): the totals
    # must forget what they said before
    for i in rng.sample(range(60), 12):
        results[i] = _random_batch(rng, f"b{i}", 60 + i, corridors, rules)
        store.put_batch_result(results[i])
    flows = [row for r in results for row in flow_rows(r)]
    fired = [row for r in results for row in rule_rows(r)]
    window = Span(since=T0 + timedelta(days=1), until=T0 + timedelta(days=4))
    days = Span(since=datetime(2026, 3, 2, tzinfo=UTC), until=datetime(2026, 3, 5, tzinfo=UTC))
    hours = Span(since=T0 + timedelta(hours=5), until=T0 + timedelta(hours=50))
    narrowings: list[Narrow] = [
        {},
        {"exporter": "e1"},
        {"importer": "i2"},
        {"party": "e2"},
        {"exporter": "e1", "importer": "i1"},
    ]
    for narrowing in narrowings:
        for span in (WIDE, window, days, hours):
            expected = group_flows(flows, **span, **narrowing)
            assert store.flow_counts(**span, **narrowing, limit=10_000) == expected
            pages = [
                store.flow_counts(**span, **narrowing, limit=7, offset=o)
                for o in range(0, len(expected) + 7, 7)
            ]
            assert [f for page in pages for f in page] == expected
            ranked = group_rules(fired, **span, **narrowing)
            assert store.rule_counts(**span, **narrowing, limit=100) == ranked
            assert store.rule_counts(**span, **narrowing, limit=2, offset=1) == ranked[1:3]
    assert sum(f.records for f in store.flow_counts(**WIDE, limit=10_000)) == sum(
        r.records for r in results
    )
    for bucket in (60, 3600, 7200, 86400):
        for span in (WIDE, window, days, hours):
            grown = group_growth(flows, **span, bucket_us=bucket * 10**6)
            assert store.ledger_growth(**span, bucket_seconds=bucket, limit=10_000) == grown
            paged = store.ledger_growth(**span, bucket_seconds=bucket, limit=3, offset=2)
            assert paged == grown[2:5]


def _random_batch(
    rng: random.Random, bid: str, index: int, corridors: list[tuple[str, str]], rules: list[str]
) -> BatchResult:
    origin, destination = rng.choice(corridors)
    decisions = [
        _decision(
            rng.choice(OUTCOMES), tuple(rng.sample(rules, rng.randint(1, 2))), origin, destination
        )
        for _ in range(rng.randint(1, 6))
    ]
    at = T0 + timedelta(hours=rng.randint(0, 24 * 5), minutes=rng.randint(0, 59))
    exporter, importer = rng.choice(["e1", "e2"]), rng.choice(["i1", "i2"])
    return made(bid, at, decisions, exporter=exporter, importer=importer, index=index)


def test_bad_arguments_are_refused(store: Store) -> None:
    with pytest.raises(StoreError):
        store.flow_counts(**WIDE, limit=-1)
    with pytest.raises(StoreError):
        store.rule_counts(**WIDE, offset=-1)
    with pytest.raises(StoreError):
        store.ledger_growth(**WIDE, bucket_seconds=0, limit=5)
