"""Free text kept out of the ledger: a regulator's reason for releasing or rejecting a held
batch, or for suspending an experiment, is business-sensitive prose. Its leaf holds only a
salted commitment; the store keeps the text with its salt, so whoever may read the entry
(its parties, regulators) can be shown the text and check it against the leaf, while a
leaf that leaks shows nothing, not even which of a few likely reasons it was.
"""

from __future__ import annotations

import hashlib

import msgspec

from silkgate.clock import Random
from silkgate.errors import LedgerVerificationError, NotFoundError
from silkgate.store.ports import SandboxPort

NOTE_KIND = "ledger.note"
NOTE_LABEL = b"silkgate/note/v1\n"
SALT_BYTES = 16


class Note(msgspec.Struct, frozen=True):
    salt: bytes
    text: str


def note_commitment(text: str, salt: bytes) -> str:
    """Hex SHA-256(label || salt || UTF-8 text), the salt of fixed length."""
    if len(salt) != SALT_BYTES:
        raise ValueError(f"a note's salt has {SALT_BYTES} bytes")
    return hashlib.sha256(NOTE_LABEL + salt + text.encode("utf-8")).hexdigest()


def keep_note(store: SandboxPort, text: str, random: Random) -> str:
    """Store `text` with a fresh salt (inside the caller's transaction); returns the
    commitment for the leaf."""
    salt = random(SALT_BYTES)
    commitment = note_commitment(text, salt)
    store.put_sandbox_doc(NOTE_KIND, commitment, msgspec.msgpack.encode(Note(salt, text)))
    return commitment


def read_note(store: SandboxPort, commitment: str) -> str:
    """The text behind a leaf's commitment, checked against it."""
    raw = store.get_sandbox_doc(NOTE_KIND, commitment)
    if raw is None:
        raise NotFoundError(f"no note for commitment {commitment}")
    note = msgspec.msgpack.decode(raw, type=Note)
    if note_commitment(note.text, note.salt) != commitment:
        raise LedgerVerificationError(f"the stored note does not open commitment {commitment}")
    return note.text
