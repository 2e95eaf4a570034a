"""Proof bundles: everything a third party needs to check, offline, that an entry is in
the log. Format (JSON, UTF-8; documented in docs/ledger.md)::

    {
      "format": "silkgate-proof-bundle/v1",
      "origin": "<log origin>",
      "index": <leaf index>,
      "tree_size": <size of the tree the proof is for>,
      "entry": "<base64 of the entry bytes>",
      "leaf_hash": "<base64 of SHA-256(0x00 || entry)>",
      "inclusion_proof": ["<base64 hash>", ...],
      "checkpoint": "<the signed checkpoint note for tree_size, as text>"
    }
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from silkgate.errors import LedgerVerificationError
from silkgate.ledger.checkpoint import open_checkpoint, parse_vkey, verify_cosignatures
from silkgate.ledger.checkpoint import parse_note as _parse_note
from silkgate.ledger.merkle import leaf_hash, verify_inclusion

BUNDLE_FORMAT = "silkgate-proof-bundle/v1"


@dataclass(frozen=True)
class ProofBundle:
    origin: str
    index: int
    tree_size: int
    entry: bytes
    inclusion_proof: tuple[bytes, ...]
    checkpoint: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": BUNDLE_FORMAT,
            "origin": self.origin,
            "index": self.index,
            "tree_size": self.tree_size,
            "entry": _b64(self.entry),
            "leaf_hash": _b64(leaf_hash(self.entry)),
            "inclusion_proof": [_b64(h) for h in self.inclusion_proof],
            "checkpoint": self.checkpoint,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, data: str | bytes) -> ProofBundle:
        try:
            doc = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise LedgerVerificationError(f"proof bundle is not JSON: {exc}") from exc
        return cls.from_dict(doc)

    @classmethod
    def from_dict(cls, doc: Any) -> ProofBundle:
        if not isinstance(doc, dict) or doc.get("format") != BUNDLE_FORMAT:
            raise LedgerVerificationError(f"not a proof bundle (format {BUNDLE_FORMAT})")
        try:
            bundle = cls(
                origin=_str(doc["origin"]),
                index=_int(doc["index"]),
                tree_size=_int(doc["tree_size"]),
                entry=_unb64(doc["entry"]),
                inclusion_proof=tuple(_unb64(h) for h in doc["inclusion_proof"]),
                checkpoint=_str(doc["checkpoint"]),
            )
        except (KeyError, TypeError) as exc:
            raise LedgerVerificationError(f"proof bundle lacks or mistypes {exc}") from exc
        if "leaf_hash" in doc and _unb64(doc["leaf_hash"]) != leaf_hash(bundle.entry):
            raise LedgerVerificationError("the bundle's leaf_hash is not the hash of its entry")
        return bundle


def verify_bundle(
    bundle: ProofBundle,
    checkpoint_note: str | bytes | None,
    verifier_key: str,
    *,
    witness_keys: Sequence[str] = (),
) -> None:
    """Check a bundle offline against a checkpoint signed by the log key `verifier_key`
    (a vkey string). `checkpoint_note` defaults to the note inside the bundle; it must be
    for the bundle's tree size. Every key in `witness_keys` (cosigner vkeys) must have
    cosigned the checkpoint. Raises LedgerVerificationError."""
    log_key = parse_vkey(verifier_key)
    note = bundle.checkpoint if checkpoint_note is None else checkpoint_note
    checkpoint = open_checkpoint(note, log_key)
    if checkpoint.origin != bundle.origin:
        raise LedgerVerificationError(
            f"bundle is for log {bundle.origin!r}, the checkpoint for {checkpoint.origin!r}"
        )
    if checkpoint.size != bundle.tree_size:
        raise LedgerVerificationError(
            f"bundle proves inclusion in a tree of size {bundle.tree_size}, the checkpoint "
            f"is for size {checkpoint.size}; get a bundle for this checkpoint"
        )
    verify_inclusion(
        leaf_hash(bundle.entry),
        bundle.index,
        bundle.tree_size,
        bundle.inclusion_proof,
        checkpoint.root_hash,
    )
    if witness_keys:
        verify_cosignatures(_parse_note(note), [parse_vkey(k) for k in witness_keys])


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(value: Any) -> bytes:
    try:
        return base64.b64decode(_str(value), validate=True)
    except (binascii.Error, ValueError) as exc:  # ValueError: characters outside ASCII
        raise LedgerVerificationError("proof bundle holds invalid base64") from exc


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("a string field")
    return value


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("an integer field")
    return value
