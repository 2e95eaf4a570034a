"""Participant keys: Ed25519 signing keys and HPKE (RFC 9180) recipient keys.

Key ids are ``<algorithm>:`` followed by the first 16 hex digits of SHA-256 over the raw
public key, e.g. ``ed25519:3f9c0a1b2c3d4e5f``. Raw public keys are:

* ``ed25519``: the 32-byte Ed25519 public key (RFC 8032);
* ``x25519``: the 32-byte X25519 public key (RFC 7748);
* ``mlkem768x25519``: the 1184-byte ML-KEM-768 encapsulation key (FIPS 203) followed by the
  32-byte X25519 public key (1216 bytes in all).

A key ring holds one participant's private keys, each with a validity window
(``not_before`` .. ``not_after``); the newest valid key is the current one, older keys keep
verifying what they signed and opening what was sealed to them. Revoked key ids are listed
and refused. Only :func:`save_keyring` and :func:`load_keyring` touch the file system.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal, TypeAlias

import msgspec
from cryptography.hazmat.primitives.asymmetric import mlkem
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.hpke import MLKEM768X25519PrivateKey, MLKEM768X25519PublicKey

from silkgate.canonical import canonical_json
from silkgate.clock import Random, system_random
from silkgate.errors import ConfigError, CryptoError, VerificationError

KemName = Literal["x25519", "mlkem768x25519"]
KEMS: tuple[KemName, ...] = ("x25519", "mlkem768x25519")

KEYRING_VERSION = 1
DEFAULT_OVERLAP = timedelta(days=30)
_MLKEM768_PUBLIC_LEN = 1184
_MLKEM_SEED_LEN = 64
_X25519_LEN = 32


# --- key ids -------------------------------------------------------------------------------


def _key_id(algorithm: str, raw_public: bytes) -> str:
    return f"{algorithm}:{hashlib.sha256(raw_public).hexdigest()[:16]}"


def ed25519_public_bytes(key: Ed25519PublicKey | Ed25519PrivateKey) -> bytes:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes_raw()


def ed25519_key_id(key: Ed25519PublicKey | Ed25519PrivateKey | bytes) -> str:
    """``ed25519:`` + 16 hex digits of SHA-256(raw public key)."""
    raw = key if isinstance(key, bytes) else ed25519_public_bytes(key)
    return _key_id("ed25519", raw)


def ed25519_public_from_bytes(raw: bytes) -> Ed25519PublicKey:
    if len(raw) != 32:
        raise CryptoError(f"an Ed25519 public key has 32 bytes, got {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)


@dataclass(frozen=True, slots=True)
class HybridPublicKey:
    """An ML-KEM-768+X25519 public key with its raw bytes (ML-KEM key || X25519 key)."""

    raw: bytes
    key: MLKEM768X25519PublicKey


@dataclass(frozen=True, slots=True)
class HybridPrivateKey:
    """An ML-KEM-768+X25519 private key; `raw_public` as in :class:`HybridPublicKey`."""

    raw_public: bytes
    key: MLKEM768X25519PrivateKey

    def public_key(self) -> HybridPublicKey:
        return HybridPublicKey(raw=self.raw_public, key=self.key.public_key())


HpkePrivateKey: TypeAlias = X25519PrivateKey | HybridPrivateKey
HpkePublicKey: TypeAlias = X25519PublicKey | HybridPublicKey


def kem_of(key: HpkePublicKey | HpkePrivateKey) -> KemName:
    if isinstance(key, X25519PublicKey | X25519PrivateKey):
        return "x25519"
    return "mlkem768x25519"


def hpke_public_key(key: HpkePrivateKey) -> HpkePublicKey:
    return key.public_key()


def hpke_public_bytes(key: HpkePublicKey | HpkePrivateKey) -> bytes:
    """Raw public key bytes (see the module docstring for the hybrid layout)."""
    if isinstance(key, X25519PrivateKey):
        return key.public_key().public_bytes_raw()
    if isinstance(key, X25519PublicKey):
        return key.public_bytes_raw()
    if isinstance(key, HybridPrivateKey):
        return key.raw_public
    return key.raw


def hpke_key_id(key: HpkePublicKey | HpkePrivateKey | bytes) -> str:
    """``x25519:`` or ``mlkem768x25519:`` + 16 hex digits of SHA-256(raw public key)."""
    raw = key if isinstance(key, bytes) else hpke_public_bytes(key)
    return _key_id(_kem_for_length(len(raw)), raw)


def _kem_for_length(length: int) -> KemName:
    if length == _X25519_LEN:
        return "x25519"
    if length == _MLKEM768_PUBLIC_LEN + _X25519_LEN:
        return "mlkem768x25519"
    raise CryptoError(
        f"an HPKE public key has 32 (X25519) or 1216 (ML-KEM-768+X25519) bytes, got {length}"
    )


def hpke_public_from_bytes(raw: bytes) -> HpkePublicKey:
    """Parse a raw HPKE public key; its length tells the KEM."""
    if _kem_for_length(len(raw)) == "x25519":
        return X25519PublicKey.from_public_bytes(raw)
    try:
        mk = mlkem.MLKEM768PublicKey.from_public_bytes(raw[:_MLKEM768_PUBLIC_LEN])
    except ValueError as exc:
        raise CryptoError(f"invalid ML-KEM-768 public key: {exc}") from exc
    xk = X25519PublicKey.from_public_bytes(raw[_MLKEM768_PUBLIC_LEN:])
    return HybridPublicKey(raw=raw, key=MLKEM768X25519PublicKey(mk, xk))


def hpke_private_from_bytes(kem: KemName, raw: bytes) -> HpkePrivateKey:
    """Private key from its stored form: X25519 scalar (32 bytes), or for the hybrid the
    64-byte ML-KEM seed (d || z) followed by the X25519 scalar (96 bytes)."""
    if kem == "x25519":
        if len(raw) != _X25519_LEN:
            raise CryptoError(f"an X25519 private key has 32 bytes, got {len(raw)}")
        return X25519PrivateKey.from_private_bytes(raw)
    if len(raw) != _MLKEM_SEED_LEN + _X25519_LEN:
        raise CryptoError(f"an ML-KEM-768+X25519 private key has 96 bytes, got {len(raw)}")
    mk = mlkem.MLKEM768PrivateKey.from_seed_bytes(raw[:_MLKEM_SEED_LEN])
    xk = X25519PrivateKey.from_private_bytes(raw[_MLKEM_SEED_LEN:])
    public_raw = mk.public_key().public_bytes_raw() + xk.public_key().public_bytes_raw()
    return HybridPrivateKey(raw_public=public_raw, key=MLKEM768X25519PrivateKey(mk, xk))


def new_signing_key(random: Random = system_random) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(random(32))


def new_hpke_key(kem: KemName = "x25519", random: Random = system_random) -> HpkePrivateKey:
    size = _X25519_LEN if kem == "x25519" else _MLKEM_SEED_LEN + _X25519_LEN
    return hpke_private_from_bytes(kem, random(size))


# --- public key sets (what a verifier trusts) ----------------------------------------------


class PublicKeyInfo(msgspec.Struct, frozen=True, kw_only=True):
    """A registered Ed25519 public key with its validity window."""

    key_id: str
    public: bytes
    not_before: datetime
    not_after: datetime | None = None
    revoked: bool = False


class PublicKeySet:
    """The Ed25519 keys one party registered: resolves a key id for a signing time."""

    def __init__(self, keys: Iterable[PublicKeyInfo]) -> None:
        self._keys = {k.key_id: k for k in keys}

    @property
    def infos(self) -> tuple[PublicKeyInfo, ...]:
        return tuple(self._keys.values())

    def resolve(self, key_id: str, at: datetime | None = None) -> Ed25519PublicKey:
        """The key `key_id`, checked not revoked and (if `at` is given) valid at `at`."""
        info = self._keys.get(key_id)
        if info is None:
            known = ", ".join(sorted(self._keys)) or "none"
            raise VerificationError(f"unknown signing key {key_id} (known keys: {known})")
        if info.revoked:
            raise VerificationError(f"signing key {key_id} is revoked")
        if at is not None and at < info.not_before:
            raise VerificationError(
                f"signing key {key_id} is not valid before {info.not_before.isoformat()}, "
                f"but the signature claims {at.isoformat()}"
            )
        if at is not None and info.not_after is not None and at > info.not_after:
            raise VerificationError(
                f"signing key {key_id} expired at {info.not_after.isoformat()}, "
                f"but the signature claims {at.isoformat()}"
            )
        return ed25519_public_from_bytes(info.public)


VerifyKeys: TypeAlias = Mapping[str, Ed25519PublicKey] | PublicKeySet


def resolve_verify_key(keys: VerifyKeys, key_id: str, at: datetime | None) -> Ed25519PublicKey:
    """Find `key_id` in a plain mapping or a :class:`PublicKeySet` (checked at `at`)."""
    if isinstance(keys, PublicKeySet):
        return keys.resolve(key_id, at)
    key = keys.get(key_id)
    if key is None:
        known = ", ".join(sorted(keys)) or "none"
        raise VerificationError(f"unknown signing key {key_id} (known keys: {known})")
    return key


# --- the key ring --------------------------------------------------------------------------


class KeyEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One private key. `algorithm` is ``ed25519``, ``x25519`` or ``mlkem768x25519``."""

    key_id: str
    algorithm: str
    private: bytes
    public: bytes
    not_before: datetime
    not_after: datetime | None = None

    def valid_at(self, at: datetime) -> bool:
        return self.not_before <= at and (self.not_after is None or at <= self.not_after)


class KeyRing(msgspec.Struct, frozen=True, kw_only=True):
    """One participant's private keys, as stored in its key file."""

    participant: str
    signing: tuple[KeyEntry, ...]
    hpke: tuple[KeyEntry, ...]
    revoked: tuple[str, ...] = ()
    version: int = KEYRING_VERSION

    def current_signing(self, now: datetime) -> tuple[str, Ed25519PrivateKey]:
        """The newest valid, unrevoked signing key: ``(key_id, key)``."""
        entry = _current(self.signing, self.revoked, now, "signing")
        return entry.key_id, Ed25519PrivateKey.from_private_bytes(entry.private)

    def current_hpke(self, now: datetime) -> tuple[str, HpkePrivateKey]:
        """The newest valid, unrevoked HPKE key: ``(key_id, key)``."""
        entry = _current(self.hpke, self.revoked, now, "HPKE")
        return entry.key_id, _hpke_private(entry)

    def opening_keys(self) -> dict[str, HpkePrivateKey]:
        """Every unrevoked HPKE key (old ones too, to open what was sealed to them)."""
        return {e.key_id: _hpke_private(e) for e in self.hpke if e.key_id not in self.revoked}

    def verifying_keys(self) -> PublicKeySet:
        """The public side of the signing keys, with validity and revocation."""
        return PublicKeySet(
            PublicKeyInfo(
                key_id=e.key_id,
                public=e.public,
                not_before=e.not_before,
                not_after=e.not_after,
                revoked=e.key_id in self.revoked,
            )
            for e in self.signing
        )


def _hpke_private(entry: KeyEntry) -> HpkePrivateKey:
    if entry.algorithm not in KEMS:
        raise ConfigError(f"key {entry.key_id}: unknown HPKE algorithm {entry.algorithm!r}")
    kem: KemName = "x25519" if entry.algorithm == "x25519" else "mlkem768x25519"
    return hpke_private_from_bytes(kem, entry.private)


def _current(
    entries: tuple[KeyEntry, ...], revoked: tuple[str, ...], now: datetime, what: str
) -> KeyEntry:
    usable = [e for e in entries if e.key_id not in revoked and e.valid_at(now)]
    if not usable:
        raise ConfigError(
            f"no valid {what} key at {now.isoformat()}: all are expired, revoked or not yet "
            "valid; add fresh keys to the key file (silkgate participant rotate-keys), or make "
            "a new key file (silkgate keygen) whose public part the operator registers"
        )
    return max(usable, key=lambda e: e.not_before)


def _signing_entry(random: Random, now: datetime) -> KeyEntry:
    key = new_signing_key(random)
    public = ed25519_public_bytes(key)
    return KeyEntry(
        key_id=ed25519_key_id(public),
        algorithm="ed25519",
        private=key.private_bytes_raw(),
        public=public,
        not_before=now,
    )


def _hpke_entry(kem: KemName, random: Random, now: datetime) -> KeyEntry:
    size = _X25519_LEN if kem == "x25519" else _MLKEM_SEED_LEN + _X25519_LEN
    private = random(size)
    public = hpke_public_bytes(hpke_private_from_bytes(kem, private))
    return KeyEntry(
        key_id=hpke_key_id(public),
        algorithm=kem,
        private=private,
        public=public,
        not_before=now,
    )


def create_keyring(
    participant: str, now: datetime, *, kem: KemName = "x25519", random: Random = system_random
) -> KeyRing:
    """A fresh key ring: one signing key and one HPKE key, valid from `now`."""
    return KeyRing(
        participant=participant,
        signing=(_signing_entry(random, now),),
        hpke=(_hpke_entry(kem, random, now),),
    )


def _retire(entry: KeyEntry, until: datetime) -> KeyEntry:
    if entry.not_after is not None and entry.not_after <= until:
        return entry
    return msgspec.structs.replace(entry, not_after=until)


def rotate_keyring(
    ring: KeyRing,
    now: datetime,
    *,
    overlap: timedelta = DEFAULT_OVERLAP,
    kem: KemName | None = None,
    random: Random = system_random,
) -> KeyRing:
    """Add a new signing key and HPKE key valid from `now`; the previous keys stay valid
    for `overlap` more (so in-flight work completes) and stay in the ring for verifying and
    opening what they signed or sealed. `kem` defaults to the current HPKE key's KEM."""
    if kem is None:
        kem = "mlkem768x25519" if ring.hpke and ring.hpke[-1].algorithm != "x25519" else "x25519"
    until = now + overlap
    return msgspec.structs.replace(
        ring,
        signing=(*(_retire(e, until) for e in ring.signing), _signing_entry(random, now)),
        hpke=(*(_retire(e, until) for e in ring.hpke), _hpke_entry(kem, random, now)),
    )


def revoke_key(ring: KeyRing, key_id: str) -> KeyRing:
    """Mark `key_id` revoked: it no longer signs, verifies, or receives new envelopes."""
    known = {e.key_id for e in ring.signing} | {e.key_id for e in ring.hpke}
    if key_id not in known:
        raise ConfigError(f"cannot revoke {key_id}: not in the key ring of {ring.participant}")
    if key_id in ring.revoked:
        return ring
    return msgspec.structs.replace(ring, revoked=(*ring.revoked, key_id))


# --- the key file --------------------------------------------------------------------------


def keyring_to_json(ring: KeyRing) -> bytes:
    return canonical_json(ring)


def keyring_from_json(data: bytes, source: str = "key file") -> KeyRing:
    try:
        ring = msgspec.json.decode(data, type=KeyRing)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{source} is not a valid silkgate key file: {exc}") from exc
    if ring.version != KEYRING_VERSION:
        raise ConfigError(f"{source} has key file version {ring.version}; expected 1")
    _check_entries(ring, source)
    return ring


def _check_entries(ring: KeyRing, source: str) -> None:
    for entry in ring.signing:
        key = Ed25519PrivateKey.from_private_bytes(entry.private)
        if ed25519_key_id(key) != entry.key_id:
            raise ConfigError(f"{source}: signing key {entry.key_id} does not match its id")
    for entry in ring.hpke:
        if hpke_key_id(hpke_public_bytes(_hpke_private(entry))) != entry.key_id:
            raise ConfigError(f"{source}: HPKE key {entry.key_id} does not match its id")


def save_keyring(ring: KeyRing, path: str | os.PathLike[str]) -> None:
    """Write the key file with mode 0600 (atomically: temporary file, then rename)."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, keyring_to_json(ring))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, target)


def load_keyring(path: str | os.PathLike[str]) -> KeyRing:
    """Read a key file; refuse it if group or others may read or write it."""
    target = Path(path)
    try:
        mode = target.stat().st_mode
    except FileNotFoundError as exc:
        raise ConfigError(f"key file {target} does not exist; create it first") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"key file {target} is accessible by group or others "
            f"(mode {stat.S_IMODE(mode):04o}); run `chmod 600 {target}`"
        )
    return keyring_from_json(target.read_bytes(), source=f"key file {target}")
