"""A participant's own key file (its private keys never reach the hub): create or load it
and read off the public halves that get registered."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from silkgate.clock import Clock, system_clock
from silkgate.errors import ConfigError
from silkgate.seal.keys import (
    KeyRing,
    create_keyring,
    ed25519_public_bytes,
    hpke_public_bytes,
    load_keyring,
    save_keyring,
)


@dataclass(frozen=True)
class RegisteredKeys:
    ring: KeyRing
    signing_public: bytes  # raw Ed25519 public key of the current signing key
    hpke_public: bytes  # raw HPKE public key of the current HPKE key


def ensure_key_file(path: Path, participant_id: str, clock: Clock = system_clock) -> RegisteredKeys:
    """Load the key file at `path`, or create it (mode 0600) if it does not exist."""
    if path.exists():
        ring = load_keyring(path)
        if ring.participant != participant_id:
            raise ConfigError(
                f"{path} holds the keys of {ring.participant!r}, not {participant_id!r}"
            )
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        ring = create_keyring(participant_id, clock())
        save_keyring(ring, path)
    return public_halves(ring, clock)


def public_halves(ring: KeyRing, clock: Clock = system_clock) -> RegisteredKeys:
    now = clock()
    _, signing = ring.current_signing(now)
    _, hpke = ring.current_hpke(now)
    return RegisteredKeys(
        ring=ring, signing_public=ed25519_public_bytes(signing), hpke_public=hpke_public_bytes(hpke)
    )


def load_key_file(path: Path) -> KeyRing:
    return load_keyring(path)
