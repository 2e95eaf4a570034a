"""C2SP signed notes (c2sp.org/signed-note), checkpoints (c2sp.org/tlog-checkpoint) and
Ed25519 cosignatures (c2sp.org/tlog-cosignature, cosignature/v1). Pure: keys and times are
passed in.

A note is UTF-8 text ending in a newline, a blank line, then signature lines
``— <key name> <base64(4-byte key ID || signature)>``. The key ID of an Ed25519 key is
``SHA-256(name || 0x0A || type || public key)[:4]`` with type 0x01 for note signatures and
0x04 for timestamped cosignatures. Verifier keys are written
``<name>+<hex key ID>+<base64(type || public key)>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from silkgate.errors import LedgerVerificationError
from silkgate.model import Checkpoint

ED25519 = 0x01
COSIGNATURE_V1 = 0x04
_DASH = "\u2014 "
_MAX_SIGNATURES = 64
_MAX_TIMESTAMP = 2**63 - 1


# -- keys ---------------------------------------------------------------------------


def key_id(name: str, sig_type: int, public_key: bytes) -> bytes:
    """SHA-256(name || "\\n" || type || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public_key).digest()[:4]


def _check_name(name: str) -> None:
    if not name or any(c.isspace() or c == "+" for c in name):
        raise LedgerVerificationError(f"key name {name!r} is empty or has spaces or '+'")


@dataclass(frozen=True)
class NoteVerifier:
    """A public key that verifies note signatures (type 0x01) or cosignatures (0x04)."""

    name: str
    sig_type: int
    public_key: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.sig_type, self.public_key)

    def vkey(self) -> str:
        material = base64.b64encode(bytes([self.sig_type]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{material}"

    def verify(self, message: bytes, signature: bytes) -> None:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except (InvalidSignature, ValueError) as exc:
            raise LedgerVerificationError(f"signature by {self.name} does not verify") from exc


def verifier_for(name: str, key: Ed25519PrivateKey, sig_type: int = ED25519) -> NoteVerifier:
    _check_name(name)
    return NoteVerifier(name, sig_type, key.public_key().public_bytes_raw())


def parse_vkey(vkey: str) -> NoteVerifier:
    """Parse ``<name>+<hex key ID>+<base64(type || key)>``; the key ID must match."""
    parts = vkey.strip().split("+", 2)
    if len(parts) != 3:
        raise LedgerVerificationError("a verifier key has the form <name>+<hex id>+<base64 key>")
    name, hex_id, material = parts
    _check_name(name)
    try:
        raw = base64.b64decode(material, validate=True)
        wanted_id = bytes.fromhex(hex_id)
    except (binascii.Error, ValueError) as exc:
        raise LedgerVerificationError("verifier key is not valid hex and base64") from exc
    if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE_V1):
        raise LedgerVerificationError("verifier key is not an Ed25519 key (type 0x01 or 0x04)")
    verifier = NoteVerifier(name, raw[0], raw[1:])
    if verifier.key_id != wanted_id:
        raise LedgerVerificationError(f"verifier key for {name} has a wrong key ID")
    return verifier


# -- notes --------------------------------------------------------------------------


@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        return f"{_DASH}{self.name} {base64.b64encode(self.key_id + self.signature).decode()}\n"


@dataclass(frozen=True)
class Note:
    text: str  # ends in a newline
    signatures: tuple[NoteSignature, ...]

    def render(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)

    def with_signatures(self, extra: Sequence[NoteSignature]) -> Note:
        known = {(s.name, s.key_id) for s in self.signatures}
        fresh = [s for s in extra if (s.name, s.key_id) not in known]
        return Note(self.text, self.signatures + tuple(fresh))


def sign_note(text: str, name: str, key: Ed25519PrivateKey) -> Note:
    """Sign `text` (which must end in a newline) with an Ed25519 note signature."""
    _check_text(text)
    verifier = verifier_for(name, key)
    sig = NoteSignature(name, verifier.key_id, key.sign(text.encode()))
    return Note(text, (sig,))


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise LedgerVerificationError("note text must end in a newline")
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise LedgerVerificationError("note text holds control characters")


def parse_signature_line(line: str) -> NoteSignature:
    if not line.startswith(_DASH):
        raise LedgerVerificationError("a signature line starts with an em dash and a space")
    name, _, b64 = line[len(_DASH) :].rpartition(" ")
    _check_name(name)
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError) as exc:  # ValueError: characters outside ASCII
        raise LedgerVerificationError(f"signature by {name} is not base64") from exc
    if len(raw) < 5:
        raise LedgerVerificationError(f"signature by {name} is too short")
    return NoteSignature(name, raw[:4], raw[4:])


def parse_signature_lines(text: str) -> list[NoteSignature]:
    if not text.endswith("\n"):
        raise LedgerVerificationError("signature lines must end in a newline")
    return [parse_signature_line(line) for line in text[:-1].split("\n")]


def parse_note(note: str | bytes) -> Note:
    """Split a signed note into its text and signatures (nothing is verified yet)."""
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise LedgerVerificationError("a signed note must be UTF-8") from exc
    cut = note.rfind("\n\n")
    if cut < 0:
        raise LedgerVerificationError("a signed note needs a blank line before its signatures")
    text, sigs = note[: cut + 1], note[cut + 2 :]
    _check_text(text)
    signatures = parse_signature_lines(sigs)
    if len(signatures) > _MAX_SIGNATURES:
        raise LedgerVerificationError(f"a note may carry at most {_MAX_SIGNATURES} signatures")
    return Note(text, tuple(signatures))


def verify_note(note: str | bytes | Note, verifiers: Sequence[NoteVerifier]) -> Note:
    """Verify the note signatures (type 0x01) of known keys; unknown signatures are ignored.

    Raises unless at least one known key signed and every known key's signature verifies.
    Returns the parsed note."""
    parsed = note if isinstance(note, Note) else parse_note(note)
    by_id = {(v.name, v.key_id): v for v in verifiers if v.sig_type == ED25519}
    verified = 0
    for sig in parsed.signatures:
        verifier = by_id.get((sig.name, sig.key_id))
        if verifier is not None:
            verifier.verify(parsed.text.encode(), sig.signature)
            verified += 1
    if not verified:
        names = ", ".join(sorted({v.name for v in verifiers})) or "none"
        raise LedgerVerificationError(f"the note carries no signature by a known key ({names})")
    return parsed


# -- checkpoints --------------------------------------------------------------------


def checkpoint_text(origin: str, size: int, root: bytes) -> str:
    if not origin or "\n" in origin:
        raise LedgerVerificationError("a checkpoint origin is one non-empty line")
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


def parse_checkpoint_text(text: str) -> tuple[str, int, bytes]:
    """(origin, size, root hash) from a checkpoint body; extension lines are ignored."""
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
        raise LedgerVerificationError("a checkpoint body has at least three non-empty lines")
    origin, size_line, root_line = lines[:3]
    if not size_line.isdigit() or (size_line != "0" and size_line.startswith("0")):
        raise LedgerVerificationError(f"checkpoint size {size_line!r} is not a decimal number")
    try:
        root = base64.b64decode(root_line, validate=True)
    except (binascii.Error, ValueError) as exc:  # ValueError: characters outside ASCII
        raise LedgerVerificationError("checkpoint root hash is not base64") from exc
    if len(root) != 32:
        raise LedgerVerificationError("checkpoint root hash is not 32 bytes")
    return origin, int(size_line), root


def sign_checkpoint(origin: str, size: int, root: bytes, key: Ed25519PrivateKey) -> Checkpoint:
    """A checkpoint signed by the log, whose key name is its origin."""
    note = sign_note(checkpoint_text(origin, size, root), origin, key)
    return Checkpoint(origin=origin, size=size, root_hash=root, note=note.render())


def open_checkpoint(note: str | bytes, verifier: NoteVerifier) -> Checkpoint:
    """Verify a checkpoint note with the log's key and parse it. The origin must be the
    key's name."""
    parsed = verify_note(note, [verifier])
    origin, size, root = parse_checkpoint_text(parsed.text)
    if origin != verifier.name:
        raise LedgerVerificationError(
            f"checkpoint origin {origin!r} is not the log's name {verifier.name!r}"
        )
    return Checkpoint(origin=origin, size=size, root_hash=root, note=parsed.render())


# -- cosignatures (tlog-cosignature, Ed25519 cosignature/v1) ----------------------------


def cosigned_message(text: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n".encode() + text.encode()


def cosign(text: str, name: str, key: Ed25519PrivateKey, timestamp: int) -> NoteSignature:
    """A witness cosignature over a checkpoint body at POSIX time `timestamp`."""
    if not 0 <= timestamp <= _MAX_TIMESTAMP:
        raise LedgerVerificationError("cosignature timestamp out of range")
    verifier = verifier_for(name, key, COSIGNATURE_V1)
    sig = key.sign(cosigned_message(text, timestamp))
    return NoteSignature(name, verifier.key_id, struct.pack(">Q", timestamp) + sig)


def verify_cosignature(text: str, sig: NoteSignature, verifier: NoteVerifier) -> int:
    """Verify one cosignature by `verifier` (type 0x04); returns its timestamp."""
    if verifier.sig_type != COSIGNATURE_V1:
        raise LedgerVerificationError(f"{verifier.name} is not a cosigner key (type 0x04)")
    if (sig.name, sig.key_id) != (verifier.name, verifier.key_id):
        raise LedgerVerificationError(f"the signature is not by {verifier.name}")
    if len(sig.signature) != 8 + 64:
        raise LedgerVerificationError(f"cosignature by {verifier.name} has the wrong length")
    (timestamp,) = struct.unpack(">Q", sig.signature[:8])
    if timestamp > _MAX_TIMESTAMP:
        raise LedgerVerificationError("cosignature timestamp out of range")
    verifier.verify(cosigned_message(text, timestamp), sig.signature[8:])
    return int(timestamp)


def verify_cosignatures(note: Note, cosigners: Sequence[NoteVerifier]) -> dict[str, int]:
    """Require a valid cosignature from every given cosigner; returns name -> timestamp."""
    found: dict[str, int] = {}
    for verifier in cosigners:
        sig = next(
            (s for s in note.signatures if (s.name, s.key_id) == (verifier.name, verifier.key_id)),
            None,
        )
        if sig is None:
            raise LedgerVerificationError(f"the checkpoint is not cosigned by {verifier.name}")
        found[verifier.name] = verify_cosignature(note.text, sig, verifier)
    return found
