"""An independent, test-only implementation of the envelope format from docs/envelope.md:
RFC 9180 base mode for DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / ChaCha20-Poly1305 built
from primitives, with the ephemeral key passed in. It lets the tests regenerate envelope
vectors byte for byte and shows that the documentation suffices to open an envelope."""

from __future__ import annotations

import hashlib
import hmac
import struct

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

KEM_ID, KDF_ID, AEAD_ID = 0x0020, 0x0001, 0x0003
KEM_SUITE_ID = b"KEM" + struct.pack(">H", KEM_ID)
HPKE_SUITE_ID = b"HPKE" + struct.pack(">HHH", KEM_ID, KDF_ID, AEAD_ID)


def _extract(salt: bytes, ikm: bytes) -> bytes:
    return hmac.new(salt, ikm, hashlib.sha256).digest()


def _expand(prk: bytes, info: bytes, length: int) -> bytes:
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


def labeled_extract(suite_id: bytes, salt: bytes, label: bytes, ikm: bytes) -> bytes:
    return _extract(salt, b"HPKE-v1" + suite_id + label + ikm)


def labeled_expand(suite_id: bytes, prk: bytes, label: bytes, info: bytes, length: int) -> bytes:
    labeled_info = struct.pack(">H", length) + b"HPKE-v1" + suite_id + label + info
    return _expand(prk, labeled_info, length)


def _shared_secret(dh: bytes, enc: bytes, pk_r: bytes) -> bytes:
    eae_prk = labeled_extract(KEM_SUITE_ID, b"", b"eae_prk", dh)
    return labeled_expand(KEM_SUITE_ID, eae_prk, b"shared_secret", enc + pk_r, 32)


def _key_schedule(shared_secret: bytes, info: bytes) -> tuple[bytes, bytes]:
    psk_id_hash = labeled_extract(HPKE_SUITE_ID, b"", b"psk_id_hash", b"")
    info_hash = labeled_extract(HPKE_SUITE_ID, b"", b"info_hash", info)
    context = b"\x00" + psk_id_hash + info_hash
    secret = labeled_extract(HPKE_SUITE_ID, shared_secret, b"secret", b"")
    key = labeled_expand(HPKE_SUITE_ID, secret, b"key", context, 32)
    nonce = labeled_expand(HPKE_SUITE_ID, secret, b"base_nonce", context, 12)
    return key, nonce


def seal(pk_r: bytes, info: bytes, plaintext: bytes, ephemeral: bytes) -> bytes:
    """Single-shot base-mode seal; returns enc || ciphertext."""
    sk_e = X25519PrivateKey.from_private_bytes(ephemeral)
    enc = sk_e.public_key().public_bytes_raw()
    dh = sk_e.exchange(X25519PublicKey.from_public_bytes(pk_r))
    key, nonce = _key_schedule(_shared_secret(dh, enc, pk_r), info)
    return enc + ChaCha20Poly1305(key).encrypt(nonce, plaintext, b"")


def open_(sk_r: bytes, info: bytes, sealed: bytes) -> bytes:
    """Single-shot base-mode open of enc || ciphertext."""
    key_r = X25519PrivateKey.from_private_bytes(sk_r)
    enc, ct = sealed[:32], sealed[32:]
    dh = key_r.exchange(X25519PublicKey.from_public_bytes(enc))
    pk_r = key_r.public_key().public_bytes_raw()
    key, nonce = _key_schedule(_shared_secret(dh, enc, pk_r), info)
    return ChaCha20Poly1305(key).decrypt(nonce, ct, b"")


def open_envelope_from_spec(data: bytes, sk_r: bytes) -> tuple[bytes, bytes]:
    """Open an x25519-suite envelope following docs/envelope.md only (no signature check):
    returns (header bytes, payload)."""
    assert data[:4] == b"SGE1"
    (length,) = struct.unpack(">I", data[4:8])
    header = data[8 : 8 + length]
    sealed = data[8 + length + 64 :]
    info = b"silkgate/envelope/v1/payload\x00" + hashlib.sha256(header).digest()
    return header, open_(sk_r, info, sealed)
