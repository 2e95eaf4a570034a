"""The transparency ledger: RFC 9162 Merkle log, C2SP checkpoints, proofs, tiles, witnesses.

Public API (everything else in this package is an implementation detail)::

    leaf_hash, verify_inclusion, verify_consistency      RFC 9162 math
    TransparencyLog                                       the log over a Store
    ProofBundle, verify_bundle                            offline proofs
    NoteVerifier, parse_vkey, open_checkpoint,            C2SP signed notes and checkpoints
    sign_checkpoint, verify_note, cosign, verify_cosignatures
"""

from __future__ import annotations

from silkgate.ledger.bundle import ProofBundle, verify_bundle
from silkgate.ledger.checkpoint import (
    Note,
    NoteSignature,
    NoteVerifier,
    cosign,
    open_checkpoint,
    parse_note,
    parse_vkey,
    sign_checkpoint,
    verifier_for,
    verify_cosignatures,
    verify_note,
)
from silkgate.ledger.log import LogReport, TransparencyLog
from silkgate.ledger.merkle import leaf_hash, verify_consistency, verify_inclusion

__all__ = [
    "LogReport",
    "Note",
    "NoteSignature",
    "NoteVerifier",
    "ProofBundle",
    "TransparencyLog",
    "cosign",
    "leaf_hash",
    "open_checkpoint",
    "parse_note",
    "parse_vkey",
    "sign_checkpoint",
    "verifier_for",
    "verify_bundle",
    "verify_consistency",
    "verify_cosignatures",
    "verify_inclusion",
    "verify_note",
]
