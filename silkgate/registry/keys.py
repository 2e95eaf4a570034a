"""A participant's keys. Its own key file (its private keys never reach the hub): create or
load it and read off the public halves that get registered. And the hub's record of the
public halves: the key history with validity windows, rotation and revocation, and which
key verifies what (docs/envelope.md, "Key lifecycle")."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from silkgate.clock import Clock, system_clock
from silkgate.errors import (
    AuthError,
    ConfigError,
    ConflictError,
    CryptoError,
    InputError,
    NotFoundError,
)
from silkgate.model import Participant, RegisteredKey
from silkgate.seal.keys import (
    KEMS,
    KeyRing,
    PublicKeyInfo,
    PublicKeySet,
    create_keyring,
    ed25519_key_id,
    ed25519_public_bytes,
    ed25519_public_from_bytes,
    hpke_key_id,
    hpke_public_bytes,
    hpke_public_from_bytes,
    load_keyring,
    revoke_key,
    rotate_keyring,
    save_keyring,
)


@dataclass(frozen=True)
class RegisteredKeys:
    ring: KeyRing
    signing_public: bytes  # raw Ed25519 public key of the current signing key
    hpke_public: bytes  # raw HPKE public key of the current HPKE key


def ensure_key_file(path: Path, participant_id: str, clock: Clock = system_clock) -> RegisteredKeys:
    """Load the key file at `path`, or create it (mode 0600) if it does not exist."""
    ring, created = key_ring_for(path, participant_id, clock)
    if created:
        save_key_file(ring, path)
    return public_halves(ring, clock)


def key_ring_for(
    path: Path, participant_id: str, clock: Clock = system_clock
) -> tuple[KeyRing, bool]:
    """The key ring in the file at `path`, or a new one (True: not saved yet)."""
    if path.exists():
        ring = load_keyring(path)
        if ring.participant != participant_id:
            raise ConfigError(
                f"{path} holds the keys of {ring.participant!r}, not {participant_id!r}"
            )
        return ring, False
    return create_keyring(participant_id, clock()), True


def save_key_file(ring: KeyRing, path: Path) -> None:
    """Write a key ring to `path` (0600, atomically), creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    save_keyring(ring, path)


def public_halves(ring: KeyRing, clock: Clock = system_clock) -> RegisteredKeys:
    now = clock()
    _, signing = ring.current_signing(now)
    _, hpke = ring.current_hpke(now)
    return RegisteredKeys(
        ring=ring, signing_public=ed25519_public_bytes(signing), hpke_public=hpke_public_bytes(hpke)
    )


def load_key_file(path: Path) -> KeyRing:
    return load_keyring(path)


# --- the hub's record of a participant's public keys (pure: the clock is passed in) -----

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # not_before of keys registered without a history
MAX_OVERLAP = timedelta(days=365)


def signing_history(participant: Participant) -> tuple[RegisteredKey, ...]:
    """The participant's Ed25519 keys, oldest first (its one key if it has no history)."""
    if participant.signing_keys or not participant.signing_key:
        return participant.signing_keys
    key_id = ed25519_key_id(participant.signing_key)
    return (RegisteredKey(key_id=key_id, public=participant.signing_key, not_before=EPOCH),)


def hpke_history(participant: Participant) -> tuple[RegisteredKey, ...]:
    """The participant's HPKE keys, oldest first (its one key if it has no history)."""
    if participant.hpke_keys or not participant.hpke_key:
        return participant.hpke_keys
    key_id = hpke_key_id(participant.hpke_key)
    return (RegisteredKey(key_id=key_id, public=participant.hpke_key, not_before=EPOCH),)


def signing_key_set(participant: Participant, revoked_as_of: datetime) -> PublicKeySet:
    """What verifies the participant's signatures: every signing key with its window; a key
    counts as revoked if it was revoked at or before `revoked_as_of` (for a receipt being
    acknowledged: now; for re-checking a stored receipt: its `received_at`)."""
    return PublicKeySet(
        PublicKeyInfo(
            key_id=k.key_id,
            public=k.public,
            not_before=k.not_before,
            not_after=k.not_after,
            revoked=k.revoked_at is not None and k.revoked_at <= revoked_as_of,
        )
        for k in signing_history(participant)
    )


def request_key(participant: Participant, key_id: str, now: datetime) -> Ed25519PublicKey:
    """The signing key `key_id` if it may authenticate a request at `now`; else AuthError."""
    for key in signing_history(participant):
        if key.key_id != key_id:
            continue
        if key.revoked_at is not None and key.revoked_at <= now:
            raise AuthError(
                f"key {key_id} of {participant.id} was revoked at "
                f"{key.revoked_at.isoformat()}; sign with a current key"
            )
        if not key.valid_at(now):
            raise AuthError(
                f"key {key_id} of {participant.id} is valid only from "
                f"{key.not_before.isoformat()} to {_until(key)}; sign with the current key "
                "(load the rotated key file)"
            )
        return ed25519_public_from_bytes(key.public)
    raise AuthError(f"key {key_id} is not registered to {participant.id}")


def current_hpke_key(participant: Participant, now: datetime) -> bytes:
    """The newest HPKE public key valid at `now`: what new envelopes are sealed to."""
    usable = [k for k in hpke_history(participant) if k.valid_at(now)]
    if not usable:
        raise InputError(
            f"importer {participant.id} has no valid HPKE key (all are expired or revoked); "
            f"it must register new keys (silkgate participant rotate-keys --id {participant.id})"
        )
    return max(usable, key=lambda k: k.not_before).public


def with_history(participant: Participant, now: datetime) -> Participant:
    """A participant registered with bare keys gets a history starting at `now`."""
    changes: dict[str, Any] = {}
    if not participant.signing_keys and participant.signing_key:
        changes["signing_keys"] = (
            _new(ed25519_key_id(participant.signing_key), participant.signing_key, now),
        )
    if not participant.hpke_keys and participant.hpke_key:
        changes["hpke_keys"] = (_new(hpke_key_id(participant.hpke_key), participant.hpke_key, now),)
    return msgspec.structs.replace(participant, **changes) if changes else participant


def rotate(
    participant: Participant, signing: bytes, hpke: bytes, now: datetime, overlap: timedelta
) -> Participant:
    """Register new public keys valid from `now`; the previous ones stay valid for `overlap`
    (then verify only what they signed). Registering the current keys again changes nothing.
    Raises InputError for a malformed key or overlap, ConflictError for a reused old key."""
    check_overlap(overlap)
    parse_public_keys(signing, hpke)
    signing_keys = _rotated(
        signing_history(participant), signing, ed25519_key_id(signing), now, overlap
    )
    hpke_keys = _rotated(hpke_history(participant), hpke, hpke_key_id(hpke), now, overlap)
    return msgspec.structs.replace(
        participant,
        signing_key=signing,
        hpke_key=hpke,
        signing_keys=signing_keys,
        hpke_keys=hpke_keys,
    )


def revoke(participant: Participant, key_id: str, now: datetime) -> Participant:
    """Revoke one of the participant's keys (signing or HPKE) at `now`; idempotent. The
    current keys become the newest still valid ones (empty if none is left)."""
    signing = _revoked(signing_history(participant), key_id, now)
    hpke = _revoked(hpke_history(participant), key_id, now)
    if signing is None and hpke is None:
        known = ", ".join(
            k.key_id for k in (*signing_history(participant), *hpke_history(participant))
        )
        raise NotFoundError(f"{participant.id} has no key {key_id} (its keys: {known or 'none'})")
    signing_keys = signing if signing is not None else signing_history(participant)
    hpke_keys = hpke if hpke is not None else hpke_history(participant)
    return msgspec.structs.replace(
        participant,
        signing_key=_newest_valid(signing_keys, now),
        hpke_key=_newest_valid(hpke_keys, now),
        signing_keys=signing_keys,
        hpke_keys=hpke_keys,
    )


def parse_public_keys(signing: bytes, hpke: bytes) -> None:
    """InputError unless both are well-formed public keys (raw Ed25519; raw HPKE)."""
    try:
        ed25519_public_from_bytes(signing)
    except CryptoError as exc:
        raise InputError(str(exc), path="$['signing_key']") from None
    try:
        hpke_public_from_bytes(hpke)
    except (CryptoError, ValueError) as exc:
        raise InputError(str(exc), path="$['hpke_key']") from None


def _rotated(
    history: tuple[RegisteredKey, ...],
    public: bytes,
    key_id: str,
    now: datetime,
    overlap: timedelta,
) -> tuple[RegisteredKey, ...]:
    if history and history[-1].public == public and history[-1].revoked_at is None:
        return history  # already the current key: a retried registration
    if any(k.key_id == key_id for k in history):
        raise ConflictError(
            f"key {key_id} was registered before; rotate to a fresh key (silkgate.seal.keys."
            "rotate_keyring) instead of reusing an old one"
        )
    until = now + overlap
    retired = tuple(
        k
        if k.not_after is not None and k.not_after <= until
        else msgspec.structs.replace(k, not_after=until)
        for k in history
    )
    return (*retired, _new(key_id, public, now))


def _revoked(
    history: tuple[RegisteredKey, ...], key_id: str, now: datetime
) -> tuple[RegisteredKey, ...] | None:
    if not any(k.key_id == key_id for k in history):
        return None
    return tuple(
        msgspec.structs.replace(k, revoked_at=now)
        if k.key_id == key_id and k.revoked_at is None
        else k
        for k in history
    )


def _newest_valid(history: tuple[RegisteredKey, ...], now: datetime) -> bytes:
    usable = [k for k in history if k.valid_at(now)]
    return max(usable, key=lambda k: k.not_before).public if usable else b""


def _new(key_id: str, public: bytes, now: datetime) -> RegisteredKey:
    return RegisteredKey(key_id=key_id, public=public, not_before=now)


def _until(key: RegisteredKey) -> str:
    return key.not_after.isoformat() if key.not_after is not None else "(open)"


def overlap_of(days: float) -> timedelta:
    """An overlap given in days (0 to 365; InputError otherwise, also for NaN)."""
    if not (
        isinstance(days, int | float) and math.isfinite(days) and 0 <= days <= MAX_OVERLAP.days
    ):
        raise InputError(f"overlap must be 0 to {MAX_OVERLAP.days} days", path="$['overlap_days']")
    return timedelta(days=days)


def check_overlap(overlap: timedelta) -> timedelta:
    if not timedelta(0) <= overlap <= MAX_OVERLAP:
        raise InputError(f"overlap must be 0 to {MAX_OVERLAP.days} days", path="$['overlap_days']")
    return overlap


def rotated_key_ring(path: Path, participant_id: str, now: datetime, overlap: timedelta) -> KeyRing:
    """The participant's key file with fresh keys added (not saved yet): the old ones stay
    in it to open and verify what they sealed or signed."""
    ring = load_keyring(path)
    if ring.participant != participant_id:
        raise ConfigError(f"{path} holds the keys of {ring.participant!r}, not {participant_id!r}")
    return rotate_keyring(ring, now, overlap=check_overlap(overlap))


def rotate_key_file(
    path: Path, participant_id: str, now: datetime, overlap: timedelta
) -> RegisteredKeys:
    """Add fresh keys to the participant's key file (0600, atomically); the old ones stay in
    it to open and verify what they sealed or signed. Returns the new public halves."""
    rotated = rotated_key_ring(path, participant_id, now, overlap)
    save_keyring(rotated, path)
    return public_halves(rotated, lambda: now)


def revoke_in_key_file(path: Path, participant_id: str, key_id: str) -> None:
    """Mark `key_id` revoked in the participant's own key file too."""
    ring = load_keyring(path)
    if ring.participant != participant_id:
        raise ConfigError(f"{path} holds the keys of {ring.participant!r}, not {participant_id!r}")
    save_keyring(revoke_key(ring, key_id), path)


# --- a participant's keys generated on its own machine (`silkgate keygen`) ------------------

PUBLIC_FORMAT = "silkgate.public-keys/1"


class PublicKeyDocument(msgspec.Struct, frozen=True, kw_only=True):
    """The public half of a new key file: what a participant hands the operator to be
    registered (raw keys, base64 in JSON). Holds nothing secret."""

    format: str = PUBLIC_FORMAT
    participant: str
    signing_key: bytes  # raw Ed25519 public key
    signing_key_id: str
    hpke_key: bytes  # raw HPKE public key
    hpke_key_id: str
    created_at: datetime


def public_document(ring: KeyRing, now: datetime) -> PublicKeyDocument:
    """The public halves of the ring's current keys."""
    keys = public_halves(ring, lambda: now)
    return PublicKeyDocument(
        participant=ring.participant,
        signing_key=keys.signing_public,
        signing_key_id=ed25519_key_id(keys.signing_public),
        hpke_key=keys.hpke_public,
        hpke_key_id=hpke_key_id(keys.hpke_public),
        created_at=now,
    )


def encode_public_document(doc: PublicKeyDocument) -> bytes:
    return msgspec.json.format(msgspec.json.encode(doc), indent=2) + b"\n"


def read_public_document(path: Path) -> PublicKeyDocument:
    """A public key document from `path` (written by `silkgate keygen`), checked: the format,
    well-formed keys, and key ids that match the keys. A key file (private keys) is refused."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the public key file {path}: {exc.strerror}") from None
    try:
        loose = msgspec.json.decode(raw, type=dict[str, Any])
    except msgspec.DecodeError:
        raise InputError(f"{path} is not JSON; give the file `silkgate keygen` wrote") from None
    if "signing" in loose and "hpke" in loose:
        raise InputError(
            f"{path} is a private key file; give its public part (`silkgate keygen "
            "--public-out`): the operator never needs a participant's private keys"
        )
    if loose.get("format") != PUBLIC_FORMAT:
        raise InputError(f"{path} is not a {PUBLIC_FORMAT} document (from `silkgate keygen`)")
    try:
        doc = msgspec.convert(loose, PublicKeyDocument)
    except msgspec.ValidationError as exc:
        raise InputError(f"{path}: {exc}") from None
    parse_public_keys(doc.signing_key, doc.hpke_key)
    if (ed25519_key_id(doc.signing_key), hpke_key_id(doc.hpke_key)) != (
        doc.signing_key_id,
        doc.hpke_key_id,
    ):
        raise InputError(f"{path}: the key ids do not match the keys; the file was altered")
    return doc


def generate_key_file(
    path: Path, participant_id: str, now: datetime, *, kem: str = "x25519"
) -> KeyRing:
    """Create a new key file at `path` (0600) for `participant_id`; never overwrites one
    (ConflictError), so a registered key cannot be lost by a second `keygen`."""
    if kem not in KEMS:
        raise InputError(f"unknown KEM {kem!r}; known: {', '.join(KEMS)}")
    if path.exists():
        raise ConflictError(
            f"{path} exists; keygen never overwrites a key file (rotate its keys with "
            "`silkgate participant rotate-keys`, or choose another --out)"
        )
    ring = create_keyring(participant_id, now, kem=KEMS[KEMS.index(kem)])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.new")
    save_keyring(ring, tmp)
    try:
        os.link(tmp, path)  # atomic, and fails if the file appeared meanwhile
    except FileExistsError:
        raise ConflictError(f"{path} exists; keygen never overwrites a key file") from None
    finally:
        tmp.unlink(missing_ok=True)
    return ring
