"""Seal benchmark: envelope overhead, seal/open throughput, Ed25519 and HTTP signatures.

python bench/seal_bench.py [--seconds 0.5]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from silkgate.seal import (
    create_keyring,
    encode_records,
    open_envelope,
    seal_envelope,
    sign_request,
    verify_request,
)
from silkgate.seal.envelope import Suite
from silkgate.seal.keys import KemName, KeyRing

Row = tuple[str, ...]

NOW = datetime(2026, 11, 28, 11, 4, 23, tzinfo=UTC)
SUITES: tuple[Suite, ...] = (
    "x25519-hkdf-sha256-chacha20poly1305",
    "mlkem768x25519-hkdf-sha256-chacha20poly1305",
)


def record(i: int) -> dict[str, Any]:
    """A waybill-like record of about 400 bytes of canonical JSON."""
    return {
        "waybill": f"EE{i:09d}CN",
        "event": "departed_origin_facility",
        "event_time": "2026-11-28T09:15:00Z",
        "origin": {"facility": "Nanning International Hub", "country": "CN", "postcode": "530000"},
        "destination": {"city": "Ha Noi", "country": "VN", "postcode": "100000"},
        "consignee": {"name": "pz_0938c2c20c707d91143820a3", "phone": "+84 *** *** *78"},
        "items": [{"gtin": "09506000134352", "hs_code": "851830", "qty": 2, "value": 19.9}],
        "weight_kg": 1.25,
        "service": "standard",
    }


def rate(fn: Callable[[], object], seconds: float) -> float:
    """Operations per second of `fn`, measured for about `seconds`."""
    fn()
    n, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        fn()
        n += 1
    return n / elapsed


def measure(suite: Suite, importer: KeyRing, hub: KeyRing, n: int, seconds: float) -> Row:
    payload = encode_records(record(i) for i in range(n))
    recipient = importer.current_hpke(NOW)[1].public_key()
    hub_key = hub.current_signing(NOW)[1]
    keys, hub_keys = importer.opening_keys(), hub.verifying_keys()

    def do_seal() -> bytes:
        return seal_envelope(
            envelope_id="e_00112233445566778899aabbccddeeff",
            batch_id="b_00112233445566778899aabbccddeeff",
            exporter="cn-nanning-freight",
            importer="vn-hanoi-carrier",
            product="logistics.waybill",
            purpose="contract_performance",
            outcomes={"allow": n},
            policy_version="cn-2024.1",
            record_count=n,
            created_at=NOW,
            payload=payload,
            recipient_public_key=recipient,
            hub_signing_key=hub_key,
            suite=suite,
        )

    sealed = do_seal()
    seal_rate = rate(do_seal, seconds)
    open_rate = rate(lambda: open_envelope(sealed, keys, hub_keys), seconds)
    mb = len(payload) / 1e6
    return (suite.split("-")[0], str(n), str(len(payload)), str(len(sealed) - len(payload)),
            f"{seal_rate * mb:.1f}", f"{seal_rate:.0f}", f"{open_rate * mb:.1f}",
            f"{open_rate:.0f}")  # fmt: skip


def envelope_rows(seconds: float) -> list[Row]:
    hub = create_keyring("hub", NOW)
    rows = []
    for suite in SUITES:
        kem: KemName = "x25519" if suite.startswith("x25519") else "mlkem768x25519"
        importer = create_keyring("imp", NOW, kem=kem)
        rows += [measure(suite, importer, hub, n, seconds) for n in (1, 100, 1000)]
    return rows


def signature_rows(seconds: float) -> list[Row]:
    ring = create_keyring("p", NOW)
    key_id, key = ring.current_signing(NOW)
    public = key.public_key()
    message = b"x" * 300
    signature = key.sign(message)
    body = encode_records(record(i) for i in range(10))
    url = "https://hub.example/v1/batches"
    headers = {"Content-Type": "application/x-ndjson"}
    counter = iter(range(10**9))

    def do_sign() -> dict[str, str]:
        return sign_request("POST", url, headers, body, key, key_id, NOW, "n", 300)

    signed = {**headers, **do_sign()}

    def do_verify() -> str:
        return verify_request("POST", url, signed, body, lambda _: public, NOW,
                              lambda nonce, until: next(counter) < 0)  # fmt: skip

    ops = [
        ("Ed25519 sign (300 B)", lambda: key.sign(message)),
        ("Ed25519 verify (300 B)", lambda: public.verify(signature, message)),
        (f"httpsig sign request ({len(body)} B body)", do_sign),
        (f"httpsig verify request ({len(body)} B body)", do_verify),
    ]
    return [(name, f"{1e6 / rate(fn, seconds):.1f}") for name, fn in ops]


def table(headers: Row, rows: list[Row]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: Row) -> str:
        return "| " + " | ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(headers), sep, *(line(r) for r in rows)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=0.5, help="time per measurement")
    args = parser.parse_args()
    print("Envelopes (records of ~400 bytes; overhead = envelope bytes - payload bytes)\n")
    print(table(("kem", "records", "payload B", "overhead B", "seal MB/s", "seal batch/s",
                 "open MB/s", "open batch/s"), envelope_rows(args.seconds)))  # fmt: skip
    print("\nSignatures\n")
    print(table(("operation", "µs/op"), signature_rows(args.seconds)))


if __name__ == "__main__":
    main()
