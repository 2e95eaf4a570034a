"""Write proof-bundles.json: real proof bundles from a demo hub for the console's
in-browser verifier (docs/console.md, "Verifying a proof bundle in the browser"), and
tampered copies, each with the step of that procedure that must refuse it.

    .venv/bin/python tests/vectors/console/generate_bundles.py

A small `silkgate demo` runs in a temporary directory; its log key signs the checkpoint
of every bundle. tests/console_api/test_vectors.py checks the file with silkgate's own
verifier (silkgate.ledger.bundle.verify_bundle).
"""

from __future__ import annotations

import base64
import copy
import json
import tempfile
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from silkgate.demo.runner import DemoOptions, run_demo
from silkgate.hub import open_hub
from silkgate.ledger.checkpoint import verifier_for

HERE = Path(__file__).parent
OUT = HERE / "proof-bundles.json"


def _flip(b64: str, byte: int = 0) -> str:
    raw = bytearray(base64.b64decode(b64))
    raw[byte] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def _note_parts(note: str) -> tuple[str, str]:
    cut = note.rfind("\n\n")
    return note[: cut + 1], note[cut + 2 :]


def tampered(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    """(name, step, what is wrong, bundle) for each mutation of a valid bundle."""
    out: list[dict[str, Any]] = []

    def add(name: str, step: int, why: str, change: Any) -> None:
        made = copy.deepcopy(bundle)
        change(made)
        out.append({"name": name, "step": step, "why": why, "bundle": made})

    add("format", 1, "not the bundle format", lambda b: b.update(format="other/v1"))
    add("index-beyond-size", 1, "index >= tree_size", lambda b: b.update(index=b["tree_size"]))
    add("bad-base64", 1, "entry is not base64", lambda b: b.update(entry="***"))

    def resign_wrong(b: dict[str, Any]) -> None:
        text, sigs = _note_parts(b["checkpoint"])
        line = sigs.split("\n")[0]
        name, _, blob = line[2:].rpartition(" ")
        raw = bytearray(base64.b64decode(blob))
        raw[10] ^= 0x01  # inside the 64-byte signature, after the 4-byte key id
        b["checkpoint"] = f"{text}\n\u2014 {name} {base64.b64encode(bytes(raw)).decode()}\n"

    add("signature-flipped", 3, "the checkpoint signature does not verify", resign_wrong)

    def other_root(b: dict[str, Any]) -> None:
        text, sigs = _note_parts(b["checkpoint"])
        lines = text.split("\n")
        lines[2] = _flip(lines[2])
        b["checkpoint"] = "\n".join(lines) + "\n" + sigs

    add("root-changed", 3, "the checkpoint text was changed after signing", other_root)
    add(
        "origin-mismatch",
        4,
        "the bundle's origin is not the checkpoint's",
        lambda b: b.update(origin=b["origin"] + "x"),
    )
    add(
        "tree-size-mismatch",
        4,
        "tree_size is not the checkpoint's size",
        lambda b: b.update(tree_size=b["tree_size"] + 1),
    )
    add(
        "entry-changed",
        5,
        "leaf_hash is not SHA-256(0x00 || entry)",
        lambda b: b.update(entry=_flip(b["entry"], 3)),
    )

    def entry_and_hash(b: dict[str, Any]) -> None:
        b["entry"] = _flip(b["entry"], 3)
        del b["leaf_hash"]

    add("entry-changed-no-leaf-hash", 6, "the changed entry is not in the tree", entry_and_hash)
    if bundle["inclusion_proof"]:
        add(
            "proof-hash-flipped",
            6,
            "an inclusion proof hash was changed",
            lambda b: b["inclusion_proof"].__setitem__(0, _flip(b["inclusion_proof"][0])),
        )
        add(
            "proof-hash-missing",
            6,
            "the inclusion proof is one hash short",
            lambda b: b["inclusion_proof"].pop(),
        )
    add(
        "proof-hash-extra",
        6,
        "the inclusion proof has one hash too many",
        lambda b: b["inclusion_proof"].append(base64.b64encode(bytes(32)).decode()),
    )
    if bundle["tree_size"] > 1:
        other = bundle["index"] - 1 if bundle["index"] > 0 else bundle["index"] + 1
        add("index-changed", 6, "the proof is for another index", lambda b: b.update(index=other))
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "demo"
        run_demo(DemoOptions(data_dir=data, records=300, batch_size=40, proof_samples=1))
        hub = open_hub(data)
        try:
            log = hub.log
            size = log.checkpoint().size
            picks = sorted({0, size // 2, size - 1})
            valid = [json.loads(log.prove(i).to_json()) for i in picks]
            log_key = log.vkey
        finally:
            hub.close()
    stranger = Ed25519PrivateKey.from_private_bytes(bytes(32))
    wrong_key = verifier_for(valid[0]["origin"], stranger).vkey()
    invalid = [t for b in valid[1:2] for t in tampered(b)]
    doc = {
        "description": (
            "Proof bundles (silkgate-proof-bundle/v1) from a demo hub: `valid` verify "
            "against `log_key`; each of `invalid` must be refused at `step` of "
            "docs/console.md, 'Verifying a proof bundle in the browser'; every valid bundle "
            "must be refused against `wrong_log_key` (step 3: no signature by that key)."
        ),
        "generator": "tests/vectors/console/generate_bundles.py",
        "log_key": log_key,
        "wrong_log_key": wrong_key,
        "valid": valid,
        "invalid": invalid,
    }
    OUT.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT}: {len(valid)} valid, {len(invalid)} invalid bundles")


if __name__ == "__main__":
    main()
