"""The console's proof-bundle vectors (tests/vectors/console/proof-bundles.json): silkgate's
own verifier accepts the valid ones and refuses the tampered ones, and the procedure
docs/console.md gives the browser, written out here step by step, refuses each tampered
bundle at the step the file names."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from silkgate.errors import LedgerVerificationError
from silkgate.ledger.bundle import ProofBundle, verify_bundle
from silkgate.ledger.leaves import decode_leaf

VECTORS = json.loads(
    (Path(__file__).parents[1] / "vectors" / "console" / "proof-bundles.json").read_text("utf-8")
)
INVALID = {v["name"]: v for v in VECTORS["invalid"]}


class Refused(Exception):
    def __init__(self, step: int, why: str) -> None:
        super().__init__(f"step {step}: {why}")
        self.step = step


def _b64(value: Any, step: int) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise Refused(step, "not base64") from None


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def documented_procedure(bundle: dict[str, Any], log_key: str) -> None:
    """docs/console.md, "Verifying a proof bundle in the browser", one step at a time."""
    # 1. format, integers, base64
    if bundle.get("format") != "silkgate-proof-bundle/v1":
        raise Refused(1, "format")
    index, size = bundle["index"], bundle["tree_size"]
    if not (isinstance(index, int) and isinstance(size, int) and 0 <= index < size):
        raise Refused(1, "index and tree_size")
    entry = _b64(bundle["entry"], 1)
    proof = [_b64(h, 1) for h in bundle["inclusion_proof"]]
    # 2. the log's key: name+hex key id+base64(0x01 || public key)
    name, key_hex, material_b64 = log_key.split("+", 2)  # base64 may hold "+" too
    material = base64.b64decode(material_b64)
    if len(material) != 33 or material[0] != 0x01:
        raise Refused(2, "key material")
    public = material[1:]
    key_id = _sha(name.encode() + b"\n" + b"\x01" + public)[:4]
    if key_id.hex() != key_hex:
        raise Refused(2, "key id")
    # 3. the checkpoint's signature by that key
    note: str = bundle["checkpoint"]
    cut = note.rfind("\n\n")
    text, lines = note[: cut + 1], note[cut + 2 :].rstrip("\n").split("\n")
    signature = None
    for line in lines:
        signer, _, blob = line.removeprefix("\u2014 ").rpartition(" ")
        raw = _b64(blob, 3)
        if signer == name and raw[:4] == key_id:
            signature = raw[4:]
    if signature is None:
        raise Refused(3, "no signature by the log key")
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, text.encode())
    except InvalidSignature:
        raise Refused(3, "signature does not verify") from None
    # 4. the checkpoint's fields
    origin, size_line, root_line = text.split("\n")[:3]
    if origin != name or origin != bundle["origin"]:
        raise Refused(4, "origin")
    if int(size_line) != size:
        raise Refused(4, "tree size")
    root = _b64(root_line, 4)
    # 5. the leaf hash
    leaf = _sha(b"\x00" + entry)
    if "leaf_hash" in bundle and _b64(bundle["leaf_hash"], 5) != leaf:
        raise Refused(5, "leaf_hash")
    # 6. RFC 9162 2.1.3.2
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise Refused(6, "proof too long")
        if fn & 1 or fn == sn:
            r = _sha(b"\x01" + p + r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _sha(b"\x01" + r + p)
        fn >>= 1
        sn >>= 1
    if sn != 0 or r != root:
        raise Refused(6, "inclusion proof")


def test_the_file_holds_real_bundles_of_several_shapes() -> None:
    valid = VECTORS["valid"]
    assert len(valid) >= 3
    assert len({(b["index"], len(b["inclusion_proof"])) for b in valid}) == len(valid)
    for bundle in valid:
        decode_leaf(base64.b64decode(bundle["entry"]))  # a ledger leaf of the demo hub
    assert {v["step"] for v in VECTORS["invalid"]} == {1, 3, 4, 5, 6}


@pytest.mark.parametrize("index", range(len(VECTORS["valid"])))
def test_valid_bundles_verify(index: int) -> None:
    bundle = VECTORS["valid"][index]
    verify_bundle(ProofBundle.from_dict(bundle), None, VECTORS["log_key"])
    documented_procedure(bundle, VECTORS["log_key"])
    with pytest.raises(LedgerVerificationError):
        verify_bundle(ProofBundle.from_dict(bundle), None, VECTORS["wrong_log_key"])
    with pytest.raises(Refused) as refused:
        documented_procedure(bundle, VECTORS["wrong_log_key"])
    assert refused.value.step == 3


@pytest.mark.parametrize("name", sorted(INVALID))
def test_tampered_bundles_are_refused_at_their_step(name: str) -> None:
    case = INVALID[name]
    with pytest.raises(LedgerVerificationError):
        verify_bundle(ProofBundle.from_dict(case["bundle"]), None, VECTORS["log_key"])
    with pytest.raises(Refused) as refused:
        documented_procedure(case["bundle"], VECTORS["log_key"])
    assert refused.value.step == case["step"], case["why"]
