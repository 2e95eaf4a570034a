"""Typed ledger leaves encode to exactly the bytes the old hand-built dicts did, so logs
written before keep verifying; and nothing appends a leaf any other way."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest

from silkgate.canonical import canonical_json
from silkgate.ledger.leaves import (
    HELD_COMMITMENT_LABEL,
    KINDS,
    BatchLeaf,
    EnvelopeRef,
    HoldRejectLeaf,
    HoldReleaseLeaf,
    Leaf,
    PolicyLeaf,
    ReceiptLeaf,
    SandboxLeaf,
    append_leaf,
    decode_leaf,
    encode_leaf,
    held_commitment,
    held_ref,
)
from silkgate.model import Receipt

T = datetime(2026, 6, 1, 9, 30, 12, 345678, tzinfo=UTC)
SIG = bytes(range(64))


# The dicts exactly as pipeline.py, holds.py, lifecycle.py and cohorts.py built them.
def old_batch(delivered: bool, held: bool) -> dict[str, Any]:
    return {
        "kind": "batch", "batch_id": "b_1", "exporter": "cn-a", "importer": "vn-b",
        "product": "logistics.waybill", "purpose": "contract_performance", "records": 3,
        "outcomes": {"allow": 1, "allow_transformed": 1, "hold": 1, "deny": 0},
        "policy_version": "cn@2024.1+vn@1",
        "delivered": {"envelope_id": "env_1", "digest": "ab" * 32} if delivered else None,
        "held": {"envelope_id": "env_2", "digest": "cd" * 32} if held else None,
        "tags": ["cohort:x"], "time": T,
    }  # fmt: skip


def new_batch(delivered: bool, held: bool) -> BatchLeaf:
    return BatchLeaf(
        batch_id="b_1", exporter="cn-a", importer="vn-b", product="logistics.waybill",
        purpose="contract_performance", records=3,
        outcomes={"allow": 1, "allow_transformed": 1, "hold": 1, "deny": 0},
        policy_version="cn@2024.1+vn@1",
        delivered=EnvelopeRef(envelope_id="env_1", digest="ab" * 32) if delivered else None,
        held=EnvelopeRef(envelope_id="env_2", digest="cd" * 32) if held else None,
        tags=["cohort:x"], time=T,
    )  # fmt: skip


RECEIPT = Receipt(
    envelope_id="env_1", batch_id="b_1", importer="vn-b", envelope_digest=bytes(32),
    received_at=T, key_id="ed25519:abc", signature=SIG,
)  # fmt: skip
OLD_RECEIPT = {
    "kind": "receipt", "envelope_id": "env_1", "batch_id": "b_1", "importer": "vn-b",
    "envelope_digest": bytes(32).hex(), "received_at": T, "key_id": "ed25519:abc",
    "signature": SIG,
}  # fmt: skip
COMMON = {
    "envelope_id": "env_2", "batch_id": "b_1", "exporter": "cn-a", "importer": "vn-b",
    "records": 1, "by": "cn-regulator", "reason": "filed: 标准合同 GX-SC-1", "time": T,
}  # fmt: skip
EXTRA = {"automatic": True, "filings": ["fil-1"], "policy_version": "cn@2024.1"}
OLD_POLICY = {
    "kind": "policy", "pack": "cn", "version": "2026.2", "sha256": "ee" * 32, "from": "shadow",
    "to": "active", "by": "cn-regulator", "key_id": "ed25519:r", "signature": SIG.hex(),
    "note": "", "time": T,
}  # fmt: skip
NEW_POLICY = PolicyLeaf(
    pack="cn", version="2026.2", sha256="ee" * 32, from_state="shadow", to_state="active",
    by="cn-regulator", key_id="ed25519:r", signature=SIG.hex(), note="", time=T,
)  # fmt: skip


def old_sandbox(signed: bool) -> dict[str, Any]:
    return {
        "kind": "sandbox", "action": "cohort.create", "cohort": "gx-1", "by": "cn-regulator",
        "key_id": "ed25519:r" if signed else "", "time": T,
        "signature": SIG.hex() if signed else "",
        "detail": {"members": ["cn-a"], "max_records": 1000, "reason": None},
    }  # fmt: skip


def new_sandbox(signed: bool) -> SandboxLeaf:
    return SandboxLeaf(
        action="cohort.create", cohort="gx-1", by="cn-regulator",
        key_id="ed25519:r" if signed else "", time=T, signature=SIG.hex() if signed else "",
        detail={"members": ["cn-a"], "max_records": 1000, "reason": None},
    )  # fmt: skip


CASES: list[tuple[str, dict[str, Any], Leaf]] = [
    *[
        (f"batch-{d}-{h}", old_batch(d, h), new_batch(d, h))
        for d in (True, False)
        for h in (True, False)
    ],
    ("receipt", OLD_RECEIPT, ReceiptLeaf.of(RECEIPT)),
    (
        "hold_release",
        {"kind": "hold_release", **COMMON, "counted": {"sensitive_pi": 4}},
        HoldReleaseLeaf(**COMMON, counted={"sensitive_pi": 4}),  # type: ignore[arg-type]
    ),
    (
        "hold_release-automatic",
        {"kind": "hold_release", **COMMON, "counted": {}, **EXTRA},
        HoldReleaseLeaf(**COMMON, counted={}, **EXTRA),  # type: ignore[arg-type]
    ),
    ("hold_reject", {"kind": "hold_reject", **COMMON}, HoldRejectLeaf(**COMMON)),  # type: ignore[arg-type]
    ("policy", OLD_POLICY, NEW_POLICY),
    ("sandbox-signed", old_sandbox(True), new_sandbox(True)),
    ("sandbox-hub", old_sandbox(False), new_sandbox(False)),
]


@pytest.mark.parametrize(("name", "old", "new"), CASES, ids=[c[0] for c in CASES])
def test_typed_leaves_are_byte_identical_to_the_old_dicts(
    name: str, old: dict[str, Any], new: Leaf
) -> None:
    assert encode_leaf(new) == canonical_json(old)
    assert decode_leaf(canonical_json(old)) == new  # old entries read back typed


def test_every_kind_is_covered() -> None:
    assert set(KINDS) == {type(new).__struct_config__.tag for _, _, new in CASES}
    assert len(KINDS) == len(set(KINDS))


def test_an_unknown_kind_or_a_missing_field_is_refused() -> None:
    with pytest.raises(msgspec.ValidationError):
        decode_leaf(b'{"kind":"gossip","who":"x"}')
    broken = without(canonical_json(OLD_RECEIPT), "signature")
    with pytest.raises(msgspec.ValidationError, match="signature"):
        decode_leaf(broken)


def without(entry: bytes, key: str) -> bytes:
    body = msgspec.json.decode(entry)
    del body[key]
    return canonical_json(body)


class ListLog:
    def __init__(self) -> None:
        self.entries: list[bytes] = []

    def append(self, entries: Any) -> int:
        self.entries.extend(entries)
        return len(self.entries) - 1


def test_append_leaf_appends_the_canonical_bytes() -> None:
    log = ListLog()
    assert append_leaf(log, NEW_POLICY) == 0
    assert append_leaf(log, ReceiptLeaf.of(RECEIPT)) == 1
    assert log.entries == [canonical_json(OLD_POLICY), canonical_json(OLD_RECEIPT)]


def test_no_module_appends_hand_built_entries() -> None:
    """Every append to the ledger goes through append_leaf."""
    root = Path(__file__).resolve().parents[2] / "silkgate"
    offenders = []
    for path in root.rglob("*.py"):
        if path.parent.name == "ledger":
            continue  # the log itself and the leaves module
        text = path.read_text("utf-8")
        if re.search(r"\blog\.append\(", text) or '"kind": "' in text:
            offenders.append(str(path.relative_to(root)))
    assert offenders == []


def test_a_held_envelope_is_named_by_a_commitment_that_its_release_opens() -> None:
    digest = hashlib.sha256(b"sealed bytes").digest()
    leaf = msgspec.structs.replace(new_batch(True, False), held=held_ref(("env_2", digest.hex())))
    entry = encode_leaf(leaf)
    assert digest.hex() not in entry.decode()
    named = msgspec.json.decode(entry)["held"]
    assert named == {"envelope_id": "env_2", "commitment": held_commitment(digest)}
    assert held_commitment(digest) == hashlib.sha256(HELD_COMMITMENT_LABEL + digest).hexdigest()
    assert decode_leaf(entry) == leaf
    release = HoldReleaseLeaf(**COMMON, counted={}, digest=digest.hex())  # type: ignore[arg-type]
    opened = bytes.fromhex(msgspec.json.decode(encode_leaf(release))["digest"])
    assert held_commitment(opened) == named["commitment"]
