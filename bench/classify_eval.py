"""Classification accuracy and speed on a labelled set of corridor records.

    python bench/classify_eval.py            # build bench/data/classify_eval.ndjson, evaluate
    python bench/classify_eval.py --reuse    # evaluate the committed set as is

Prints precision and recall per finding type, findings on business-identifier-only records
(must be zero), and records/s on one core next to the floor (orjson loads + dumps of the same
records) with the ratio, each the best of five rounds, with the machine's load average.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from silkgate.classify import Classifier
from silkgate.demo import synth
from silkgate.model import FINDING_TYPES
from silkgate.products import get_product

DATA = Path(__file__).parent / "data" / "classify_eval.ndjson"
Case = dict[str, Any]


def _case(
    category: str, product: str, record: dict[str, Any], labels: list[tuple[str, str]]
) -> Case:
    return {
        "category": category,
        "product": product,
        "record": record,
        "labels": sorted({(p, t) for p, t in labels}),
    }


# ------------------------------------------------------------------ extra cases


def _opaque(rng: random.Random, pools: synth.Pools) -> Case:
    """Values under meaningless keys: only content can tell."""
    record: dict[str, Any] = {}
    labels: list[tuple[str, str]] = []
    country = rng.choice((*synth.DESTINATIONS, "CN"))
    person = rng.choice(pools.people[country])
    options: list[tuple[str, Callable[[], str]]] = [
        ("phone", lambda: synth.make_phone(rng, country)),
        ("email", lambda: person.email),
        (
            "national_id",
            lambda: rng.choice((synth.cn_resident_id, synth.sg_nric, synth.id_nik))(rng),
        ),
        ("bank_card", lambda: synth.bank_card(rng)),
        (
            "ip_address",
            lambda: rng.choice(
                (
                    ".".join(str(rng.randint(1, 223)) for _ in range(4)),
                    f"2001:db8:{rng.randint(0, 0xFFFF):x}::{rng.randint(1, 0xFFFF):x}",
                )
            ),
        ),
        (
            "precise_location",
            lambda: rng.choice(
                (
                    f"{rng.uniform(1, 23):.6f}, {rng.uniform(98, 110):.6f}",
                    f"geo:{rng.uniform(1, 23):.5f},{rng.uniform(98, 110):.5f}",
                )
            ),
        ),
        ("person_name", lambda: person.name),
        ("address", lambda: person.address),
    ]
    for i, (ftype, make) in enumerate(rng.sample(options, rng.randint(2, 4))):
        key = rng.choice(("f", "x_", "col", "v")) + str(10 * i + rng.randint(1, 9))
        record[key] = make()
        labels.append((f"$['{key}']", ftype))
    record["x_99"] = rng.choice((synth.sscc(rng), synth.gtin13(rng), synth.container_no(rng)))
    return _case("opaque_keys", "generic.json", record, labels)


def _free_text(rng: random.Random, pools: synth.Pools) -> Case:
    """Remarks in the corridor's languages with identifiers that need nearby words."""
    country = rng.choice((*synth.DESTINATIONS, "CN"))
    person = rng.choice(pools.people[country])
    ftype, text = rng.choice(_FREE_TEXT)(rng, person, country)
    labels = [("$['remark']", t) for t in ftype]
    return _case("free_text", "generic.json", {"remark": text, "ref": synth.s10(rng)}, labels)


def _ft_passport(rng: random.Random, p: synth.Person, c: str) -> tuple[list[str], str]:
    code = synth.passport(rng, c)
    words = {
        "CN": "护照号码 {}",
        "VN": "Số hộ chiếu {}",
        "TH": "หนังสือเดินทาง {}",
        "ID": "Nomor paspor {}",
        "MY": "Passport no. {}",
        "SG": "Passport {}",
    }
    return ["passport"], words[c].format(code)


def _ft_dob(rng: random.Random, p: synth.Person, c: str) -> tuple[list[str], str]:
    y, m, d = rng.randint(1955, 2004), rng.randint(1, 12), rng.randint(1, 28)
    words = {
        "CN": f"出生日期 {y}年{m}月{d}日",
        "VN": f"Ngày sinh: {d:02d}/{m:02d}/{y}",
        "TH": f"วันเกิด {d:02d}/{m:02d}/{y}",
        "ID": f"Tanggal lahir {d:02d}-{m:02d}-{y}",
        "MY": f"Tarikh lahir {d:02d}/{m:02d}/{y}",
        "SG": f"DOB {y}-{m:02d}-{d:02d}",
    }
    return ["date_of_birth"], words[c]


def _ft_account(rng: random.Random, p: synth.Person, c: str) -> tuple[list[str], str]:
    acct = "".join(str(rng.randint(0, 9)) for _ in range(rng.randint(9, 14)))
    words = {
        "CN": "退款账号 {}",
        "VN": "Số tài khoản {}",
        "TH": "เลขบัญชี {}",
        "ID": "No. rekening {}",
        "MY": "Akaun bank {}",
        "SG": "Refund to account {}",
    }
    return ["bank_account"], words[c].format(acct)


def _ft_phone(rng: random.Random, p: synth.Person, c: str) -> tuple[list[str], str]:
    return ["phone"], synth._PHONE_REMARKS[c].format(phone=p.phone)


def _ft_name_phone(rng: random.Random, p: synth.Person, c: str) -> tuple[list[str], str]:
    name = p.name.split(" bin")[0] if c == "MY" else p.name
    return ["person_name", "phone"], synth._NAME_REMARKS[c].format(name=name, phone=p.phone)


def _ft_id(rng: random.Random, p: synth.Person, c: str) -> tuple[list[str], str]:
    return ["national_id"], synth._ID_REMARKS[c].format(id=synth.national_id_for(rng, c))


def _ft_email(rng: random.Random, p: synth.Person, c: str) -> tuple[list[str], str]:
    return ["email"], f"Invoice to {p.email} please"


def _ft_plate(rng: random.Random, p: synth.Person, c: str) -> tuple[list[str], str]:
    if rng.random() < 0.5:
        return ["vehicle_plate"], f"司机车牌桂A{rng.randint(10000, 99999)}，已出发"
    return [
        "vehicle_plate"
    ], f"Xe biển số {rng.randint(11, 99)}C-{rng.randint(100, 999)}.{rng.randint(10, 99)} đang giao"


def _ft_address(rng: random.Random, p: synth.Person, c: str) -> tuple[list[str], str]:
    lead = {
        "CN": "改送到：",
        "VN": "Giao tới: ",
        "TH": "ส่งที่ ",
        "ID": "Kirim ke ",
        "MY": "Hantar ke ",
        "SG": "Send to ",
    }
    return ["address"], lead[c] + p.address


_FREE_TEXT = (
    _ft_passport,
    _ft_dob,
    _ft_account,
    _ft_phone,
    _ft_name_phone,
    _ft_id,
    _ft_email,
    _ft_plate,
    _ft_address,
)


def _business_only(rng: random.Random, pools: synth.Pools) -> Case:
    """Only business identifiers, with valid check digits, under plain and opaque keys and
    in sentences."""
    values = [
        synth.sscc(rng),
        synth.gtin13(rng),
        synth.gln(rng),
        synth.container_no(rng),
        synth.s10(rng),
        synth.carrier_waybill(rng)[1],
        synth.hs_code(rng),
        synth.uscc(rng),
        synth.uen(rng),
        f"SO{rng.randint(2026000000, 2026999999)}{rng.randint(1000, 9999)}",
        str(rng.randint(1_700_000_000, 1_800_000_000)),
        str(rng.randint(1_700_000_000_000, 1_800_000_000_000)),
        f"{rng.uniform(1, 9999):.2f}",
        synth._epc(rng),
        f"https://id.gs1.org/01/0{synth.gtin13(rng)}/21/{rng.randint(1000, 99999)}",
    ]
    record: dict[str, Any] = {}
    for i, v in enumerate(rng.sample(values, 8)):
        key = rng.choice((f"f{i}", f"ref_{i}", f"code{i}", f"x_{i}"))
        record[key] = v
    record["note"] = rng.choice(
        (
            f"Container {synth.container_no(rng)} at Qinzhou, seal {rng.randint(10**5, 10**6)}",
            f"HS {synth.hs_code(rng)} declared; waybill {synth.s10(rng)}; {rng.randint(2, 40)} cs",
            f"订单 SO{rng.randint(2026000000, 2026999999)} 已发货，"
            f"运单号 {synth.carrier_waybill(rng)[1]}",
            f"Mã vận đơn {synth.carrier_waybill(rng)[1]}, SSCC {synth.sscc(rng)}",
            f"Seller USCC {synth.uscc(rng)}, UEN {synth.uen(rng)}, GLN {synth.gln(rng)}",
            f"Total {rng.uniform(10, 9999):.2f} CNY, weight {rng.uniform(1, 50):.1f} kg, "
            f"at {rng.randint(1_700_000_000, 1_800_000_000)}",
        )
    )
    return _case("business_only", "generic.json", record, [])


def build(seed: int = 20261128) -> list[Case]:
    rng = random.Random(seed)
    pools = synth.Pools(seed)
    cases: list[Case] = []
    for s in synth.generate(1300, seed=seed):
        cat = "epcis" if s.product == "logistics.epcis-event" else s.product.split(".")[-1]
        cases.append(_case(cat, s.product, s.record, list(s.labels)))
    # The same product records with no product: key names and content alone.
    for s in synth.generate(300, seed=seed + 7, kinds=("waybill", "order", "declaration")):
        cases.append(
            _case("generic_" + s.product.split(".")[-1], "generic.json", s.record, list(s.labels))
        )
    cases += [_opaque(rng, pools) for _ in range(350)]
    cases += [_free_text(rng, pools) for _ in range(400)]
    cases += [_business_only(rng, pools) for _ in range(300)]
    return cases


# ------------------------------------------------------------------ evaluation


def evaluate(cases: list[Case]) -> tuple[dict[str, Counter[str]], dict[str, int], list[str]]:
    classifiers = {
        pid: Classifier(None if pid == "generic.json" else get_product(pid))
        for pid in {c["product"] for c in cases}
    }
    stats: dict[str, Counter[str]] = defaultdict(Counter)
    business_findings: dict[str, int] = Counter()
    errors: list[str] = []
    for i, case in enumerate(cases):
        rc = classifiers[case["product"]].classify(case["record"])
        got = {(f.path, f.type) for f in rc.findings}
        want = {(p, t) for p, t in case["labels"]}
        if case["category"] == "business_only":
            business_findings["records"] += 1
            business_findings["findings"] += len(rc.findings)
        for _, t in got & want:
            stats[t]["tp"] += 1
        for p, t in got - want:
            stats[t]["fp"] += 1
            errors.append(f"FP {case['category']} #{i} {t} {p}: {_at(case['record'], p)!r}")
        for p, t in want - got:
            stats[t]["fn"] += 1
            errors.append(f"FN {case['category']} #{i} {t} {p}: {_at(case['record'], p)!r}")
    return stats, business_findings, errors


def _at(record: Any, path: str) -> Any:
    from silkgate.classify.paths import parse_pattern

    value = record
    for part in parse_pattern(path):
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            return None
    return value


def _speed(
    lines: list[bytes], records: list[Any], products: list[str], rounds: int = 5
) -> tuple[float, float]:
    """Best-of-rounds seconds for the floor (orjson loads + dumps) and for classification,
    interleaved so both see the same machine load. The first round also warms the
    classifier's caches (key plans, strings known to hold nothing), as a long run would."""
    classifiers = {
        pid: Classifier(None if pid == "generic.json" else get_product(pid))
        for pid in set(products)
    }
    pairs = [(classifiers[p], r) for p, r in zip(products, records, strict=True)]
    floor = classify = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        for line in lines:
            orjson.dumps(orjson.loads(line))
        floor = min(floor, time.perf_counter() - t0)
        t0 = time.perf_counter()
        for clf, rec in pairs:
            clf.classify(rec)
        classify = min(classify, time.perf_counter() - t0)
    return floor, classify


def _print_speed(title: str, lines: list[bytes], records: list[Any], products: list[str]) -> None:
    floor, classify = _speed(lines, records, products)
    n = len(records)
    load = os.getloadavg()[0]  # the machine is shared: say how busy it was
    print(f"\n{title}: {n} records, {sum(len(x) for x in lines) / n:.0f} bytes/record")
    print(f"load average (1 min) before timing: {load:.2f}")
    print("| | records/s | µs/record |\n|---|---:|---:|")
    print(f"| floor: orjson loads + dumps | {n / floor:,.0f} | {floor / n * 1e6:.2f} |")
    print(f"| silkgate classify | {n / classify:,.0f} | {classify / n * 1e6:.2f} |")
    print(f"ratio classify / floor: {classify / floor:.1f}x")


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--reuse", action="store_true", help="evaluate the existing data file")
    ap.add_argument("--errors", type=int, default=0, help="print this many misclassifications")
    args = ap.parse_args()
    if args.reuse and DATA.exists():
        cases = [orjson.loads(line) for line in DATA.read_bytes().splitlines()]
    else:
        cases = build()
        DATA.parent.mkdir(parents=True, exist_ok=True)
        DATA.write_bytes(b"".join(orjson.dumps(c) + b"\n" for c in cases))
    print(
        f"evaluation set: {len(cases)} records ({DATA.name}); "
        + ", ".join(f"{k} {v}" for k, v in sorted(Counter(c["category"] for c in cases).items()))
    )
    stats, business, errors = evaluate(cases)
    print("\n| type | labels | found | precision | recall |\n|---|---:|---:|---:|---:|")
    for t in FINDING_TYPES:
        s = stats.get(t)
        if not s:
            continue
        tp, fp, fn = s["tp"], s["fp"], s["fn"]
        prec = tp / (tp + fp) if tp + fp else 1.0
        rec = tp / (tp + fn) if tp + fn else 1.0
        print(f"| {t} | {tp + fn} | {tp + fp} | {prec:.3f} | {rec:.3f} |")
    print(
        f"\nbusiness-identifier-only records: {business['records']}, "
        f"findings on them: {business['findings']}"
    )
    for e in errors[: args.errors]:
        print(e)
    lines = [orjson.dumps(c["record"]) for c in cases]
    _print_speed(
        "speed on the evaluation set (one core)",
        lines,
        [c["record"] for c in cases],
        [c["product"] for c in cases],
    )
    demo = list(synth.generate(20000, seed=7))
    _print_speed(
        "speed on the demo mix (synth.generate, 20,000 records, one core)",
        [orjson.dumps(s.record) for s in demo],
        [s.record for s in demo],
        [s.product for s in demo],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
