"""docs/ledger.md's examples verify with the code."""

from __future__ import annotations

import re
from pathlib import Path

from silkgate.ledger import ProofBundle, parse_note, parse_vkey, verify_bundle, verify_cosignatures

DOC = (Path(__file__).parents[2] / "docs" / "ledger.md").read_text(encoding="utf-8")


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC, flags=re.S)


def test_documented_bundle_checkpoint_and_keys_verify() -> None:
    note = next(b for b in blocks("") if b.startswith("hub.silkgate.example/ledger\n3\n"))
    hub_key, witness_key = next(b for b in blocks("") if "+39dfe934+" in b).split()
    bundle = ProofBundle.from_json(blocks("json")[0])
    verify_bundle(bundle, note, hub_key, witness_keys=[witness_key])
    verify_cosignatures(parse_note(note), [parse_vkey(witness_key)])
    assert bundle.checkpoint == note
