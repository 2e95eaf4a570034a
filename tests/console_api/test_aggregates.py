"""The console's aggregates (/v1/console/corridors, /rules, /ledger-history) on demo traffic
spread over several days, on the SQLite and the memory store: each equals the same numbers
computed from the full lists a client can page through (batches, per-record decisions,
participants), each role sees exactly its own share, and everyone else is refused."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from api.cast import BASE_URL

from console_api.demo import EXPORTERS, IMPORTERS, OPERATOR, REGULATOR, DemoHub, demo_hub
from silkgate.api.wire import BatchSummary
from silkgate.client import SilkgateClient
from silkgate.model import OUTCOMES
from silkgate.seal.keys import create_keyring
from silkgate.store.stats import DAY_US

SINCE, UNTIL = "2026-05-01", "2026-07-01"


@pytest.fixture(scope="module", params=["sqlite", "memory"])
def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoHub]:
    with demo_hub(tmp_path_factory.mktemp(request.param), request.param) as made:
        yield made


def _get(demo: DemoHub, who: str, path: str, **params: Any) -> Any:
    answer = demo.clients[who].request("GET", path, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _paged(demo: DemoHub, who: str, path: str, key: str, page: int, **params: Any) -> list[Any]:
    found: list[Any] = []
    while True:
        got = _get(demo, who, path, limit=page, offset=len(found), **params)[key]
        found += got
        if len(got) < page:
            return found


def _all_batches(demo: DemoHub, who: str) -> list[BatchSummary]:
    client = demo.clients[who]
    found: list[BatchSummary] = []
    while page := client.list_batches(limit=100, offset=len(found)).batches:
        found += page
    return found


def _jurisdictions(demo: DemoHub) -> dict[str, str]:
    return {p.id: p.jurisdiction for p in demo.clients[REGULATOR].participants()}


def _day(at: datetime) -> str:
    return at.astimezone(UTC).date().isoformat()


def expected_flows(demo: DemoHub, batches: list[BatchSummary]) -> list[dict[str, Any]]:
    where = _jurisdictions(demo)
    counted: Counter[tuple[str, str, str, str]] = Counter()
    records: Counter[tuple[str, str, str, str]] = Counter()
    for b in batches:
        for outcome in OUTCOMES:
            if b.outcomes.get(outcome, 0):
                key = (_day(b.committed_at), where[b.exporter], where[b.importer], outcome)
                counted[key] += 1
                records[key] += b.outcomes[outcome]
    return [
        {
            "day": k[0],
            "origin": k[1],
            "destination": k[2],
            "outcome": k[3],
            "batches": n,
            "records": records[k],
        }
        for k, n in sorted(counted.items())
    ]


def expected_rules(
    demo: DemoHub, batches: list[BatchSummary]
) -> dict[tuple[str, str], tuple[int, int]]:
    where = _jurisdictions(demo)
    records: Counter[tuple[str, str]] = Counter()
    batches_of: Counter[tuple[str, str]] = Counter()
    for b in batches:
        full = demo.clients[REGULATOR].get_batch(b.batch_id)
        fired = Counter(r for d in full.decisions for r in dict.fromkeys(d.rule_ids))
        for rule_id, n in fired.items():
            records[(where[b.exporter], rule_id)] += n
            batches_of[(where[b.exporter], rule_id)] += 1
    return {k: (records[k], batches_of[k]) for k in records}


def test_the_traffic_spans_days_corridors_and_outcomes(demo: DemoHub) -> None:
    batches = _all_batches(demo, REGULATOR)
    assert len(batches) == len(demo.results) > 10
    assert len({_day(b.committed_at) for b in batches}) >= 3
    flows = expected_flows(demo, batches)
    assert len({f["destination"] for f in flows}) >= 3
    assert len({f["outcome"] for f in flows}) >= 2


def test_corridors_equal_the_batch_list(demo: DemoHub) -> None:
    batches = _all_batches(demo, REGULATOR)
    rows = _paged(demo, REGULATOR, "/v1/console/corridors", "rows", 7, since=SINCE, until=UNTIL)
    assert rows == expected_flows(demo, batches)
    assert sum(r["records"] for r in rows) == sum(b.records for b in batches)


def test_corridors_window_is_utc_days_until_exclusive(demo: DemoHub) -> None:
    days = sorted({_day(b.committed_at) for b in _all_batches(demo, REGULATOR)})
    middle = days[1]
    answer = _get(
        demo,
        REGULATOR,
        "/v1/console/corridors",
        since=middle,
        until=(date.fromisoformat(middle) + timedelta(days=1)).isoformat(),
    )
    assert answer["since"] == middle and answer["rows"]
    assert {r["day"] for r in answer["rows"]} == {middle}
    batches = [b for b in _all_batches(demo, REGULATOR) if _day(b.committed_at) == middle]
    assert answer["rows"] == expected_flows(demo, batches)


def test_default_window_is_the_last_30_days(demo: DemoHub) -> None:
    answer = _get(demo, REGULATOR, "/v1/console/corridors")
    today = demo.clock().date()
    assert answer["until"] == (today + timedelta(days=1)).isoformat()
    assert answer["since"] == (today - timedelta(days=29)).isoformat()
    assert (
        answer["rows"]
        == _get(
            demo, REGULATOR, "/v1/console/corridors", since=answer["since"], until=answer["until"]
        )["rows"]
    )


def test_rules_equal_the_decisions(demo: DemoHub) -> None:
    batches = _all_batches(demo, REGULATOR)
    expected = expected_rules(demo, batches)
    rules = _paged(demo, REGULATOR, "/v1/console/rules", "rules", 3, since=SINCE, until=UNTIL)
    assert {(r["origin"], r["rule_id"]): (r["records"], r["batches"]) for r in rules} == expected
    assert [r["records"] for r in rules] == sorted((r["records"] for r in rules), reverse=True)
    engine = demo.hub.live_engine()
    for rule in rules:
        found = [x for c in engine.chains.values() for x in c.rules if x.id == rule["rule_id"]]
        if rule["rule_id"].startswith("gate."):
            assert rule["pack"] == "gate"
        else:
            assert found and rule["pack"] == found[0].pack and rule["title"] == found[0].title
    top = _get(demo, REGULATOR, "/v1/console/rules", since=SINCE, until=UNTIL)
    assert top["limit"] == 20 and top["rules"] == rules[:20]


@pytest.mark.parametrize("party", [*EXPORTERS, *IMPORTERS])
def test_a_party_sees_exactly_its_own_batches(demo: DemoHub, party: str) -> None:
    own = _all_batches(demo, party)
    assert own and all(party in (b.exporter, b.importer) for b in own)
    rows = _paged(demo, party, "/v1/console/corridors", "rows", 50, since=SINCE, until=UNTIL)
    assert rows == expected_flows(demo, own)
    everyone = _paged(
        demo, REGULATOR, "/v1/console/corridors", "rows", 500, since=SINCE, until=UNTIL
    )
    assert sum(r["records"] for r in rows) < sum(r["records"] for r in everyone)
    rules = _paged(demo, party, "/v1/console/rules", "rules", 50, since=SINCE, until=UNTIL)
    expected = expected_rules(demo, own)
    assert {(r["origin"], r["rule_id"]): (r["records"], r["batches"]) for r in rules} == expected


def test_a_regulator_may_narrow_to_one_party(demo: DemoHub) -> None:
    exporter = EXPORTERS[0]
    rows = _paged(
        demo,
        REGULATOR,
        "/v1/console/corridors",
        "rows",
        100,
        since=SINCE,
        until=UNTIL,
        exporter=exporter,
    )
    own = [b for b in _all_batches(demo, REGULATOR) if b.exporter == exporter]
    assert rows == expected_flows(demo, own)


@pytest.mark.parametrize("path", ["/v1/console/corridors", "/v1/console/rules"])
def test_others_are_refused(demo: DemoHub, path: str) -> None:
    exporter, other = EXPORTERS[0], EXPORTERS[1]
    client = demo.clients
    # the operator runs the hub but does not read the traffic
    assert client[OPERATOR].request("GET", path, check=False).status_code == 403
    # a party naming another party
    refused = client[exporter].request("GET", path, params={"exporter": other}, check=False)
    assert refused.status_code == 403 and other in refused.json()["message"]
    importer = IMPORTERS[0]
    asked = client[importer].request("GET", path, params={"importer": IMPORTERS[1]}, check=False)
    assert asked.status_code == 403
    # naming itself is fine
    assert client[exporter].request("GET", path, params={"exporter": exporter}).status_code == 200
    # unsigned, and signed by a key nobody registered
    assert demo.http.get(path).status_code == 401
    forged = SilkgateClient(
        BASE_URL,
        create_keyring(REGULATOR, demo.clock() - timedelta(days=1)),
        http=demo.http,
        clock=demo.clock,
    )
    assert forged.request("GET", path, check=False).status_code == 401


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"since": "2026-06-10", "until": "2026-06-10"}, 422),
        ({"since": "2026-06-11", "until": "2026-06-10"}, 422),
        ({"since": "2025-01-01", "until": "2026-06-10"}, 422),
        ({"since": "yesterday"}, 422),
        ({"limit": 0}, 422),
        ({"limit": 100_000}, 422),
        ({"offset": -1}, 422),
    ],
)
def test_bad_windows_and_pages_are_refused(
    demo: DemoHub, params: dict[str, Any], status: int
) -> None:
    for path in ("/v1/console/corridors", "/v1/console/rules"):
        answer = demo.clients[REGULATOR].request("GET", path, params=params, check=False)
        assert answer.status_code == status, (path, params, answer.text)


def test_ledger_history_is_public_and_exact(demo: DemoHub) -> None:
    batches = _all_batches(demo, REGULATOR)
    top: dict[int, int] = {}
    for b in batches:
        assert b.ledger_index is not None
        bucket = int(b.committed_at.timestamp() * 10**6) // DAY_US
        top[bucket] = max(top.get(bucket, -1), b.ledger_index)
    expected = [
        {
            "time": datetime.fromtimestamp(k * 86400, UTC).isoformat().replace("+00:00", "Z"),
            "size": v + 1,
        }
        for k, v in sorted(top.items())
    ]
    params = {"since": "2026-05-01T00:00:00Z", "until": "2026-07-01T00:00:00Z"}
    answer = demo.http.get("/v1/console/ledger-history", params=params)  # no signature
    assert answer.status_code == 200
    body = answer.json()
    assert body["points"] == expected
    assert body["size"] == demo.http.get("/v1/health").json()["ledger_size"]
    assert body["size"] >= expected[-1]["size"]
    sizes = [p["size"] for p in body["points"]]
    assert sizes == sorted(sizes)
    # paging, and hourly buckets hold one point per batch here (batches are hours apart)
    hourly = demo.http.get(
        "/v1/console/ledger-history", params={**params, "bucket": "hour", "limit": 5, "offset": 2}
    )
    ordered = sorted(batches, key=lambda b: b.committed_at)
    assert [p["size"] for p in hourly.json()["points"]] == [
        b.ledger_index + 1 for b in ordered[2:7] if b.ledger_index is not None
    ]
    for bad in (
        {"bucket": "week"},
        {"since": "2026-06-02T00:00:00"},
        {"since": "2026-06-02T00:00:00Z", "until": "2026-06-01T00:00:00Z"},
    ):
        assert demo.http.get("/v1/console/ledger-history", params=bad).status_code == 422


def test_whoami_says_who_and_which_key(demo: DemoHub) -> None:
    for pid in (REGULATOR, EXPORTERS[0], IMPORTERS[0], OPERATOR):
        client = demo.clients[pid]
        me = client.whoami()
        participant = demo.hub.store.get_participant(pid)
        assert me["id"] == pid and me["roles"] == list(participant.roles)
        assert me["key_id"] == client.keys.current_signing(demo.clock())[0]
        assert me["name"] == participant.name and me["jurisdiction"] == participant.jurisdiction
        assert me["active"] is True
    assert demo.http.get("/v1/whoami").status_code == 401
