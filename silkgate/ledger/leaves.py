"""The ledger's entries, typed: one frozen struct per leaf kind and one way to append them.

An entry is the canonical JSON (silkgate.canonical: sorted keys, no whitespace, bytes as
base64, times as RFC 3339 UTC) of one of these structs; the struct's tag is the entry's
``"kind"``. Every part of silkgate that writes to the ledger builds one of these and calls
`append_leaf`; nothing appends hand-built dicts. The bytes are exactly those of the dicts
written before this module existed (tests/ledger/test_leaves.py rebuilds old entries and
compares), so logs written by earlier versions keep verifying and reading.

| kind | written by | when |
|---|---|---|
| ``batch`` | silkgate.flow.pipeline | a batch is committed (its decision, envelope digests) |
| ``receipt`` | silkgate.mailbox.service | an importer's receipt is accepted |
| ``hold_release`` | silkgate.flow.holds | a regulator (or the hub's re-check) releases a hold |
| ``hold_reject`` | silkgate.flow.holds | a regulator rejects a hold |
| ``policy`` | silkgate.sandbox.lifecycle | a policy version changes state |
| ``sandbox`` | silkgate.sandbox.cohorts | an experiment (cohort) is created or suspended |

Never record contents: ids, parties, counts, digests, rule versions, times.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

import msgspec

from silkgate.canonical import canonical_json
from silkgate.model import Receipt

HELD_COMMITMENT_LABEL = b"silkgate/held-envelope/v1\n"


class EnvelopeRef(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """An envelope named by a batch leaf: its id and either the hex SHA-256 of its sealed
    bytes (`digest`: the delivered envelope) or a commitment to that digest (`commitment`:
    the held envelope, see `held_commitment`). Batch leaves written before commitments
    existed name held envelopes by `digest` too."""

    envelope_id: str
    digest: str | None = None
    commitment: str | None = None


def held_commitment(digest: bytes) -> str:
    """Hex SHA-256(label || digest): binds a held envelope's digest without showing it.
    The digest (SHA-256 of sealed bytes that include a fresh HPKE key) cannot be guessed,
    so nobody can recover it, or sign a receipt over it, from the leaf; once the envelope
    is released, its `hold_release` leaf shows the digest and anyone can check it here."""
    return hashlib.sha256(HELD_COMMITMENT_LABEL + digest).hexdigest()


class BatchLeaf(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind", tag="batch"):
    """A committed batch: parties, product, purpose, counts by outcome, policy version, the
    delivered and held envelopes (ids and digests), tags, commit time."""

    batch_id: str
    exporter: str
    importer: str
    product: str
    purpose: str
    records: int
    outcomes: dict[str, int]
    policy_version: str
    delivered: EnvelopeRef | None
    held: EnvelopeRef | None
    tags: list[str]
    time: datetime


class ReceiptLeaf(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind", tag="receipt"):
    """An importer's accepted receipt (its signature included, so it verifies offline)."""

    envelope_id: str
    batch_id: str
    importer: str
    envelope_digest: str  # hex
    received_at: datetime
    key_id: str
    signature: bytes

    @classmethod
    def of(cls, receipt: Receipt) -> ReceiptLeaf:
        return cls(
            envelope_id=receipt.envelope_id,
            batch_id=receipt.batch_id,
            importer=receipt.importer,
            envelope_digest=receipt.envelope_digest.hex(),
            received_at=receipt.received_at,
            key_id=receipt.key_id,
            signature=receipt.signature,
        )


class HoldRejectLeaf(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    omit_defaults=True,
    tag_field="kind",
    tag="hold_reject",
):
    """A regulator rejected a held envelope: who, when, how many records, a commitment to
    why (silkgate.ledger.notes; leaves written before commitments hold `reason`), and the
    regulator's signature (`key_id`, hex `signature` over silkgate.flow.holds.hold_message;
    absent in leaves written before holds were signed)."""

    envelope_id: str
    batch_id: str
    exporter: str
    importer: str
    records: int
    by: str
    reason: str | None = None
    reason_commitment: str | None = None
    time: datetime
    key_id: str | None = None
    signature: str | None = None  # hex Ed25519


class HoldReleaseLeaf(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    omit_defaults=True,
    tag_field="kind",
    tag="hold_release",
):
    """A held envelope released for delivery, with the subjects newly counted and a
    commitment to why (silkgate.ledger.notes; leaves written before commitments hold
    `reason`). A release by the re-check (`by` "hub") adds `automatic`, the new `filings`,
    the `policy_version` it used and, when a participant asked for the re-check over the
    API, `requested_by`. Every release carries its signer's `key_id` and hex `signature`
    over silkgate.flow.holds.hold_message: the regulator's, or for a re-check the hub's
    signing key (absent in leaves written before holds, or the hub's releases, were
    signed)."""

    envelope_id: str
    batch_id: str
    exporter: str
    importer: str
    records: int
    by: str
    reason: str | None = None
    reason_commitment: str | None = None
    time: datetime
    counted: dict[str, int]
    automatic: bool | None = None
    filings: list[str] | None = None
    policy_version: str | None = None
    requested_by: str | None = None  # who asked the hub to re-check (not signed over)
    digest: str | None = None  # hex SHA-256 of the released bytes: opens the batch's commitment
    key_id: str | None = None
    signature: str | None = None  # hex Ed25519


class PolicyLeaf(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind", tag="policy"):
    """A policy version moved between lifecycle states, signed by a regulator."""

    pack: str
    version: str
    sha256: str
    from_state: str = msgspec.field(name="from")
    to_state: str = msgspec.field(name="to")
    by: str
    key_id: str
    signature: str  # hex
    note: str
    time: datetime


class SandboxLeaf(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind", tag="sandbox"):
    """An event of a sandbox experiment (``cohort.create``, ``cohort.suspend``, ...)."""

    action: str
    cohort: str
    by: str
    key_id: str
    time: datetime
    signature: str  # hex, "" for an event of the hub
    detail: dict[str, Any]


Leaf = BatchLeaf | ReceiptLeaf | HoldReleaseLeaf | HoldRejectLeaf | PolicyLeaf | SandboxLeaf
KINDS: tuple[str, ...] = tuple(
    str(t.__struct_config__.tag)
    for t in (BatchLeaf, ReceiptLeaf, HoldReleaseLeaf, HoldRejectLeaf, PolicyLeaf, SandboxLeaf)
)
_decoder: msgspec.json.Decoder[Leaf] = msgspec.json.Decoder(Leaf)


class Appender(Protocol):
    """What appending needs of the log (silkgate.ledger.TransparencyLog has it)."""

    def append(self, entries: Sequence[bytes]) -> int: ...


def encode_leaf(leaf: Leaf) -> bytes:
    """The entry bytes of a leaf (canonical JSON)."""
    return canonical_json(leaf)


def append_leaf(log: Appender, leaf: Leaf) -> int:
    """Append one leaf to the log (joining the caller's transaction); its index."""
    return log.append([encode_leaf(leaf)])


def decode_leaf(entry: bytes) -> Leaf:
    """The typed leaf of an entry; msgspec.ValidationError/DecodeError if it is none."""
    return _decoder.decode(entry)


def envelope_ref(ref: tuple[str, str] | None) -> EnvelopeRef | None:
    """A delivered envelope, (envelope id, hex digest), as the batch leaf names it."""
    return None if ref is None else EnvelopeRef(envelope_id=ref[0], digest=ref[1])


def held_ref(ref: tuple[str, str] | None) -> EnvelopeRef | None:
    """A held envelope, (envelope id, hex digest), as the batch leaf names it: by a
    commitment to its digest, never the digest itself."""
    if ref is None:
        return None
    return EnvelopeRef(envelope_id=ref[0], commitment=held_commitment(bytes.fromhex(ref[1])))


class Parties(msgspec.Struct, frozen=True, kw_only=True):
    """Who an entry concerns, besides regulators: its exporter and importer ("" if none).
    Entry contents are served only to them and to regulators (docs/ledger.md)."""

    exporter: str = ""
    importer: str = ""


def parties(leaf: Leaf) -> Parties:
    """The parties named by a leaf. A receipt names only its importer; its batch's exporter
    is a party too, which the caller looks up by `batch_id`. Policy and sandbox entries
    concern regulators only."""
    if isinstance(leaf, BatchLeaf | HoldReleaseLeaf | HoldRejectLeaf):
        return Parties(exporter=leaf.exporter, importer=leaf.importer)
    if isinstance(leaf, ReceiptLeaf):
        return Parties(importer=leaf.importer)
    return Parties()
