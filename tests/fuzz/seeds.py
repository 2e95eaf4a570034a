"""Valid samples of every kind of untrusted input the hub parses, made once with real keys,
and the one call that parses each: the fuzz tests (hypothesis, test_parsers.py) and the
atheris targets (atheris_targets.py) mutate the samples and feed them to these calls.

A target passes when the call returns or raises a SilkgateError; anything else (another
exception, a crash, a hang) is a bug."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import silkgate
from silkgate.errors import SilkgateError
from silkgate.ledger import TransparencyLog
from silkgate.ledger.bundle import ProofBundle, verify_bundle
from silkgate.ledger.checkpoint import (
    open_checkpoint,
    parse_checkpoint_text,
    parse_note,
    parse_signature_line,
    parse_vkey,
)
from silkgate.ledger.tiles import parse_tile_path
from silkgate.ledger.witness import MemoryWitnessState, Witness, decode_request, encode_request
from silkgate.policy.pack import parse_pack
from silkgate.policy.yamlsrc import load_yaml
from silkgate.records_io import parse_records
from silkgate.seal import sfv
from silkgate.seal.envelope import decode_records, encode_records, open_envelope, seal_envelope
from silkgate.seal.httpsig import check_content_digest, sign_request, verify_request
from silkgate.seal.keys import create_keyring, ed25519_key_id, hpke_public_key
from silkgate.seal.receipts import decode_receipt, encode_receipt, sign_receipt, verify_receipt
from silkgate.store import MemoryStore

NOW = datetime(2026, 11, 28, 11, 4, 23, tzinfo=UTC)
ORIGIN = "hub.silkgate.test/ledger"


def _key(seed: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(seed.encode()).digest())


HUB = _key("hub")
HUB_KEYS = {ed25519_key_id(HUB): HUB.public_key()}
IMPORTER = create_keyring("vn-importer", NOW - timedelta(days=1))
_, IMPORTER_SIGNING = IMPORTER.current_signing(NOW)
IMPORTER_KEYS = {IMPORTER.current_signing(NOW)[0]: IMPORTER_SIGNING.public_key()}
EPCIS = {
    "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
    "type": "EPCISDocument",
    "schemaVersion": "2.0",
    "creationDate": "2026-06-01T08:00:00Z",
    "epcisBody": {"eventList": [
        {"type": "ObjectEvent", "eventTime": "2026-06-01T08:00:00Z", "action": "OBSERVE",
         "epcList": ["urn:epc:id:sgtin:0614141.107346.2017"], "bizStep": "shipping",
         "readPoint": {"id": "urn:epc:id:sgln:0614141.00777.0"},
         "example:consignee": {"name": "Nguyen Van A", "phone": "+84 912 345 678"}},
    ]},
}  # fmt: skip
RECORDS = [
    {"waybill_no": "SF1000000001", "consignee": {"name": "Tran Thi B", "phone": "+84 912 345 678"}},
    {"waybill_no": "SF1000000002", "items": [{"hs": "8471.30", "qty": 2}], "weight_kg": 1.25},
]


@cache
def samples() -> dict[str, bytes]:
    """kind -> one valid input of that kind."""
    out: dict[str, bytes] = {}
    out["ndjson"] = encode_records(RECORDS)
    out["epcis"] = msgspec.json.encode(EPCIS)
    pack = Path(silkgate.__file__).parent / "packs" / "sg.yaml"
    out["pack"] = pack.read_bytes()
    _, hpke_key = IMPORTER.current_hpke(NOW)
    envelope = seal_envelope(
        envelope_id="env_1", batch_id="b_1", exporter="cn-exporter", importer="vn-importer",
        product="logistics.waybill", purpose="contract_performance", outcomes={"allow": 2},
        policy_version="cn-2024.1", record_count=2, created_at=NOW,
        payload=encode_records(RECORDS), recipient_public_key=hpke_public_key(hpke_key),
        hub_signing_key=HUB,
    )  # fmt: skip
    out["envelope"] = envelope
    receipt = sign_receipt("env_1", "b_1", "vn-importer", hashlib.sha256(envelope).digest(),
                           NOW, IMPORTER_SIGNING)  # fmt: skip
    out["receipt"] = encode_receipt(receipt)
    log = TransparencyLog(MemoryStore(), ORIGIN, _key("log"), lambda: NOW)
    log.append([b'{"n":%d}' % i for i in range(5)])
    note = log.checkpoint().note
    out["checkpoint"] = note.encode() if isinstance(note, str) else note
    out["vkey"] = log.vkey.encode()
    out["bundle"] = log.prove(3).to_json().encode()
    out["witness"] = encode_request(0, [], out["checkpoint"].decode())
    out["tile"] = b"tile/0/x001/234.p/5"
    headers = sign_request("POST", "https://hub.example/v1/batches", {}, b'{"a":1}', HUB,
                           ed25519_key_id(HUB), NOW, "nonce-1")  # fmt: skip
    out["sig-headers"] = msgspec.json.encode(headers)
    out["sfv"] = headers["Signature-Input"].encode()
    return out


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _pack(data: bytes) -> None:
    parse_pack(load_yaml(_text(data), "fuzz.yaml"), "fuzz.yaml")


def _envelope(data: bytes) -> None:
    opened = open_envelope(data, IMPORTER.opening_keys(), HUB_KEYS)
    decode_records(opened.payload)


def _receipt(data: bytes) -> None:
    verify_receipt(decode_receipt(data), IMPORTER_KEYS)


def _checkpoint(data: bytes) -> None:
    note = parse_note(data)
    parse_checkpoint_text(note.text)
    for line in _text(data).splitlines():
        if line.startswith("\u2014 "):
            parse_signature_line(line)
    open_checkpoint(data, parse_vkey(samples()["vkey"].decode()))


def _vkey(data: bytes) -> None:
    parse_vkey(_text(data))


def _bundle(data: bytes) -> None:
    verify_bundle(ProofBundle.from_json(data), None, samples()["vkey"].decode())


def _witness(data: bytes) -> None:
    decode_request(data)
    log_verifier = parse_vkey(samples()["vkey"].decode())
    Witness("w.example/w", _key("w"), [log_verifier], MemoryWitnessState(), lambda: NOW)\
        .add_checkpoint(data)  # fmt: skip


def _tile(data: bytes) -> None:
    parse_tile_path(_text(data))


def _sig_headers(data: bytes) -> None:
    """Arbitrary header values (a JSON object of strings) against the signature checker."""
    try:
        headers = msgspec.json.decode(data, type=dict[str, str])
    except (msgspec.DecodeError, UnicodeDecodeError):
        headers = {"Signature-Input": _text(data), "Signature": _text(data),
                   "Content-Digest": _text(data)}  # fmt: skip
    verify_request("POST", "https://hub.example/v1/batches", headers, b'{"a":1}',
                   lambda key_id: HUB_KEYS[key_id], NOW, lambda nonce, until: False)  # fmt: skip


def _sfv(data: bytes) -> None:
    text = _text(data)
    sfv.parse_dictionary(text)
    check_content_digest(text, b"body")


@dataclass(frozen=True)
class Target:
    kind: str  # key of samples()
    call: Callable[[bytes], Any]


TARGETS: dict[str, Target] = {
    "ndjson": Target("ndjson", parse_records),
    "epcis": Target("epcis", parse_records),
    "pack": Target("pack", _pack),
    "envelope": Target("envelope", _envelope),
    "receipt": Target("receipt", _receipt),
    "checkpoint": Target("checkpoint", _checkpoint),
    "vkey": Target("vkey", _vkey),
    "bundle": Target("bundle", _bundle),
    "witness": Target("witness", _witness),
    "tile": Target("tile", _tile),
    "sig-headers": Target("sig-headers", _sig_headers),
    "sfv": Target("sfv", _sfv),
}


def run(name: str, data: bytes) -> None:
    """Feed `data` to target `name`: return, or raise a SilkgateError; nothing else."""
    with contextlib.suppress(SilkgateError):
        TARGETS[name].call(data)
