"""Held batches: list them, let a regulator release or reject them, and re-check them when
a filing is recorded.

A batch's `hold` records are sealed for the importer into one envelope in state `held`.
The hub cannot open it, so every decision here is made from what the hub stored at
submission: the batch's result (rule ids, citations, the procedures required) and the
records' decision facts (finding paths and types, keyed subject hashes; never contents).

- **release** (a regulator): the envelope becomes `pending` with a fresh delivery TTL, a
  delivery message is queued, the held records' subjects are counted (in the calendar year
  of the release: that is when the data crosses) and a ledger leaf `hold_release` records
  who, when and why.
- **reject** (a regulator): the envelope becomes `rejected`, its sealed data is dropped, and
  a ledger leaf `hold_reject` records who, when and why. Nothing is counted.
- **signed**: a release or a rejection carries the regulator's Ed25519 signature over the
  action's canonical message (`hold_message`), verified against the regulator's key history
  as sandbox approvals are (silkgate.sandbox.auth); the leaf carries the key id and the
  signature, so anyone with the regulator's public key can check it (`verify_hold_leaf`).
  Whoever holds the hub's data directory cannot act as the regulator without its key.
- **re-check**: each held batch's records are decided again from their facts against the
  filings on file today and the active engine (counts as they stand now). If every held
  record would now be `allow`, the batch is released like above, by the hub (`by` is
  `HUB_ACTOR`), with a reason naming the new filings; otherwise it stays held and the
  report says why. A record that would now be `allow_transformed` stays held: the hub
  cannot transform a sealed envelope. The hub signs its release as a regulator signs one:
  with its signing key (the one that signs envelope headers; its public halves, current
  and retired, are the hub's published signing keys), over the same `hold_message`.
- **verify**: `verify_hold_leaf` checks either kind offline, choosing the key by the leaf's
  `by`: the hub's keys for a hub release, the regulator's key otherwise; a leaf whose
  signer and `by` do not go together is refused.

Each action is one store transaction. Releasing or rejecting an envelope that is no longer
held is a ConflictError (HTTP 409) naming its state; a re-check only looks at held
envelopes, so repeating it changes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from silkgate.canonical import canonical_json
from silkgate.clock import Clock, Random, system_random
from silkgate.errors import (
    AuthError,
    ConflictError,
    ForbiddenError,
    InputError,
    NotFoundError,
    SilkgateError,
    VerificationError,
)
from silkgate.flow.decide import Decider
from silkgate.ledger import TransparencyLog
from silkgate.ledger.leaves import HoldRejectLeaf, HoldReleaseLeaf, append_leaf, decode_leaf
from silkgate.ledger.notes import keep_note, read_note
from silkgate.mailbox.service import MailboxService
from silkgate.model import HUB_ACTOR, BatchResult, Decision, Filing
from silkgate.policy import PolicyEngine, RecordInput
from silkgate.policy.compile import Chain
from silkgate.policy.engine import Shape, make_shape
from silkgate.registry.keys import request_key
from silkgate.sandbox.auth import Approval, sign_action, verify_approval
from silkgate.sandbox.evaluate import countable, stored_sig
from silkgate.seal.envelope import envelope_digest
from silkgate.seal.keys import ed25519_key_id
from silkgate.store.base import DecisionFact, Store, StoredEnvelope, iter_all_envelopes
from silkgate.store.ports import finding_of_row

if TYPE_CHECKING:
    from silkgate.hub import Hub

RELEASE_KIND = str(HoldReleaseLeaf.__struct_config__.tag)
REJECT_KIND = str(HoldRejectLeaf.__struct_config__.tag)
MAX_REASON = 2000
PublicKeys = Mapping[str, Ed25519PublicKey]  # key id (ed25519:...) -> public key


# ----------------------------------------------------------------------------- values
class HoldReason(msgspec.Struct, frozen=True, kw_only=True):
    """Why some of a batch's records are held: the rules that fired and what they need."""

    rule_ids: tuple[str, ...]
    citations: tuple[str, ...]
    requires: tuple[str, ...]  # the procedures that would lift the hold, e.g. standard_contract
    records: int


class HeldBatch(msgspec.Struct, frozen=True, kw_only=True):
    """A held envelope with its batch's metadata. Never contents."""

    envelope_id: str
    batch_id: str
    exporter: str
    importer: str
    product: str
    purpose: str
    records: int  # held records (the sealed envelope's count)
    batch_records: int
    held_at: datetime
    policy_version: str
    reasons: tuple[HoldReason, ...]


class HoldAction(msgspec.Struct, frozen=True, kw_only=True):
    """What a release or a rejection did."""

    action: str  # "released" | "rejected"
    envelope_id: str
    batch_id: str
    exporter: str
    importer: str
    by: str
    reason: str
    records: int
    counted: dict[str, int]  # category -> subjects newly counted (release only)
    ledger_index: int
    at: datetime
    expires_at: datetime | None  # new delivery deadline (release only)


class RecheckItem(msgspec.Struct, frozen=True, kw_only=True):
    envelope_id: str
    batch_id: str
    exporter: str
    importer: str
    released: bool
    reason: str
    outcomes: dict[str, int]  # what the held records would get now
    ledger_index: int | None = None


class RecheckReport(msgspec.Struct, frozen=True, kw_only=True):
    checked: int
    released: int
    still_held: int
    items: tuple[RecheckItem, ...]


class HoldAudit(msgspec.Struct, frozen=True, kw_only=True):
    """Every hold decision in the log, its signature checked (`HoldService.audit`)."""

    leaves: int  # hold_release and hold_reject leaves in the log
    by_hub: int  # the hub's re-check releases whose signature verifies
    by_regulators: int  # regulators' releases and rejections whose signature verifies
    unsigned: tuple[int, ...]  # ledger indexes of leaves written before they were signed


# ----------------------------------------------------------------------------- pure logic
def hold_reasons(result: BatchResult) -> tuple[HoldReason, ...]:
    """The distinct reasons of a batch's held records, most frequent first."""
    counts: Counter[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = Counter()
    for d in result.decisions:
        if d.outcome == "hold":
            requires = tuple(str(r) for r in d.facts.get("requires", ()))
            counts[(d.rule_ids, d.citations, requires)] += 1
    return tuple(
        HoldReason(rule_ids=r, citations=c, requires=q, records=n)
        for (r, c, q), n in counts.most_common()
    )


def held_batch(envelope: StoredEnvelope, result: BatchResult) -> HeldBatch:
    return HeldBatch(
        envelope_id=envelope.id,
        batch_id=result.batch_id,
        exporter=result.exporter,
        importer=result.importer,
        product=result.product,
        purpose=result.purpose,
        records=result.outcomes.get("hold", 0),
        batch_records=result.records,
        held_at=envelope.created_at,
        policy_version=result.policy_version,
        reasons=hold_reasons(result),
    )


HOLD_ACTIONS = ("release", "reject")


def hold_message(action: str, envelope_id: str, reason: str, by: str) -> bytes:
    """The exact bytes a regulator signs to release or reject a held envelope, and the hub
    signs to release one on re-check (`by` is HUB_ACTOR): canonical JSON of
    {"action": "silkgate.holds.<action>", "by", "envelope_id", "reason"} (keys sorted, no
    whitespace, UTF-8; the reason as recorded, i.e. stripped)."""
    if action not in HOLD_ACTIONS:
        raise InputError(f"unknown hold action {action!r}; known: {', '.join(HOLD_ACTIONS)}")
    body = {"action": f"silkgate.holds.{action}", "envelope_id": envelope_id,
            "reason": reason.strip(), "by": by}  # fmt: skip
    return canonical_json(body)


def sign_hold(
    key: Ed25519PrivateKey, by: str, action: str, envelope_id: str, reason: str
) -> Approval:
    """`by` (a regulator, or the hub as HUB_ACTOR) signs releasing or rejecting
    `envelope_id` for `reason`."""
    return sign_action(key, by, hold_message(action, envelope_id, reason, by))


def public_keys(*keys: Ed25519PublicKey | bytes) -> dict[str, Ed25519PublicKey]:
    """Key id -> key, for `verify_hold_leaf` (raw 32-byte public keys or key objects)."""
    out: dict[str, Ed25519PublicKey] = {}
    for key in keys:
        public = Ed25519PublicKey.from_public_bytes(key) if isinstance(key, bytes) else key
        out[ed25519_key_id(public)] = public
    return out


def verify_hold_leaf(
    leaf: HoldReleaseLeaf | HoldRejectLeaf,
    reason: str | None = None,
    *,
    hub: PublicKeys | None = None,
    regulator: Ed25519PublicKey | PublicKeys | None = None,
) -> None:
    """Check a `hold_release`/`hold_reject` leaf's signature offline. The leaf's `by` says
    whose key must have signed: HUB_ACTOR (a re-check's release) is checked with `hub`, the
    hub's published signing keys (key id -> key: /v1/hub `signing_keys`, the SDK's
    `hub_public_keys()`, Hub.envelope_public_keys()); anyone else with `regulator`, that
    regulator's public key (or its keys by id). The key is picked by the leaf's `key_id`
    and must be of the role `by` names: a hub leaf signed with a participant's key, or a
    regulator's leaf signed with one of the hub's keys (refused whenever `hub` is given
    too), does not verify. The signature covers the reason, which the leaf holds only as
    a commitment (silkgate.ledger.notes): pass the text (`HoldService.reason(leaf)`, or as
    a party handed it over). Raises VerificationError."""
    kind = leaf.__struct_config__.tag
    action = "release" if isinstance(leaf, HoldReleaseLeaf) else "reject"
    by_hub = leaf.by == HUB_ACTOR
    automatic = isinstance(leaf, HoldReleaseLeaf) and bool(leaf.automatic)
    if by_hub and action != "release":
        raise VerificationError(
            f"the {kind} leaf of {leaf.envelope_id} names the hub, which never rejects a hold"
        )
    if by_hub != automatic:
        raise VerificationError(
            f"the {kind} leaf of {leaf.envelope_id} says it was made by {leaf.by!r} but "
            + ("is not marked automatic" if by_hub else "is marked as the hub's re-check")
            + ": only the hub's re-check releases automatically"
        )
    if not leaf.signature or not leaf.key_id:
        signer = "the hub's" if by_hub else "a regulator"
        raise VerificationError(
            f"the {kind} leaf of {leaf.envelope_id} carries no signature: it was written "
            f"before {signer} signed hold {'releases' if by_hub else 'decisions'}, so only "
            "the log's checkpoints vouch for it"
        )
    key = _signer_key(leaf, by_hub, hub, regulator)
    text = leaf.reason if leaf.reason is not None else reason
    if text is None:
        raise VerificationError(
            f"the {kind} leaf of {leaf.envelope_id} commits to its "
            "reason: give the reason's text to check the signature over it"
        )
    try:
        key.verify(
            bytes.fromhex(leaf.signature), hold_message(action, leaf.envelope_id, text, leaf.by)
        )  # fmt: skip
    except (InvalidSignature, ValueError):
        raise VerificationError(
            f"the signature on the {action} of {leaf.envelope_id} by {leaf.by} does not verify "
            f"with key {leaf.key_id} (the envelope id, the reason, `by` or the signature "
            "differ from what was signed)"
        ) from None


def verify_hold_entry(
    entry: bytes,
    reason: str | None,
    *,
    hub: PublicKeys | None = None,
    regulator: Ed25519PublicKey | PublicKeys | None = None,
) -> HoldReleaseLeaf | HoldRejectLeaf:
    """A ledger entry (e.g. a proof bundle's) that must be a `hold_release`/`hold_reject`
    leaf whose signature verifies (`verify_hold_leaf`); the leaf. Raises
    VerificationError."""
    try:
        leaf = decode_leaf(entry)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise VerificationError(f"the entry is not a ledger leaf silkgate knows: {exc}") from None
    if not isinstance(leaf, HoldReleaseLeaf | HoldRejectLeaf):
        raise VerificationError(
            f"the entry is a {leaf.__struct_config__.tag} leaf, not {RELEASE_KIND} or "
            f"{REJECT_KIND}: it carries no hold decision to check"
        )
    verify_hold_leaf(leaf, reason, hub=hub, regulator=regulator)
    return leaf


def _signer_key(
    leaf: HoldReleaseLeaf | HoldRejectLeaf,
    by_hub: bool,
    hub: PublicKeys | None,
    regulator: Ed25519PublicKey | PublicKeys | None,
) -> Ed25519PublicKey:
    """The key the leaf's signature must verify with: of the role its `by` names, by id."""
    key_id = str(leaf.key_id)
    hub_keys = _by_id(hub)
    if by_hub:
        if hub is None:
            raise VerificationError(
                f"the release of {leaf.envelope_id} is the hub's re-check: give the hub's "
                "public signing keys (/v1/hub `signing_keys`) to check it"
            )
        if key_id not in hub_keys:
            raise VerificationError(
                f"the release of {leaf.envelope_id} says the hub made it, but its key "
                f"{key_id} is not one of this hub's signing keys ({', '.join(hub_keys)}): "
                "a leaf of another hub, or signed by someone else"
            )
        return hub_keys[key_id]
    if regulator is None:
        raise VerificationError(
            f"the {leaf.__struct_config__.tag} of {leaf.envelope_id} is {leaf.by}'s: give "
            "that regulator's public key to check it"
        )
    given = _by_id(regulator)
    for given_id in given:
        if given_id in hub_keys:
            raise VerificationError(
                f"the key given for {leaf.by} ({given_id}) is one of the hub's signing keys, "
                "not a regulator's"
            )
    if key_id in hub_keys:
        raise VerificationError(
            f"the {leaf.__struct_config__.tag} of {leaf.envelope_id} says {leaf.by} made it, "
            f"but it is signed with the hub's key {key_id}"
        )
    if key_id not in given:
        raise VerificationError(
            f"the {leaf.__struct_config__.tag} of {leaf.envelope_id} by {leaf.by} is signed "
            f"with key {key_id}, not with the key given ({', '.join(given)})"
        )
    return given[key_id]


def _by_id(keys: Ed25519PublicKey | PublicKeys | None) -> dict[str, Ed25519PublicKey]:
    """Keys by their id, recomputed from the keys (a mislabelled mapping entry is ignored)."""
    if keys is None:
        return {}
    if isinstance(keys, Ed25519PublicKey):
        return public_keys(keys)
    return public_keys(*keys.values())


def check_reason(reason: str) -> str:
    text = reason.strip()
    if not text:
        raise InputError("a reason is required: say why (it is recorded in the ledger)")
    if len(text) > MAX_REASON:
        raise InputError(f"the reason is {len(text)} characters; at most {MAX_REASON}")
    return text


def record_shape(chain: Chain, fact: DecisionFact) -> Shape:
    """The record's shape (types, legal categories) rebuilt from its stored facts."""
    findings = tuple(finding_of_row(row, "facts") for row in fact.findings)
    rec = RecordInput(findings=findings, subjects=(), paths=fact.paths)
    return make_shape(chain, fact.product, fact.sector, fact.purpose, rec)


def subjects_to_count(
    chain: Chain | None, facts: Sequence[DecisionFact], countable_batch: bool
) -> dict[str, list[bytes]]:
    """Category -> the held records' subject hashes to count when they cross untransformed
    (as the engine counts an `allow`: every counted category the record holds)."""
    pools: dict[str, dict[bytes, None]] = {}
    if chain is None or not countable_batch:
        return {}
    for fact in facts:
        for category in record_shape(chain, fact).countable:
            pools.setdefault(category, {}).update(dict.fromkeys(fact.subjects))
    return {c: list(v) for c, v in pools.items() if v}


@dataclass(frozen=True)
class Redecision:
    decisions: list[Decision]  # per held record, in order
    counted: dict[str, list[bytes]]

    @property
    def outcomes(self) -> dict[str, int]:
        return dict(Counter(d.outcome for d in self.decisions))

    @property
    def rule_ids(self) -> tuple[str, ...]:
        """Of the records that would not be `allow`."""
        return tuple(
            dict.fromkeys(r for d in self.decisions if d.outcome != "allow" for r in d.rule_ids)
        )

    @property
    def all_allow(self) -> bool:
        return set(self.outcomes) == {"allow"}


def release_leaf(
    envelope: StoredEnvelope, records: int, by: str, reason_commitment: str,
    counted: dict[str, int], now: datetime, extra: dict[str, Any] | None = None,
    approval: Approval | None = None,
) -> HoldReleaseLeaf:  # fmt: skip
    """The `hold_release` leaf, signed by `approval` (the regulator's, or the hub's for a
    re-check); `extra` (a re-check's release) may set `automatic`, `filings`,
    `policy_version` and `requested_by`. It shows the released envelope's digest, which
    opens the commitment in the batch leaf."""
    return HoldReleaseLeaf(
        envelope_id=envelope.id, batch_id=envelope.batch_id, exporter=envelope.exporter,
        importer=envelope.importer, records=records, by=by,
        reason_commitment=reason_commitment, time=now, counted=counted,
        digest=envelope_digest(envelope.data).hex(), **(extra or {}), **_signed(approval),
    )  # fmt: skip


def _signed(approval: Approval | None) -> dict[str, Any]:
    if approval is None:
        return {}
    return {"key_id": approval.key_id, "signature": approval.signature.hex()}


def reject_leaf(
    envelope: StoredEnvelope, records: int, by: str, reason_commitment: str, now: datetime,
    approval: Approval | None = None,
) -> HoldRejectLeaf:  # fmt: skip
    return HoldRejectLeaf(
        envelope_id=envelope.id, batch_id=envelope.batch_id, exporter=envelope.exporter,
        importer=envelope.importer, records=records, by=by,
        reason_commitment=reason_commitment, time=now, **_signed(approval),
    )  # fmt: skip


def filing_reason(new: Sequence[Filing], policy_version: str) -> str:
    if not new:
        return f"re-check under policy {policy_version}: every held record is now allowed"
    named = ", ".join(f"{f.id} ({f.kind}{', ' + f.reference if f.reference else ''})" for f in new)
    return f"re-check: filing {named} now covers this transfer (policy {policy_version})"


# ----------------------------------------------------------------------------- service
@dataclass
class HoldService:
    """Held batches over the store. Re-checks decide through `decider`, as `send` does, and
    sign their releases with `signing_key` (the hub's: Hub.secrets.signing_key); `flush`
    publishes committed outbox messages (the pipeline's flush_outbox)."""

    store: Store
    log: TransparencyLog
    clock: Clock
    delivery_ttl: timedelta
    decider: Decider
    signing_key: Ed25519PrivateKey
    flush: Callable[[], int] = lambda: 0
    random: Random = system_random  # salts of the reasons' commitments

    @classmethod
    def for_hub(cls, hub: Hub) -> HoldService:
        return cls(
            store=hub.store,
            log=hub.log,
            clock=hub.pipeline.clock,
            delivery_ttl=hub.pipeline.delivery_ttl,
            decider=hub.pipeline.decider,
            signing_key=hub.secrets.signing_key,
            flush=hub.pipeline.flush_outbox,
            random=hub.pipeline.random,
        )

    def reason(self, leaf: HoldReleaseLeaf | HoldRejectLeaf) -> str:
        """Why a hold was released or rejected: the text behind the leaf's commitment."""
        if leaf.reason_commitment is None:
            return leaf.reason or ""
        return read_note(self.store, leaf.reason_commitment)

    def engine(self) -> PolicyEngine:
        return self.decider.live_engine()

    @property
    def mailbox(self) -> MailboxService:
        """The envelope state machine: releases and rejections move envelopes through it."""
        return MailboxService(self.store, self.log, self.clock, self.delivery_ttl)

    # -- reads ---------------------------------------------------------------------------
    def list_held(
        self, *, exporter: str | None = None, limit: int | None = None, offset: int = 0
    ) -> list[HeldBatch]:
        """Held envelopes (oldest first) with their batch's metadata and reasons: the page
        [offset, offset + limit), all when `limit` is None (batches are read for the page
        only)."""
        envelopes = self._held_envelopes(exporter)
        page = envelopes[offset:] if limit is None else envelopes[offset : offset + limit]
        return [held_batch(e, self.store.get_batch_result(e.batch_id)) for e in page]

    def count_held(self, *, exporter: str | None = None) -> int:
        return len(self._held_envelopes(exporter))

    def get(self, envelope_id: str) -> HeldBatch:
        envelope = self._held(envelope_id, "read")
        return held_batch(envelope, self.store.get_batch_result(envelope.batch_id))

    # -- regulator actions ----------------------------------------------------------------
    def release(self, envelope_id: str, *, approval: Approval, reason: str) -> HoldAction:
        """Release a held envelope for delivery (a regulator's decision, signed: `approval`
        over hold_message("release", envelope_id, reason, approval.by))."""
        text = check_reason(reason)
        by = approval.by
        self._verify(approval, "release", envelope_id, text)
        with self.store.transaction():
            envelope = self._held(envelope_id, "release")
            facts = self._facts(envelope)
            chain = self.engine().chains.get(facts[0].origin)
            to_count = subjects_to_count(chain, facts, _countable(chain, facts[0]))
            action = self._release(envelope, facts, to_count, by, text, {}, approval)
        self.flush()
        return action

    def reject(self, envelope_id: str, *, approval: Approval, reason: str) -> HoldAction:
        """Reject a held envelope: its sealed data is dropped and it is never delivered
        (signed like a release)."""
        text = check_reason(reason)
        by = approval.by
        self._verify(approval, "reject", envelope_id, text)
        now = self.clock()
        with self.store.transaction():
            envelope = self._held(envelope_id, "reject")
            records = self.store.get_batch_result(envelope.batch_id).outcomes.get("hold", 0)
            self.mailbox.reject(envelope.id)
            committed = keep_note(self.store, text, self.random)
            leaf = reject_leaf(envelope, records, by, committed, now, approval)
            index = append_leaf(self.log, leaf)
        return HoldAction(
            action="rejected", envelope_id=envelope.id, batch_id=envelope.batch_id,
            exporter=envelope.exporter, importer=envelope.importer, by=by, reason=text,
            records=records, counted={}, ledger_index=index, at=now, expires_at=None,
        )  # fmt: skip

    # -- re-check ------------------------------------------------------------------------
    def record_filing(self, filing: Filing) -> RecheckReport:
        """Store a filing, then re-check its exporter's held batches: a hold waits until the
        missing step is recorded (CLI and API both record filings through here)."""
        self.store.put_filing(filing)
        return self.recheck(exporter=filing.exporter)

    def recheck(
        self, *, exporter: str | None = None, requested_by: str | None = None
    ) -> RecheckReport:
        """Re-decide every held batch (of `exporter`, or all) and release those whose held
        records would all be `allow` now. The release is the hub's decision whoever asked:
        its leaf says `by` HUB_ACTOR, is signed with the hub's key, and names the
        participant who asked (`requested_by`, over the API) besides. One transaction per
        batch."""
        items = [self._recheck_one(e.id, requested_by) for e in self._held_envelopes(exporter)]
        self.flush()
        released = sum(1 for i in items if i.released)
        return RecheckReport(
            checked=len(items), released=released, still_held=len(items) - released,
            items=tuple(items),
        )  # fmt: skip

    def _held_envelopes(self, exporter: str | None) -> list[StoredEnvelope]:
        filters = {"state": "held", **({"exporter": exporter} if exporter else {})}
        return list(iter_all_envelopes(self.store, **filters))

    def _recheck_one(self, envelope_id: str, requested_by: str | None) -> RecheckItem:
        with self.store.transaction():
            envelope = self.store.get_envelope(envelope_id)
            if envelope.state != "held":  # released or rejected meanwhile
                return _item(envelope, False, f"no longer held ({envelope.state})", {})
            return self._recheck_held(envelope, requested_by)

    def _recheck_held(self, envelope: StoredEnvelope, requested_by: str | None) -> RecheckItem:
        facts = self._facts(envelope, strict=False)
        if not facts:
            return _item(envelope, False, "no decision facts stored: a regulator must decide", {})
        first = facts[0]
        engine = self.engine()
        outcome = self.redecide(facts, engine)
        if not outcome.all_allow:
            return _item(envelope, False, _still_held(outcome), outcome.outcomes)
        new = [
            f
            for f in self.decider.filings(first.exporter, first.importer, self.clock().date())
            if f.kind not in first.filings
        ]
        reason = filing_reason(new, engine.version)
        extra = {"automatic": True, "filings": [f.id for f in new],
                 "policy_version": engine.version, "requested_by": requested_by}  # fmt: skip
        signed = sign_hold(self.signing_key, HUB_ACTOR, "release", envelope.id, reason)
        action = self._release(envelope, facts, outcome.counted, HUB_ACTOR, reason, extra, signed)
        return _item(envelope, True, reason, outcome.outcomes, action.ledger_index)

    def preview(self, envelope_id: str) -> Redecision:
        """What a re-check would decide for a held envelope's records now (nothing written)."""
        return self.redecide(self._facts(self._held(envelope_id, "re-check")))

    def redecide(
        self, facts: Sequence[DecisionFact], engine: PolicyEngine | None = None
    ) -> Redecision:
        """Decide the held records again as `send` would now: today's agreement, filings
        and counts, the live engine (nothing written)."""
        decided = self.decider.redecide_from_facts(
            engine or self.engine(), facts, self.clock().date()
        )
        return Redecision(decided.decisions, decided.counted)

    # -- audit ---------------------------------------------------------------------------
    def audit(self, hub_keys: PublicKeys, *, page: int = 1000) -> HoldAudit:
        """Check the signature of every `hold_release`/`hold_reject` leaf in the log: the
        hub's re-check releases with `hub_keys` (Hub.envelope_public_keys()), a regulator's
        decisions with its key named by the leaf, valid and not revoked when it signed
        (the registry's key history), each over the reason behind the leaf's commitment.
        Leaves written before holds were signed are listed, not failed. Raises
        VerificationError naming the first leaf that does not verify."""
        leaves = by_hub = by_regulators = 0
        unsigned: list[int] = []
        size = self.store.ledger_size()
        for start in range(0, size, page):
            entries = self.store.ledger_entries(start, min(start + page, size))
            for index, entry in enumerate(entries, start):
                if b'"kind":"hold_' not in entry:  # canonical JSON: no space after ':'
                    continue
                leaf = decode_leaf(entry)
                if not isinstance(leaf, HoldReleaseLeaf | HoldRejectLeaf):
                    continue
                leaves += 1
                if not leaf.signature and not leaf.key_id:
                    unsigned.append(index)
                    continue
                try:
                    self._audit_leaf(leaf, hub_keys)
                except SilkgateError as exc:
                    raise VerificationError(f"ledger entry {index}: {exc}") from None
                if leaf.by == HUB_ACTOR:
                    by_hub += 1
                else:
                    by_regulators += 1
        return HoldAudit(
            leaves=leaves, by_hub=by_hub, by_regulators=by_regulators, unsigned=tuple(unsigned)
        )

    def _audit_leaf(self, leaf: HoldReleaseLeaf | HoldRejectLeaf, hub_keys: PublicKeys) -> None:
        regulator: Ed25519PublicKey | None = None
        if leaf.by != HUB_ACTOR and leaf.key_id:
            try:
                signer = self.store.get_participant(leaf.by)
            except NotFoundError:
                raise VerificationError(f"{leaf.by!r} is not a registered participant") from None
            try:  # the key it names, valid and not revoked when the leaf was written
                regulator = request_key(signer, leaf.key_id, leaf.time)
            except AuthError as exc:
                raise VerificationError(f"{exc} (when the leaf was written)") from None
        verify_hold_leaf(leaf, self.reason(leaf), hub=hub_keys, regulator=regulator)

    # -- shared steps (inside the caller's transaction) -----------------------------------
    def _release(
        self,
        envelope: StoredEnvelope,
        facts: Sequence[DecisionFact],
        to_count: dict[str, list[bytes]],
        by: str,
        reason: str,
        extra: dict[str, Any],
        approval: Approval | None = None,
    ) -> HoldAction:
        now = self.clock()
        counted = {
            c: self.store.add_subjects(envelope.exporter, now.year, c, hashes)
            for c, hashes in sorted(to_count.items())
        }
        expires = self.mailbox.release(envelope.id, now=now).expires_at
        committed = keep_note(self.store, reason, self.random)
        leaf = release_leaf(envelope, len(facts), by, committed, counted, now, extra, approval)
        index = append_leaf(self.log, leaf)
        return HoldAction(
            action="released", envelope_id=envelope.id, batch_id=envelope.batch_id,
            exporter=envelope.exporter, importer=envelope.importer, by=by, reason=reason,
            records=len(facts), counted=counted, ledger_index=index, at=now, expires_at=expires,
        )  # fmt: skip

    def _held(self, envelope_id: str, verb: str) -> StoredEnvelope:
        try:
            envelope = self.store.get_envelope(envelope_id)
        except NotFoundError:
            raise NotFoundError(
                f"no envelope {envelope_id!r}; `silkgate holds list` shows the held ones"
            ) from None
        if envelope.state != "held":
            raise ConflictError(
                f"envelope {envelope_id} is {envelope.state}, not held: cannot {verb} it "
                "(a hold is released or rejected once)"
            )
        return envelope

    def _facts(self, envelope: StoredEnvelope, *, strict: bool = True) -> list[DecisionFact]:
        """The decision facts of the envelope's held records (written in the batch's
        transaction, at the batch's commit time)."""
        result = self.store.get_batch_result(envelope.batch_id)
        until = result.committed_at + timedelta(microseconds=1)
        facts = [
            f
            for f in self.store.iter_facts(result.committed_at, until)
            if f.batch_id == result.batch_id and f.outcome == "hold"
        ]
        if strict and (not facts or len(facts) != result.outcomes.get("hold", 0)):
            raise ConflictError(
                f"batch {result.batch_id} has {len(facts)} stored decision facts for its "
                f"{result.outcomes.get('hold', 0)} held records, so its subjects cannot be "
                "counted; reject it, and have the exporter resubmit"
            )
        return facts

    def _verify(self, approval: Approval, action: str, envelope_id: str, reason: str) -> None:
        """The signer is an active regulator and its signature, with one of its keys valid
        now and not revoked, verifies over the action's message."""
        self._regulator(approval.by)
        message = hold_message(action, envelope_id, reason, approval.by)
        verify_approval(self.store, approval, message, self.clock())

    def _regulator(self, participant_id: str) -> None:
        if participant_id == HUB_ACTOR:  # a leaf by HUB_ACTOR is checked with the hub's keys
            raise ForbiddenError(
                f"{HUB_ACTOR!r} is the name the hub's re-check releases under: a participant "
                "registered with that id may not release or reject held batches"
            )
        try:
            participant = self.store.get_participant(participant_id)
        except NotFoundError:
            raise ForbiddenError(f"{participant_id!r} is not a registered participant") from None
        if "regulator" not in participant.roles:
            raise ForbiddenError(
                f"{participant_id} ({', '.join(participant.roles)}) may not release or reject "
                "held batches: only a regulator may"
            )
        if not participant.active:
            raise ForbiddenError(
                f"{participant_id} is deactivated: it may not release or reject held batches"
            )


def _countable(chain: Chain | None, fact: DecisionFact) -> bool:
    return chain is not None and countable(chain, stored_sig(fact))


def _still_held(outcome: Redecision) -> str:
    counts = ", ".join(f"{n} {o}" for o, n in sorted(outcome.outcomes.items()))
    why = ", ".join(outcome.rule_ids)
    note = ""
    if "allow_transformed" in outcome.outcomes:
        note = "; records needing a transform stay held (the hub cannot open the envelope)"
    return f"would now be {counts} ({why}){note}"


def _item(
    envelope: StoredEnvelope,
    released: bool,
    reason: str,
    outcomes: dict[str, int],
    ledger_index: int | None = None,
) -> RecheckItem:
    return RecheckItem(
        envelope_id=envelope.id, batch_id=envelope.batch_id, exporter=envelope.exporter,
        importer=envelope.importer, released=released, reason=reason, outcomes=outcomes,
        ledger_index=ledger_index,
    )  # fmt: skip


def summarize(items: Iterable[RecheckItem]) -> list[str]:
    """One line per re-checked batch, for the CLI."""
    return [
        f"{'released' if i.released else 'held'} {i.envelope_id} (batch {i.batch_id}, "
        f"{i.exporter} → {i.importer}): {i.reason}"
        for i in items
    ]
