"""Value types shared by every stage. Pure data: no I/O, no clocks.

Times are ISO 8601 strings in UTC (``2026-11-28T11:04:23Z``) on the wire; in memory we keep
``datetime`` with tzinfo=UTC. Binary keys and digests are raw ``bytes``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Literal, get_args

import msgspec

Jurisdiction = Literal["CN", "BN", "KH", "ID", "LA", "MY", "MM", "PH", "SG", "TH", "VN"]
JURISDICTIONS: tuple[str, ...] = get_args(Jurisdiction)

Role = Literal["exporter", "importer", "regulator", "operator"]
ROLES: tuple[str, ...] = get_args(Role)
# The name the hub acts under in the ledger (its re-check releases): never a participant's.
HUB_ACTOR = "hub"

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
    # Purposes that are also legal grounds for a transfer in some packs (docs/policy.md):
    "legal_obligation",  # required by a law the exporter is subject to (TH PDPA s.28(1))
    "legal_claims",  # legal proceedings, legal advice, establishing or defending rights (MY (d))
    "public_interest",  # a task in the (substantial) public interest (TH s.28(6), MY (h))
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
    "minor",  # the record's subject is a child (CN: under 14, PIPL Art. 28)
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
    "certified_bcr",  # binding corporate rules certified by the authority (TH PDPC)
]
FILING_KINDS: tuple[str, ...] = get_args(FilingKind)
# Filings that are made for one named overseas recipient: a standard contract is signed
# with one recipient, a security assessment and a certification name theirs. One recorded
# without a recipient covers no importer (the stricter reading for legacy records).
RECIPIENT_REQUIRED_KINDS: frozenset[str] = frozenset(
    {"standard_contract", "security_assessment", "certification"}
)
# Validity in years when a filing has no end date: a security assessment result (CAC
# Provisions Art. 9) and a PI export certificate (Certification Measures, in force
# 1 Jan 2026) last 3 years.
DEFAULT_VALIDITY_YEARS: dict[str, int] = {"security_assessment": 3, "certification": 3}

EnterpriseSize = Literal["unknown", "micro", "small", "medium", "large", "startup", "household"]
ENTERPRISE_SIZES: tuple[str, ...] = get_args(EnterpriseSize)

# The legal instrument an agreement relies on.
Instrument = Literal[
    "cn_standard_contract",
    "asean_mcc_c2p",
    "asean_mcc_c2c",
    "bcr",
    "cbpr",
    "consent",
    "contract_necessity",  # to conclude or perform a contract with the data subject
    "data_sharing_agreement",
    # A contract between exporter and importer made at the data subject's request or in
    # their interest (TH PDPA s.28(4), MY s.129(3)(c)).
    "third_party_contract",
    "publicly_available",  # the data is publicly available in the origin (SG reg. 10(2)(e))
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
    # Set by the operator from the registration: the pilot free trade zone the participant
    # is registered in ("" = none; CN Provisions Art. 6 para. 2), its corporate group ("" =
    # none; two participants of one group are related: binding corporate rules), its size
    # (VN small-enterprise relief), and whether it is a foreign judicial or law-enforcement
    # authority (CN DSL Art. 36, PIPL Art. 41).
    free_trade_zone: str = ""
    corporate_group: str = ""
    enterprise_size: EnterpriseSize = "unknown"
    foreign_authority: bool = False
    signing_key: bytes = b""  # raw Ed25519 public key (32 bytes): the current one
    hpke_key: bytes = b""  # raw HPKE public key: X25519 (32 bytes) or ML-KEM-768+X25519 (1216)
    active: bool = True
    # Key history, oldest first (silkgate.registry.keys); empty: only the keys above.
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
    recipient: str | None  # importer id it names; None = any (not for RECIPIENT_REQUIRED_KINDS)
    valid_from: date
    valid_until: date | None = None  # None: DEFAULT_VALIDITY_YEARS for its kind, else open
    reference: str = ""  # e.g. the CAC filing number

    @property
    def last_valid_day(self) -> date | None:
        """The last day the filing is valid; None = no end.

        Without an end date, a kind with a default validity lasts that many years counted
        from and including `valid_from` (2023-06-01 -> last day 2026-05-31: the stricter of
        the two readings of "valid for 3 years from the date of issue")."""
        if self.valid_until is not None:
            return self.valid_until
        years = DEFAULT_VALIDITY_YEARS.get(self.kind)
        if years is None:
            return None
        return _add_years(self.valid_from, years) - timedelta(days=1)

    def coverage_problem(self, importer: str, on: date) -> str | None:
        """Why this filing does not cover a transfer to `importer` on `on`; None if it does."""
        if self.recipient is None and self.kind in RECIPIENT_REQUIRED_KINDS:
            return f"filing {self.id} ({self.kind}) names no recipient, so it covers none"
        if self.recipient is not None and self.recipient != importer:
            return f"filing {self.id} ({self.kind}) names {self.recipient}, not {importer}"
        if on < self.valid_from:
            return f"filing {self.id} ({self.kind}) is valid from {self.valid_from.isoformat()}"
        last = self.last_valid_day
        if last is not None and on > last:
            how = (
                ""
                if self.valid_until is not None
                else (
                    f" ({DEFAULT_VALIDITY_YEARS[self.kind]} years from and including "
                    f"{self.valid_from.isoformat()}, the stricter reading; record its end date "
                    "if the authority's document says otherwise)"
                )
            )
            return f"filing {self.id} ({self.kind}) lapsed after {last.isoformat()}{how}"
        return None

    def covers(self, importer: str, on: date) -> bool:
        return self.coverage_problem(importer, on) is None


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February -> 28 February
        return day.replace(year=day.year + years, day=28)


class Finding(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, gc=False):
    # Untracked by the garbage collector (many per batch): only str, int and tuples of them.
    path: str  # RFC 9535 normalized path, e.g. $['consignee']['phone']
    type: FindingType
    detector: str
    country: str | None = None
    span: tuple[int, int] | None = None  # character offsets inside the string, if partial
    confidence: Confidence = "high"
    # What supports it: "key", "context", "annotation", "checksum", "date", "region", ...;
    # a failed metadata check reads "no_<check>" ("no_iin", "no_numbering_plan").
    evidence: tuple[str, ...] = ()


class Obligation(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, gc=False):
    action: ObligationAction
    path: str  # normalized path the action applies to
    finding_type: str | None = None


class Decision(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One record's decision: what happens and why. Untracked by the garbage collector
    (one per record shape per batch): nothing it holds refers back to it."""

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
    # The records are personal information collected abroad, only passing through the
    # exporter's jurisdiction (CN Provisions Art. 4; TH 2024 notification): declared by
    # the exporter, recorded in the ledger's decision facts.
    transit: bool = False


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
