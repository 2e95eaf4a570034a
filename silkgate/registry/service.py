"""The registry service: the one rule set for registering participants, their keys,
agreements and filings. The CLI (silkgate/cli/registry.py) and the API
(silkgate/api/registry.py) parse, call one method here, and print or serialize; every
refusal is raised here, so both edges refuse the same input with the same error class and
the same message.

The rules:

- **Ids** (participants, agreements, filings): 1-128 letters, digits, '.', '_', ':' or '-',
  starting with a letter or digit.
- **Participants**: a name, a known jurisdiction (China or an ASEAN member), at least one
  known role, well-formed public keys that no other participant has registered; the
  attributes the rule packs test are set by the operator and checked here: a
  `free_trade_zone` and a `corporate_group` (text, '' = none), an `enterprise_size` from
  model.ENTERPRISE_SIZES, `foreign_authority` true or false. Adding an
  id that exists never changes it: the same registration again is a safe retry (nothing
  changes), anything else is a ConflictError; new keys are registered by an explicit
  rotation (`rotate_keys`).
- **Agreements**: a known product, purpose and instrument; the exporter registered, active
  and holding the role exporter; the importer likewise with the role importer, and not the
  exporter itself; `valid_until` not before `valid_from`.
- **Filings**: a known kind; the exporter registered, active, with the role exporter; a
  named recipient registered, active, with the role importer, and a recipient named at all
  for a standard contract, a security assessment or a certification (made for one
  overseas recipient: model.RECIPIENT_REQUIRED_KINDS); sane dates. Recording one
  re-checks the exporter's held batches (``HoldService.record_filing``), here and only here.
- **Ending an agreement, withdrawing a filing** (`end_agreement`, `withdraw_filing`): sets
  `valid_until`, the last day it covers (inclusive: `Agreement.in_force` and
  `Filing.covers` read it so); the row stays, so history reads as it was. The last day may
  not be before `valid_from`, and may not be later than the day it already ends (for a
  filing without an end date, the last day of its kind's default validity): ending never
  extends. The same last day again is a safe retry (nothing changes). A reason is required;
  it goes with the actor and the time into the hub's log (``silkgate.registry``), as the
  store keeps no reason. Held batches are not re-checked: an end only takes coverage away.
- **Who may change the registry**: the edge authorizes by role (silkgate/api/authz.py); the
  service then checks the key the change was signed with. A key retired by a rotation keeps
  signing ordinary requests and receipts during its overlap, but it changes nothing in the
  registry: registrations, rotations and revocations need the participant's current
  (newest, valid, unrevoked) signing key, or the operator working on the hub's data
  directory (``LOCAL_OPERATOR``). So a stolen old key cannot rotate again or revoke the
  new key and lock its owner out.
- Dates default to today on the hub's clock, not the caller's.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import msgspec

from silkgate.clock import Clock
from silkgate.errors import ConflictError, ForbiddenError, InputError, NotFoundError
from silkgate.logs import fields as log_fields
from silkgate.model import (
    ENTERPRISE_SIZES,
    FILING_KINDS,
    HUB_ACTOR,
    INSTRUMENTS,
    JURISDICTIONS,
    PURPOSES,
    RECIPIENT_REQUIRED_KINDS,
    ROLES,
    Agreement,
    Filing,
    Participant,
    RegisteredKey,
)
from silkgate.products import get_product
from silkgate.registry.keys import (
    hpke_history,
    overlap_of,
    parse_public_keys,
    revoke,
    rotate,
    signing_history,
    with_history,
)
from silkgate.store.ports import RegistryPort, Transactional

if TYPE_CHECKING:
    from silkgate.flow.holds import RecheckReport
    from silkgate.hub import Hub

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
MAX_TEXT = 200  # names, sectors, filing references
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_Recorded = TypeVar("_Recorded", Agreement, Filing)
log = logging.getLogger("silkgate.registry")


# ----------------------------------------------------------------------------- ports
Ended = TypeVar("Ended", Agreement, Filing)


class RegistryStore(RegistryPort, Transactional, Protocol):
    """The part of the store the registry uses (the store's own port, not a copy of it)."""


class FilingRecorder(Protocol):
    """Stores a filing and re-checks the holds it may lift (silkgate.flow.holds)."""

    def record_filing(self, filing: Filing) -> RecheckReport: ...


# ----------------------------------------------------------------------------- requests
class AgreementRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An agreement as an edge received it; the service checks every field."""

    exporter: str
    importer: str
    product: str
    purpose: str
    instrument: str
    valid_from: str | None = None  # YYYY-MM-DD; default: today (hub clock)
    valid_until: str | None = None  # default: open-ended
    id: str | None = None  # default: agr-<exporter>-<importer>-<product>-<purpose>
    active: bool = True


class FilingRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A filing as an edge received it; the service checks every field."""

    exporter: str
    kind: str
    recipient: str | None = None  # None: covers any recipient
    valid_from: str | None = None  # YYYY-MM-DD; default: today (hub clock)
    valid_until: str | None = None
    reference: str = ""
    id: str | None = None  # default: fil-<exporter>-<kind>-<recipient or 'any'>


class EndRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Ending an agreement or withdrawing a filing, as an edge received it."""

    on: str | None = None  # YYYY-MM-DD: the last day it covers; default: today (hub clock)
    reason: str = ""  # required: why (terminated, withdrawn, superseded by ...)


@dataclass(frozen=True)
class Actor:
    """Who asks for a change: a participant, by the key id its request was signed with, or
    the operator working on the hub's data directory (`participant` None), who needs none."""

    participant: str | None
    key_id: str | None = None

    @classmethod
    def signed(cls, participant: str, key_id: str) -> Actor:
        return cls(participant, key_id)


LOCAL_OPERATOR = Actor(None)


@dataclass(frozen=True)
class RecordedFiling:
    filing: Filing
    recheck: RecheckReport  # what re-checking the exporter's held batches did


# ----------------------------------------------------------------------------- the service
@dataclass
class RegistryService:
    store: RegistryStore
    clock: Clock
    holds: FilingRecorder

    @classmethod
    def for_hub(cls, hub: Hub, clock: Clock | None = None) -> RegistryService:
        from silkgate.flow.holds import HoldService

        return cls(
            store=hub.store, clock=clock or hub.pipeline.clock, holds=HoldService.for_hub(hub)
        )

    # -- reads ---------------------------------------------------------------------------
    def participant(self, participant_id: str) -> Participant:
        try:
            return self.store.get_participant(participant_id)
        except NotFoundError:
            raise NotFoundError(f"participant {participant_id!r} is not registered") from None

    def participants(
        self, *, after: str | None = None, limit: int | None = None
    ) -> list[Participant]:
        """In order of id; a page of them with `after`/`limit` (see RegistryPort)."""
        return self.store.list_participants(after=after, limit=limit)

    def agreements(
        self,
        *,
        exporter: str | None = None,
        importer: str | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[Agreement]:
        return self.store.list_agreements(
            exporter=exporter, importer=importer, after=after, limit=limit
        )

    def filings(
        self, *, exporter: str | None = None, after: str | None = None, limit: int | None = None
    ) -> list[Filing]:
        return self.store.list_filings(exporter=exporter, after=after, limit=limit)

    def today(self) -> date:
        """Today on the hub's clock (UTC): what `valid_from` defaults to."""
        return self.clock().date()

    # -- participants --------------------------------------------------------------------
    def add_participant(
        self,
        fields: Mapping[str, Any],
        actor: Actor,
        *,
        then: Callable[[Participant], None] | None = None,
    ) -> Participant:
        """Register a participant from its fields as posted or typed (`id`, `name`,
        `jurisdiction`, `roles`, `signing_key`, `hpke_key`, and optionally `ciio`, `sector`,
        `active` and any other field of model.Participant; a posted key history is ignored).
        Its keys start a history valid from now. `then` runs inside the transaction once
        the registration is valid (the CLI writes a new key file there), so a failure
        leaves nothing behind. The same registration again returns the stored participant
        unchanged."""
        now = self.clock()
        posted = _participant(fields, now)
        with self.store.transaction():
            self._check_actor(actor, now)
            existing = self._find(posted.id)
            if existing is not None:
                return _same_registration(existing, posted)
            self._check_unique_keys(posted)
            self.store.put_participant(posted)
            if then is not None:
                then(posted)
        return posted

    def update_participant(
        self, participant_id: str, changes: Mapping[str, Any], actor: Actor
    ) -> Participant:
        """Change a registered participant's name, jurisdiction, roles, sector, CIIO flag,
        active flag or other descriptive fields, checked by the same rules as a
        registration. Never its id or keys: keys change by rotation."""
        fixed = sorted(k for k in changes if k == "id" or k in KEY_FIELDS)
        if fixed:
            raise InputError(
                f"{', '.join(fixed)} cannot be changed by an update: an id is for good, and "
                "keys change by rotation (silkgate participant rotate-keys, "
                f"POST /v1/participants/{participant_id}/keys)",
                path=f"$['{fixed[0]}']",
            )
        now = self.clock()
        with self.store.transaction():
            self._check_actor(actor, now)
            current = self.participant(participant_id)
            fields = {**msgspec.structs.asdict(current), **changes}
            checked = _converted(_checked_fields(fields))
            updated = msgspec.structs.replace(
                checked,
                signing_key=current.signing_key,
                hpke_key=current.hpke_key,
                signing_keys=current.signing_keys,
                hpke_keys=current.hpke_keys,
            )
            if updated != current:
                self.store.put_participant(updated)
        return updated

    def rotate_keys(
        self,
        participant_id: str,
        signing_key: bytes,
        hpke_key: bytes,
        overlap_days: float,
        actor: Actor,
        *,
        then: Callable[[Participant], None] | None = None,
    ) -> Participant:
        """Register new public keys valid from now; the previous ones keep signing ordinary
        requests and receipts for `overlap_days` (0-365) and verify what they signed.
        Posting the current keys again changes nothing (a safe retry). `then` runs inside
        the transaction once the rotation is valid (the CLI saves the rotated key file)."""
        overlap = overlap_of(overlap_days)
        parse_public_keys(signing_key, hpke_key)
        now = self.clock()
        with self.store.transaction():
            participant = self.participant(participant_id)
            if _is_current(participant, signing_key, hpke_key):
                return participant  # already registered: nothing to authorize or change
            self._check_actor(actor, now)
            rotated = rotate(participant, signing_key, hpke_key, now, overlap)
            self._check_unique_keys(rotated)
            self.store.put_participant(rotated)
            if then is not None:
                then(rotated)
        return rotated

    def revoke_key(self, participant_id: str, key_id: str, actor: Actor) -> Participant:
        """Revoke one of the participant's keys (signing or HPKE) now; revoking again keeps
        the first time."""
        now = self.clock()
        with self.store.transaction():
            participant = self.participant(participant_id)
            self._check_actor(actor, now)
            revoked = revoke(participant, key_id, now)
            if revoked != participant:
                self.store.put_participant(revoked)
        return revoked

    # -- agreements and filings ----------------------------------------------------------
    def add_agreement(self, request: AgreementRequest, actor: Actor) -> Agreement:
        """Record an agreement: the exporter may send the product to the importer for the
        purpose, relying on the instrument, within the dates. The same agreement again
        returns the stored one; another one under an existing id is a ConflictError."""
        if request.id is not None:
            _check_id(request.id, "id")
        get_product(request.product)
        _check_member(request.purpose, PURPOSES, "purpose")
        _check_member(request.instrument, INSTRUMENTS, "instrument")
        valid_from, valid_until = _window(request.valid_from, request.valid_until, self.today())
        with self.store.transaction():
            self._check_actor(actor, self.clock())
            self._party(request.exporter, "exporter", "exporter", "an agreement's exporter")
            self._party(request.importer, "importer", "importer", "an agreement's importer")
            if request.exporter == request.importer:
                raise InputError(
                    f"{request.exporter!r} cannot be both exporter and importer of an "
                    "agreement: a transfer needs two parties",
                    path="$['importer']",
                )
            agreement_id = request.id or _default_id(
                "agr", request.exporter, request.importer, request.product, request.purpose
            )
            agreement = msgspec.convert(
                {
                    "id": agreement_id,
                    "exporter": request.exporter,
                    "importer": request.importer,
                    "product": request.product,
                    "purpose": request.purpose,
                    "instrument": request.instrument,
                    "valid_from": valid_from,
                    "valid_until": valid_until,
                    "active": request.active,
                },
                Agreement,
            )
            try:
                existing = self.store.get_agreement(agreement.id)
            except NotFoundError:
                existing = None
            if existing is not None:
                return _same_object(existing, agreement, "agreement")
            self.store.put_agreement(agreement)
        return agreement

    def add_filing(self, request: FilingRequest, actor: Actor) -> RecordedFiling:
        """Record a filing, then re-check the exporter's held batches (a hold waits until
        the missing step is recorded). The same filing again is recorded again (and
        re-checks again); another one under an existing id is a ConflictError."""
        if request.id is not None:
            _check_id(request.id, "id")
        _check_member(request.kind, FILING_KINDS, "kind")
        if request.recipient is None and request.kind in RECIPIENT_REQUIRED_KINDS:
            raise InputError(
                f"a {request.kind} is made for one named overseas recipient: name the "
                'importer it covers (filing add --recipient, "recipient" in the API)',
                path="$['recipient']",
            )
        valid_from, valid_until = _window(request.valid_from, request.valid_until, self.today())
        _check_text(request.reference, "reference", required=False)
        with self.store.transaction():
            self._check_actor(actor, self.clock())
            self._party(request.exporter, "exporter", "exporter", "a filing's exporter")
            if request.recipient is not None:
                self._party(request.recipient, "importer", "recipient", "a filing's recipient")
            filing_id = request.id or _default_id(
                "fil", request.exporter, request.kind, request.recipient or "any"
            )
            filing = msgspec.convert(
                {
                    "id": filing_id,
                    "exporter": request.exporter,
                    "kind": request.kind,
                    "recipient": request.recipient,
                    "valid_from": valid_from,
                    "valid_until": valid_until,
                    "reference": request.reference,
                },
                Filing,
            )
            for existing in self.store.list_filings():
                if existing.id == filing.id:
                    _same_object(existing, filing, "filing")
        # Outside the transaction: the re-check commits one transaction per held batch and
        # publishes what it releases after each commit.
        return RecordedFiling(filing, self.holds.record_filing(filing))

    def end_agreement(
        self, agreement_id: str, on: str | None, reason: str, actor: Actor
    ) -> Agreement:
        """End an agreement: `on` (YYYY-MM-DD, default today on the hub's clock) becomes its
        last day in force (`valid_until`, inclusive). Refused: an unknown id, a day before
        `valid_from`, a day later than the one it already ends on (ending never extends),
        an empty reason. The same last day again changes nothing."""
        store = self.store
        return self._end(
            "agreement", agreement_id, on, reason, actor,
            store.get_agreement, store.put_agreement, lambda a: a.valid_until,
        )  # fmt: skip

    def withdraw_filing(self, filing_id: str, on: str | None, reason: str, actor: Actor) -> Filing:
        """Withdraw a filing (withdrawn, revoked, superseded): `on` (YYYY-MM-DD, default
        today on the hub's clock) becomes its last valid day (`valid_until`, inclusive).
        Refused: an unknown id, a day before `valid_from`, a day later than its last valid
        day already is (its end date, or its kind's default validity: withdrawing never
        extends), an empty reason. The same last day again changes nothing."""
        store = self.store
        return self._end(
            "filing", filing_id, on, reason, actor,
            store.get_filing, store.put_filing, lambda f: f.last_valid_day,
        )  # fmt: skip

    def _end(
        self,
        what: str,
        obj_id: str,
        on: str | None,
        reason: str,
        actor: Actor,
        get: Callable[[str], Ended],
        put: Callable[[Ended], None],
        last_day: Callable[[Ended], date | None],
    ) -> Ended:
        """End an agreement or a filing on its new last day (see end_agreement)."""
        last = self._end_day(on, reason)
        now = self.clock()
        with self.store.transaction():
            self._check_actor(actor, now)
            _check_id(obj_id, "id")
            try:
                obj = get(obj_id)
            except NotFoundError:
                raise NotFoundError(
                    f"{what} {obj_id!r} is not registered (silkgate {what} list, GET /v1/{what}s)"
                ) from None
            if not _ends_on(obj, obj.valid_from, last_day(obj), last):
                return obj
            ended = msgspec.structs.replace(obj, valid_until=last)
            put(ended)
        _log_end(what, obj_id, last, reason, actor, now)
        return ended

    def _end_day(self, on: str | None, reason: str) -> date:
        _check_text(reason, "reason", required=True)
        return _date(on, "on") if on else self.today()

    # -- checks --------------------------------------------------------------------------
    def _check_actor(self, actor: Actor, now: datetime) -> None:
        """Only a participant's current signing key (or the local operator) changes the
        registry; a key retired by a rotation or revoked is refused."""
        if actor.participant is None:
            return
        who = self._find(actor.participant)
        if who is None:
            raise ForbiddenError(f"{actor.participant!r} is not registered")
        check_current_key(who, actor.key_id or "", now)

    def _find(self, participant_id: str) -> Participant | None:
        try:
            return self.store.get_participant(participant_id)
        except NotFoundError:
            return None

    def _party(self, participant_id: str, role: str, field: str, what: str) -> Participant:
        """A registered, active participant holding `role`."""
        path = f"$['{field}']"
        _check_id(participant_id, field)
        party = self._find(participant_id)
        if party is None:
            raise NotFoundError(
                f"{field} {participant_id!r} is not registered; register it first "
                "(silkgate participant add, POST /v1/participants)"
            )
        if role not in party.roles:
            raise InputError(
                f"{participant_id!r} is registered as {' and '.join(party.roles)}, not as "
                f"{role}; {what} needs the role {role}",
                path=path,
            )
        if not party.active:
            raise InputError(f"{field} {participant_id!r} is deactivated", path=path)
        if party.jurisdiction not in JURISDICTIONS:
            raise InputError(
                f"{field} {participant_id!r} has unknown jurisdiction {party.jurisdiction!r}",
                path=path,
            )
        return party

    def _check_unique_keys(self, participant: Participant) -> None:
        """No key of `participant` may be in another participant's key history."""
        mine = {k.key_id for k in (*signing_history(participant), *hpke_history(participant))}
        for other in self.store.list_participants():
            if other.id == participant.id:
                continue
            for key in (*signing_history(other), *hpke_history(other)):
                if key.key_id in mine:
                    kind = "signing" if key.key_id.startswith("ed25519:") else "HPKE"
                    raise ConflictError(
                        f"{kind} key {key.key_id} is already registered to {other.id}; "
                        "every participant needs its own keys"
                    )


# ----------------------------------------------------------------------------- pure rules
def check_current_key(participant: Participant, key_id: str, now: datetime) -> None:
    """Raise ForbiddenError unless `key_id` is the participant's current signing key at
    `now`: the newest one it registered, in its window and not revoked. Older keys stay
    good for ordinary requests during their overlap, never for registry changes."""
    history = signing_history(participant)
    key = next((k for k in history if k.key_id == key_id), None)
    if key is None:
        raise ForbiddenError(f"key {key_id} is not a signing key of {participant.id}")
    if key.revoked_at is not None and key.revoked_at <= now:
        raise ForbiddenError(
            f"key {key_id} of {participant.id} was revoked at {key.revoked_at.isoformat()}; "
            "it can change nothing"
        )
    current = history[-1]
    if current.key_id != key_id:
        raise ForbiddenError(
            f"key {key_id} of {participant.id} was retired by the rotation to "
            f"{current.key_id} at {current.not_before.isoformat()}: until its overlap ends "
            "it still signs ordinary requests and receipts, but registrations, rotations "
            "and revocations need the current key (or the operator, silkgate participant "
            "rotate-keys on the hub)"
        )
    if not key.valid_at(now):
        raise ForbiddenError(
            f"key {key_id} of {participant.id} is not valid now; the operator must register "
            "new keys (silkgate participant rotate-keys on the hub)"
        )


KEY_FIELDS = ("signing_key", "hpke_key", "signing_keys", "hpke_keys")


def _participant(fields: Mapping[str, Any], now: datetime) -> Participant:
    """Check a registration's fields in a fixed order and build the participant with a key
    history starting at `now`."""
    normalized = _checked_fields(fields)
    for key, what in (("signing_key", "Ed25519 signing key"), ("hpke_key", "HPKE key")):
        if not normalized.get(key):
            raise InputError(f"a participant needs its public {what}", path=f"$['{key}']")
    participant = _converted(normalized)
    parse_public_keys(participant.signing_key, participant.hpke_key)
    return with_history(participant, now)


def _checked_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """A participant's fields with the registry's rules checked (keys aside) and the
    jurisdiction and roles normalized; a posted key history is dropped."""
    participant_id = _string(fields, "id")
    _check_id(participant_id, "id")
    if participant_id == HUB_ACTOR:
        raise InputError(
            f"{HUB_ACTOR!r} is reserved: the ledger names the hub's own re-check releases so; "
            "choose another id",
            path="$['id']",
        )
    _check_text(_string(fields, "name"), "name", required=True)
    jurisdiction = _string(fields, "jurisdiction").strip().upper()
    _check_member(jurisdiction, JURISDICTIONS, "jurisdiction")
    roles = _roles(fields.get("roles"))
    sector = fields.get("sector", "logistics")
    if isinstance(sector, str):
        _check_text(sector, "sector", required=True)
    for field in ("free_trade_zone", "corporate_group"):
        value = fields.get(field)
        if value is not None:
            if not isinstance(value, str):
                raise InputError(f"{field} must be a string", path=f"$['{field}']")
            _check_text(value, field, required=False)
    size = fields.get("enterprise_size")
    if size is not None:
        if not isinstance(size, str):
            raise InputError("enterprise_size must be a string", path="$['enterprise_size']")
        _check_member(size, ENTERPRISE_SIZES, "enterprise_size")
    authority = fields.get("foreign_authority")
    if authority is not None and not isinstance(authority, bool):
        raise InputError("foreign_authority must be true or false", path="$['foreign_authority']")
    normalized = {
        k: v for k, v in fields.items() if k not in ("signing_keys", "hpke_keys") and v is not None
    }
    normalized.update(jurisdiction=jurisdiction, roles=roles)
    return normalized


def _converted(fields: Mapping[str, Any]) -> Participant:
    try:
        return msgspec.convert(fields, Participant)
    except msgspec.ValidationError as exc:
        raise _validation_error(exc) from None


def _same_registration(existing: Participant, posted: Participant) -> Participant:
    """A retry of the same registration returns `existing`; anything else conflicts."""
    if (existing.signing_key, existing.hpke_key) != (posted.signing_key, posted.hpke_key):
        raise ConflictError(
            f"participant {posted.id!r} is already registered with other keys; adding it "
            "again never replaces keys: rotate them (silkgate participant rotate-keys, "
            f"POST /v1/participants/{posted.id}/keys)"
        )
    bare = msgspec.structs.replace
    mine = bare(existing, signing_keys=(), hpke_keys=())
    theirs = bare(posted, signing_keys=(), hpke_keys=())
    if mine != theirs:
        differ = [
            f for f in Participant.__struct_fields__ if getattr(mine, f) != getattr(theirs, f)
        ]
        raise ConflictError(
            f"participant {posted.id!r} is already registered with another "
            f"{', '.join(differ)}; a registration is not changed by adding it again"
        )
    return existing


def _same_object(existing: _Recorded, posted: _Recorded, what: str) -> _Recorded:
    if existing != posted:
        differ = [
            f for f in type(posted).__struct_fields__ if getattr(existing, f) != getattr(posted, f)
        ]
        raise ConflictError(
            f"{what} {posted.id!r} already exists with another {', '.join(differ)}; "
            f"give the new {what} its own id"
        )
    return existing


def _ends_on(obj: Agreement | Filing, start: date, end: date | None, last: date) -> bool:
    """Whether `obj` (an agreement or a filing valid from `start`, its last day `end`) must
    change to end on `last`: False for a retry of the same last day; refused if `last` is
    before `start` or after `end`."""
    what = "agreement" if isinstance(obj, Agreement) else "filing"
    if last < start:
        raise InputError(
            f"{what} {obj.id} is valid from {start.isoformat()}: its last day cannot be "
            f"{last.isoformat()}, before that",
            path="$['on']",
        )
    if end is not None and last > end:
        raise ConflictError(
            f"{what} {obj.id} already ends on {end.isoformat()} (its last day); ending it on "
            f"{last.isoformat()} would extend it: record a new {what} instead"
        )
    return obj.valid_until != last


def _log_end(what: str, obj_id: str, last: date, reason: str, actor: Actor, now: datetime) -> None:
    verb = "ended" if what == "agreement" else "withdrawn"
    by = actor.participant or "the operator (data directory)"
    log.info(
        "%s %s %s: last day %s, by %s: %s",
        what,
        obj_id,
        verb,
        last.isoformat(),
        by,
        reason,
        extra=log_fields(
            **{what: obj_id},
            last_day=last.isoformat(),
            reason=reason,
            actor=actor.participant or "",
            key_id=actor.key_id or "",
            at=now.isoformat(),
        ),
    )


def _is_current(participant: Participant, signing_key: bytes, hpke_key: bytes) -> bool:
    signing, hpke = signing_history(participant), hpke_history(participant)
    return bool(signing and hpke) and _live(signing[-1], signing_key) and _live(hpke[-1], hpke_key)


def _live(key: RegisteredKey, public: bytes) -> bool:
    return key.public == public and key.revoked_at is None


def _default_id(prefix: str, *parts: str) -> str:
    made = "-".join((prefix, *parts))
    if not ID_PATTERN.match(made):
        raise InputError(
            f"the default id {made!r} is longer than 128 characters; give an id",
            path="$['id']",
        )
    return made


def _check_id(value: str, field: str) -> None:
    if not ID_PATTERN.match(value):
        raise InputError(
            f"{value!r} is not a valid id: 1-128 letters, digits, '.', '_', ':' or '-', "
            "starting with a letter or digit",
            path=f"$['{field}']",
        )


def _check_member(value: str, known: Sequence[str], field: str) -> None:
    if value not in known:
        raise InputError(
            f"unknown {field} {value!r}; known: {', '.join(known)}", path=f"$['{field}']"
        )


def _check_text(value: str, field: str, *, required: bool) -> None:
    if required and not value.strip():
        raise InputError(f"{field} must not be empty", path=f"$['{field}']")
    if len(value) > MAX_TEXT or any(ord(c) < 0x20 for c in value):
        raise InputError(
            f"{field} must be at most {MAX_TEXT} characters on one line", path=f"$['{field}']"
        )


def _string(fields: Mapping[str, Any], field: str) -> str:
    value = fields.get(field)
    if value is None:
        raise InputError(f"a participant needs its {field}", path=f"$['{field}']")
    if not isinstance(value, str):
        raise InputError(f"{field} must be a string", path=f"$['{field}']")
    return value


def _roles(value: Any) -> list[str]:
    if value is None or (isinstance(value, (list, tuple)) and not value):
        raise InputError("a participant needs at least one role", path="$['roles']")
    if not isinstance(value, (list, tuple)) or not all(isinstance(r, str) for r in value):
        raise InputError("roles must be a list of strings", path="$['roles']")
    roles = list(dict.fromkeys(r.strip().lower() for r in value))
    for role in roles:
        _check_member(role, ROLES, "role")
    return roles


def _window(
    valid_from: str | None, valid_until: str | None, today: date
) -> tuple[date, date | None]:
    start = _date(valid_from, "valid_from") if valid_from else today
    end = _date(valid_until, "valid_until") if valid_until else None
    if end is not None and end < start:
        raise InputError(
            f"valid_until {end.isoformat()} is before valid_from {start.isoformat()}",
            path="$['valid_until']",
        )
    return start, end


def _date(value: str, field: str) -> date:
    try:
        if _DATE.match(value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise InputError(f"{value!r} is not a date; use YYYY-MM-DD", path=f"$['{field}']")


_MSGSPEC_PATH = re.compile(r" - at `\$\.?([A-Za-z_][A-Za-z0-9_]*)?[^`]*`$")


def _validation_error(exc: msgspec.ValidationError) -> InputError:
    message = str(exc)
    match = _MSGSPEC_PATH.search(message)
    if match is None:
        return InputError(f"participant: {message}")
    field = match.group(1)
    return InputError(
        f"participant: {message[: match.start()]}", path=f"$['{field}']" if field else None
    )
