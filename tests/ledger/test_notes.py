"""Regulators' free text stays off the ledger: a leaf holds a salted commitment that the
stored note opens (issue 11, finding 5)."""

from __future__ import annotations

import os

import msgspec
import pytest

from silkgate.errors import LedgerVerificationError, NotFoundError
from silkgate.ledger.notes import NOTE_KIND, Note, keep_note, note_commitment, read_note
from silkgate.store.memory import MemoryStore


def test_a_kept_note_opens_its_commitment() -> None:
    store = MemoryStore()
    commitment = keep_note(store, "urgent customs clearance", os.urandom)
    assert "urgent" not in commitment and len(commitment) == 64
    assert read_note(store, commitment) == "urgent customs clearance"


def test_the_same_text_gets_a_different_commitment_each_time() -> None:
    store = MemoryStore()
    assert keep_note(store, "no legal basis", os.urandom) != keep_note(
        store, "no legal basis", os.urandom
    )


def test_a_tampered_or_missing_note_is_refused() -> None:
    store = MemoryStore()
    commitment = keep_note(store, "no legal basis", os.urandom)
    raw = store.get_sandbox_doc(NOTE_KIND, commitment)
    assert raw is not None
    note = msgspec.msgpack.decode(raw, type=Note)
    forged = msgspec.msgpack.encode(Note(note.salt, "a better reason"))
    store.put_sandbox_doc(NOTE_KIND, commitment, forged)
    with pytest.raises(LedgerVerificationError):
        read_note(store, commitment)
    with pytest.raises(NotFoundError):
        read_note(store, note_commitment("x", bytes(16)))
