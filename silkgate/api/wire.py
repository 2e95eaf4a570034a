"""The API's request and response bodies: shared by the server and the SDK (no FastAPI
here, so the SDK does not import the server). Bytes travel as standard base64, times as
RFC 3339 UTC, as everywhere in silkgate."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import msgspec

from silkgate.model import Decision, FilingKind, Instrument, Purpose, Receipt


class SubmitBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A batch as submitted: the exporter is the caller."""

    importer: str
    product: str
    purpose: Purpose
    records: list[Any]
    exporter: str | None = None  # optional; must be the caller if given
    transit: bool = False  # PI collected abroad, passing through (see Batch.transit)


class DryRunBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What `POST /v1/batches` would decide for these records now, nothing committed: the
    records are split into batches of `batch_size` and decided in order, as `send` would."""

    importer: str
    product: str
    purpose: Purpose
    records: list[Any]
    exporter: str | None = None  # optional; must be the caller if given
    transit: bool = False
    batch_size: int = 500


class BatchSummary(msgspec.Struct, kw_only=True):
    """A batch's metadata, as listed: ids, parties, counts, outcome totals. No contents."""

    batch_id: str
    exporter: str
    importer: str
    product: str
    purpose: str
    records: int
    outcomes: dict[str, int]
    envelope_id: str | None
    held_id: str | None
    ledger_index: int | None
    policy_version: str
    committed_at: datetime


class BatchList(msgspec.Struct, kw_only=True):
    batches: list[BatchSummary]
    offset: int
    limit: int


class ReceiptWithProof(msgspec.Struct, kw_only=True):
    receipt: Receipt
    proof: dict[str, Any]  # a silkgate-proof-bundle/v1 (docs/ledger.md)


class BatchReceipts(msgspec.Struct, kw_only=True):
    batch_id: str
    log_origin: str
    log_key: str  # the log's verifier key (C2SP note vkey)
    batch_proof: dict[str, Any] | None  # proof bundle of the batch's own ledger entry
    receipts: list[ReceiptWithProof]


class EnvelopeInfo(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A pending envelope's metadata; `data` (the sealed bytes) only if asked for."""

    id: str
    batch_id: str
    exporter: str
    importer: str
    state: str
    created_at: datetime
    expires_at: datetime
    size: int
    digest: bytes  # SHA-256 of the sealed bytes: what the receipt signs
    attempts: int = 0
    data: bytes | None = None


class MailboxPage(msgspec.Struct, kw_only=True):
    envelopes: list[EnvelopeInfo]
    next_after: str | None  # pass as `after` to get the next page


class AgreementBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    exporter: str
    importer: str
    product: str
    purpose: Purpose
    instrument: Instrument
    valid_from: date | None = None  # default: today
    valid_until: date | None = None
    id: str | None = None
    active: bool = True


class FilingBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    exporter: str
    kind: FilingKind
    recipient: str | None = None  # None: covers any recipient
    valid_from: date | None = None
    valid_until: date | None = None
    reference: str = ""
    id: str | None = None


class HubKey(msgspec.Struct, frozen=True, kw_only=True):
    key_id: str
    public: bytes  # raw Ed25519 public key


class HubIdentity(msgspec.Struct, kw_only=True):
    signing_key: bytes  # raw Ed25519 public key that signs envelope headers (the current one)
    key_id: str
    log_origin: str
    log_key: str
    # Every key whose envelope and push signatures verify: the current one, then retired ones
    signing_keys: tuple[HubKey, ...] = ()


class ErrorBody(msgspec.Struct, kw_only=True, omit_defaults=True):
    error: str
    message: str
    record: int | None = None
    path: str | None = None


class CheckBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A dry run: the decision each record would get under the active policy. Nothing is
    committed or counted; an agreement with `instrument` is assumed."""

    origin: str  # CN or an ASEAN member
    destination: str
    product: str
    records: list[Any]
    purpose: Purpose | None = None  # default: the product's usual purpose
    prior_pi: int = 0  # individuals already exported this year
    prior_sensitive_pi: int = 0
    filings: list[FilingKind] = []  # filing kinds on file for this importer
    instrument: Instrument = "other"
    ciio: bool = False
    transit: bool = False
    sector: str = "logistics"
    on: date | None = None  # default: today


class CheckedRecord(msgspec.Struct, kw_only=True):
    index: int
    decision: Decision


class CheckResult(msgspec.Struct, kw_only=True):
    purpose: str
    outcomes: dict[str, int]
    decisions: list[CheckedRecord]
