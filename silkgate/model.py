"""Value types shared by every stage. Pure data: no I/O, no clocks.

Times are ISO 8601 strings in UTC (``2026-11-28T11:04:23Z``) on the wire; in memory we keep
``datetime`` with tzinfo=UTC. Binary keys and digests are raw ``bytes``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal, get_args

import msgspec

Jurisdiction = Literal["CN", "BN", "KH", "ID", "LA", "MY", "MM", "PH", "SG", "TH", "VN"]
JURISDICTIONS: tuple[str, ...] = get_args(Jurisdiction)

Role = Literal["exporter", "importer", "regulator", "operator"]
ROLES: tuple[str, ...] = get_args(Role)

Outcome = Literal["allow", "allow_transformed", "hold", "deny"]
OUTCOMES: tuple[str, ...] = get_args(Outcome)

Purpose = Literal[
    "contract_performance",
    "hr_management",
    "emergency",
    "logistics_operations",
    "customs_clearance",
    "analytics",
    "marketing",
    "other",
]
PURPOSES: tuple[str, ...] = get_args(Purpose)

FindingType = Literal[
    "person_name",
    "phone",
    "email",
    "address",
    "national_id",
    "passport",
    "bank_card",
    "bank_account",
    "ip_address",
    "precise_location",
    "date_of_birth",
    "vehicle_plate",
    "health",
    "biometric",
]
FINDING_TYPES: tuple[str, ...] = get_args(FindingType)

# How sure the classifier is (docs/classification.md): ``high`` = shape, every check the type
# has, and a key, context word or annotation vouching for it; ``medium`` = one of these short
# (no key or context, or a metadata check such as an IIN table or numbering plan failed under
# a telling key); ``low`` = shape only.
Confidence = Literal["high", "medium", "low"]
CONFIDENCES: tuple[str, ...] = get_args(Confidence)

FilingKind = Literal[
    "standard_contract",
    "certification",
    "security_assessment",
    "transfer_impact_assessment",
]
FILING_KINDS: tuple[str, ...] = get_args(FilingKind)

# The legal instrument an agreement relies on.
Instrument = Literal[
    "cn_standard_contract",
    "asean_mcc_c2p",
    "asean_mcc_c2c",
    "bcr",
    "cbpr",
    "consent",
    "contract_necessity",
    "data_sharing_agreement",
    "other",
]
INSTRUMENTS: tuple[str, ...] = get_args(Instrument)

ObligationAction = Literal["mask", "pseudonymize", "generalize", "drop"]
OBLIGATION_ACTIONS: tuple[str, ...] = get_args(ObligationAction)


class RegisteredKey(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One public key in a participant's key history (docs/envelope.md, key lifecycle).
    Valid from `not_before` to `not_after` (inclusive); once `revoked_at` is set it
    authenticates nothing new, and verifies only what was signed before that time."""

    key_id: str  # as in silkgate.seal.keys: "<algorithm>:" + 16 hex digits
    public: bytes  # raw public key
    not_before: datetime
    not_after: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def valid_at(self, at: datetime) -> bool:
        """In its window at `at`, and not revoked at or before `at`."""
        return (
            self.not_before <= at
            and (self.not_after is None or at <= self.not_after)
            and (self.revoked_at is None or at < self.revoked_at)
        )


class Participant(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    jurisdiction: Jurisdiction
    roles: tuple[Role, ...]
    ciio: bool = False
    sector: str = "logistics"
    signing_key: bytes = b""  # raw Ed25519 public key (32 bytes): the current one
    hpke_key: bytes = b""  # raw HPKE public key: X25519 (32 bytes) or ML-KEM-768+X25519 (1216)
    active: bool = True
    # Key history, oldest first (silkgate.participant_keys); empty: only the keys above.
    signing_keys: tuple[RegisteredKey, ...] = ()
    hpke_keys: tuple[RegisteredKey, ...] = ()


class Agreement(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    exporter: str
    importer: str
    product: str
    purpose: Purpose
    instrument: Instrument
    valid_from: date
    valid_until: date | None = None
    active: bool = True

    def in_force(self, on: date) -> bool:
        return (
            self.active
            and self.valid_from <= on
            and (self.valid_until is None or on <= self.valid_until)
        )


class Filing(msgspec.Struct, frozen=True, kw_only=True):
    """A legal procedure on file for an exporter: a filed standard contract, a certification,
    a passed security assessment or a transfer impact assessment."""

    id: str
    exporter: str
    kind: FilingKind
    recipient: str | None  # importer id it names; None = covers any recipient
    valid_from: date
    valid_until: date | None = None
    reference: str = ""  # e.g. the CAC filing number

    def covers(self, importer: str, on: date) -> bool:
        return (
            (self.recipient is None or self.recipient == importer)
            and self.valid_from <= on
            and (self.valid_until is None or on <= self.valid_until)
        )


class Finding(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    path: str  # RFC 9535 normalized path, e.g. $['consignee']['phone']
    type: FindingType
    detector: str
    country: str | None = None
    span: tuple[int, int] | None = None  # character offsets inside the string, if partial
    confidence: Confidence = "high"
    # What supports it: "key", "context", "annotation", "checksum", "date", "region", ...;
    # a failed metadata check reads "no_<check>" ("no_iin", "no_numbering_plan").
    evidence: tuple[str, ...] = ()


class Obligation(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    action: ObligationAction
    path: str  # normalized path the action applies to
    finding_type: str | None = None


class Decision(msgspec.Struct, frozen=True, kw_only=True):
    """One record's decision: what happens and why."""

    outcome: Outcome
    obligations: tuple[Obligation, ...] = ()
    rule_ids: tuple[str, ...] = ()
    citations: tuple[str, ...] = ()
    policy_version: str = ""
    facts: dict[str, Any] = {}
    tags: tuple[str, ...] = ()  # e.g. "sandbox:<experiment>"


class Batch(msgspec.Struct, kw_only=True):
    """A list of records of one product between one exporter and one importer."""

    id: str
    exporter: str
    importer: str
    product: str
    purpose: Purpose
    records: list[Any]
    idempotency_key: str | None = None
    submitted_at: datetime | None = None


class BatchResult(msgspec.Struct, frozen=True, kw_only=True):
    """What a submission produced. Contains no record contents."""

    batch_id: str
    exporter: str
    importer: str
    product: str
    purpose: str
    records: int
    outcomes: dict[str, int]  # outcome -> record count
    decisions: tuple[Decision, ...]
    envelope_id: str | None  # delivered envelope (allow + allow_transformed), if any
    held_id: str | None  # sealed held part (hold), if any
    ledger_index: int | None  # leaf index of the batch's ledger entry
    policy_version: str
    committed_at: datetime
    replayed: bool = False  # True when an idempotent resubmission returned the first result


class Receipt(msgspec.Struct, frozen=True, kw_only=True):
    """Importer-signed acknowledgement of one envelope."""

    envelope_id: str
    batch_id: str
    importer: str
    envelope_digest: bytes  # SHA-256 of the envelope bytes as delivered
    received_at: datetime
    key_id: str
    signature: bytes  # Ed25519 over the canonical receipt body
    ledger_index: int | None = None


class Checkpoint(msgspec.Struct, frozen=True, kw_only=True):
    origin: str
    size: int
    root_hash: bytes
    note: str  # the full signed note text
