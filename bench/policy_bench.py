"""Policy evaluator speed: record decisions per second on a demo-like mix, one core.

    python bench/policy_bench.py [--records N] [--batch B]

The mix follows the demo: EPCIS events without PI, waybills for logistics operations (some
with an ID number), orders for contract performance, customs declarations. Findings are
built fresh per record, as the classifier would, so the shape cache is exercised honestly.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import cast

from silkgate.counters import MemoryCounters
from silkgate.model import Agreement, Filing, Finding, FindingType, Participant, Purpose
from silkgate.policy import BatchContext, PolicyEngine, RecordInput

DAY = date(2026, 6, 1)
KEY = b"bench-subject-key"


@dataclass(frozen=True)
class Flow:
    name: str
    product: str
    purpose: str
    shapes: tuple[tuple[tuple[str, str], ...], ...]  # alternative finding sets (path, type)
    filed: bool = False


NAME = ("$['consignee']['name']", "person_name")
ID_NUMBER = ("$['consignee']['id_number']", "national_id")
WAYBILL = (NAME, ("$['consignee']['phone']", "phone"), ("$['consignee']['address']", "address"))
DECLARATION = (NAME, ID_NUMBER)
FLOWS = (
    Flow("epcis", "logistics.epcis-event", "logistics_operations", ((),)),
    Flow("waybill", "logistics.waybill", "logistics_operations",
         (WAYBILL, WAYBILL, WAYBILL, (*WAYBILL, ID_NUMBER))),
    Flow("order", "ecommerce.order", "contract_performance",
         ((("$['buyer']['name']", "person_name"), ("$['buyer']['email']", "email"),
           ("$['shipping_address']['line1']", "address"),
           ("$['payment']['card_number']", "bank_card")),)),
    Flow("declaration", "customs.declaration", "customs_clearance", (DECLARATION,)),
    Flow("declaration-filed", "customs.declaration", "customs_clearance", (DECLARATION,),
         filed=True),
)  # fmt: skip


def _context(flow: Flow) -> BatchContext:
    exporter = Participant(id="nn-forwarder", name="Nanning Forwarder", jurisdiction="CN",
                           roles=("exporter",))  # fmt: skip
    importer = Participant(id="hn-carrier", name="Hanoi Carrier", jurisdiction="VN",
                           roles=("importer",))  # fmt: skip
    agreement = Agreement(
        id="a1", exporter=exporter.id, importer=importer.id, product=flow.product,
        purpose=cast(Purpose, flow.purpose), instrument="cn_standard_contract",
        valid_from=date(2026, 1, 1),
    )  # fmt: skip
    filing = Filing(id="f1", exporter=exporter.id, kind="standard_contract",
                    recipient=importer.id, valid_from=date(2026, 1, 1))  # fmt: skip
    filings = (filing,) if flow.filed else ()
    return BatchContext(exporter, importer, flow.product, flow.purpose, agreement, filings, DAY)


def _records(flow: Flow, n: int, rng: random.Random) -> list[RecordInput]:
    out = []
    for _ in range(n):
        shape = rng.choice(flow.shapes)
        findings = tuple(
            Finding(path=p, type=cast(FindingType, t), detector="bench") for p, t in shape
        )
        subjects = (f"phone:+84{rng.randrange(10**9):09d}",) if shape else ()
        out.append(RecordInput(findings, subjects))
    return out


def run(records: int, batch: int, seed: int = 7) -> list[tuple[str, int, float, Counter[str]]]:
    rng = random.Random(seed)
    engine = PolicyEngine.default()
    rows = []
    for flow in FLOWS:
        ctx = _context(flow)
        batches = [
            _records(flow, batch, rng) for _ in range(max(1, records // len(FLOWS) // batch))
        ]
        counters = MemoryCounters()
        outcomes: Counter[str] = Counter()
        start = time.perf_counter()
        for recs in batches:
            result = engine.decide_batch(ctx, recs, counters, KEY)
            counters.commit(ctx.exporter.id, DAY.year, result.counted)
            outcomes.update(d.outcome for d in result.decisions)
        elapsed = time.perf_counter() - start
        rows.append((flow.name, sum(len(b) for b in batches), elapsed, outcomes))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--records", type=int, default=400_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    rows = run(args.records, args.batch)
    print(f"{'flow':<20}{'records':>10}{'seconds':>10}{'decisions/s':>14}  outcomes")
    total_n, total_s = 0, 0.0
    for name, n, secs, outcomes in rows:
        total_n, total_s = total_n + n, total_s + secs
        mix = ", ".join(f"{k}={v}" for k, v in sorted(outcomes.items()))
        print(f"{name:<20}{n:>10}{secs:>10.3f}{n / secs:>14,.0f}  {mix}")
    print(f"{'all (demo mix)':<20}{total_n:>10}{total_s:>10.3f}{total_n / total_s:>14,.0f}")


if __name__ == "__main__":
    main()
