"""C2SP signed notes, checkpoints, vkeys and cosignatures."""

from __future__ import annotations

import base64
import hashlib

import pytest

from ledger.helpers import ORIGIN, key
from silkgate.errors import LedgerVerificationError, VerificationError
from silkgate.ledger import checkpoint as cp

ROOT = hashlib.sha256(b"root").digest()


def signed() -> str:
    return cp.sign_checkpoint(ORIGIN, 42, ROOT, key("log")).note


def test_note_layout_follows_c2sp() -> None:
    note = signed()
    body, sig_line = note.split("\n\n")
    assert body == f"{ORIGIN}\n42\n{base64.b64encode(ROOT).decode()}"
    assert sig_line.startswith(f"\u2014 {ORIGIN} ") and sig_line.endswith("\n")
    raw = base64.b64decode(sig_line.rsplit(" ", 1)[1])
    public = key("log").public_key().public_bytes_raw()
    expected_id = hashlib.sha256(ORIGIN.encode() + b"\n\x01" + public).digest()[:4]
    assert raw[:4] == expected_id and len(raw) == 68


def test_vkey_round_trip_and_key_id_check() -> None:
    verifier = cp.verifier_for(ORIGIN, key("log"))
    vkey = verifier.vkey()
    assert cp.parse_vkey(vkey) == verifier
    name, _key_id, material = vkey.split("+", 2)
    assert base64.b64decode(material)[0] == 1
    with pytest.raises(LedgerVerificationError, match="key ID"):
        cp.parse_vkey(f"{name}+00000000+{material}")
    with pytest.raises(LedgerVerificationError):
        cp.parse_vkey("not a key")


def test_open_checkpoint_parses_and_verifies() -> None:
    opened = cp.open_checkpoint(signed(), cp.verifier_for(ORIGIN, key("log")))
    assert (opened.origin, opened.size, opened.root_hash) == (ORIGIN, 42, ROOT)


@pytest.mark.parametrize(
    ("old", "new"),
    [("\n42\n", "\n43\n"), (ORIGIN + "\n", "other.example/log\n"), ("=\n\n", "=\next\n\n")],
)
def test_changed_text_fails(old: str, new: str) -> None:
    tampered = signed().replace(old, new, 1)
    with pytest.raises(VerificationError):
        cp.open_checkpoint(tampered, cp.verifier_for(ORIGIN, key("log")))


def test_signature_by_another_key_is_ignored_and_then_refused() -> None:
    other = cp.sign_checkpoint(ORIGIN, 42, ROOT, key("impostor")).note
    with pytest.raises(LedgerVerificationError, match="no signature by a known key"):
        cp.open_checkpoint(other, cp.verifier_for(ORIGIN, key("log")))


def test_unknown_signatures_are_ignored() -> None:
    note = cp.parse_note(signed())
    stranger = cp.sign_note(note.text, "someone.example", key("stranger")).signatures
    with_extra = note.with_signatures(stranger).render()
    cp.open_checkpoint(with_extra, cp.verifier_for(ORIGIN, key("log")))


def test_broken_signature_by_known_key_fails() -> None:
    note = signed()
    body, line = note.split("\n\n")
    raw = bytearray(base64.b64decode(line.rsplit(" ", 1)[1]))
    raw[10] ^= 1
    broken = f"{body}\n\n\u2014 {ORIGIN} {base64.b64encode(bytes(raw)).decode()}\n"
    with pytest.raises(LedgerVerificationError, match="does not verify"):
        cp.open_checkpoint(broken, cp.verifier_for(ORIGIN, key("log")))


@pytest.mark.parametrize(
    "note",
    ["", "no blank line\n", "a\n\nnot a signature\n", "a\x07\n\n\u2014 x AAAAAAA=\n"],
)
def test_malformed_notes_fail(note: str) -> None:
    with pytest.raises(LedgerVerificationError):
        cp.parse_note(note)


@pytest.mark.parametrize(
    "text", ["o\n42\n", "o\n042\nAAAA\n", "o\n-1\nAAAA\n", "o\n1\nAAAA\n", "o\n\n1\nx\n"]
)
def test_malformed_checkpoint_bodies_fail(text: str) -> None:
    with pytest.raises(LedgerVerificationError):
        cp.parse_checkpoint_text(text)


def test_cosignature_round_trip() -> None:
    note = cp.parse_note(signed())
    witness = key("witness")
    sig = cp.cosign(note.text, "witness.example/w1", witness, 1_700_000_000)
    assert len(sig.signature) == 72
    verifier = cp.verifier_for("witness.example/w1", witness, cp.COSIGNATURE_V1)
    assert (
        verifier.key_id
        == hashlib.sha256(
            b"witness.example/w1\n\x04" + witness.public_key().public_bytes_raw()
        ).digest()[:4]
    )
    cosigned = note.with_signatures([sig])
    assert cp.verify_cosignatures(cosigned, [verifier]) == {"witness.example/w1": 1_700_000_000}
    # The log's own verification ignores the cosignature line.
    cp.open_checkpoint(cosigned.render(), cp.verifier_for(ORIGIN, key("log")))
    assert cp.parse_vkey(verifier.vkey()) == verifier


def test_cosignature_over_another_checkpoint_fails() -> None:
    note = cp.parse_note(signed())
    witness = key("witness")
    other = cp.checkpoint_text(ORIGIN, 43, ROOT)
    sig = cp.cosign(other, "w", witness, 5)
    verifier = cp.verifier_for("w", witness, cp.COSIGNATURE_V1)
    with pytest.raises(LedgerVerificationError):
        cp.verify_cosignatures(note.with_signatures([sig]), [verifier])
    with pytest.raises(LedgerVerificationError, match="not cosigned"):
        cp.verify_cosignatures(note, [verifier])
