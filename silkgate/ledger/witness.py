"""C2SP tlog-witness: the ``add-checkpoint`` protocol, both sides.

Witness side: :class:`Witness` keeps the latest checkpoint it cosigned per log origin,
checks the submitted checkpoint's signature and its consistency proof from that state,
and returns an Ed25519 cosignature/v1 line. Every refusal raises :class:`WitnessError`
with the HTTP status the spec assigns (400, 403, 404, 409 with the witness's size, 422).

Hub side: :func:`request_cosignature` sends the log's latest checkpoint to a witness
through any ``submit`` function (HTTP or in-process) and stores the returned cosignature
with the checkpoint.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from silkgate.clock import Clock
from silkgate.errors import LedgerVerificationError, VerificationError
from silkgate.ledger.checkpoint import (
    COSIGNATURE_V1,
    NoteVerifier,
    cosign,
    parse_checkpoint_text,
    parse_note,
    verifier_for,
    verify_note,
)
from silkgate.ledger.log import TransparencyLog
from silkgate.ledger.merkle import verify_consistency
from silkgate.model import Checkpoint

MAX_PROOF_LINES = 63
SIZE_CONTENT_TYPE = "text/x.tlog.size"


class WitnessError(VerificationError):
    """The witness refused a checkpoint. `status` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str, *, body: bytes | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body if body is not None else (message + "\n").encode()
        self.content_type = SIZE_CONTENT_TYPE if status == 409 and body else "text/plain"


# -- the request body ---------------------------------------------------------------


@dataclass(frozen=True)
class AddCheckpoint:
    old_size: int
    proof: tuple[bytes, ...]
    checkpoint: str  # the signed note


def encode_request(old_size: int, proof: Sequence[bytes], note: str) -> bytes:
    lines = [f"old {old_size}\n"] + [base64.b64encode(h).decode() + "\n" for h in proof]
    return ("".join(lines) + "\n" + note).encode()


def decode_request(body: bytes) -> AddCheckpoint:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WitnessError(400, "request body is not UTF-8") from exc
    head, sep, note = text.partition("\n\n")
    lines = head.split("\n")
    if not sep or not lines[0].startswith("old "):
        raise WitnessError(400, "request starts with 'old <size>', proof lines, a blank line")
    size_text = lines[0][4:]
    if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise WitnessError(400, f"old size {size_text!r} is not a decimal")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise WitnessError(400, f"more than {MAX_PROOF_LINES} consistency proof lines")
    try:
        proof = tuple(base64.b64decode(line, validate=True) for line in lines[1:])
    except (binascii.Error, ValueError) as exc:  # ValueError: characters outside ASCII
        raise WitnessError(400, "a consistency proof line is not base64") from exc
    return AddCheckpoint(int(size_text), proof, note)


# -- witness state ------------------------------------------------------------------


class WitnessState(Protocol):
    def locked(self) -> AbstractContextManager[dict[str, tuple[int, bytes]]]:
        """Exclusive access to origin -> (size, root); changes are saved on exit."""
        ...


class FileWitnessState:
    """Witness state in a JSON file, updated atomically under a lock (threads and processes)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    @contextmanager
    def locked(self) -> Iterator[dict[str, tuple[int, bytes]]]:
        lock_path = self.path.with_suffix(".lock")
        with self._lock, open(lock_path, "a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            state = self._load()
            before = dict(state)
            yield state
            if state != before:
                self._save(state)

    def _load(self) -> dict[str, tuple[int, bytes]]:
        if not self.path.exists():
            return {}
        raw = json.loads(self.path.read_text(encoding="utf-8"))
        return {o: (int(v["size"]), base64.b64decode(v["root"])) for o, v in raw.items()}

    def _save(self, state: Mapping[str, tuple[int, bytes]]) -> None:
        doc = {o: {"size": s, "root": base64.b64encode(r).decode()} for o, (s, r) in state.items()}
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=2, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)


class MemoryWitnessState:
    def __init__(self) -> None:
        self.state: dict[str, tuple[int, bytes]] = {}
        self._lock = threading.Lock()

    @contextmanager
    def locked(self) -> Iterator[dict[str, tuple[int, bytes]]]:
        with self._lock:
            yield self.state


# -- the witness --------------------------------------------------------------------


class Witness:
    def __init__(
        self,
        name: str,
        key: Ed25519PrivateKey,
        logs: Sequence[NoteVerifier],
        state: WitnessState,
        clock: Clock,
    ) -> None:
        self.name = name
        self._key = key
        self.logs = {v.name: v for v in logs}
        self.state = state
        self.clock = clock
        self.verifier = verifier_for(name, key, COSIGNATURE_V1)

    @property
    def vkey(self) -> str:
        return self.verifier.vkey()

    def add_checkpoint(self, body: bytes) -> bytes:
        """Handle an add-checkpoint request body; returns the cosignature line(s)."""
        request = decode_request(body)
        text, origin, size, root = self._authentic(request.checkpoint)
        if request.old_size > size:
            raise WitnessError(400, f"old size {request.old_size} exceeds size {size}")
        with self.state.locked() as state:
            known_size, known_root = state.get(origin, (0, b""))
            if request.old_size != known_size:
                raise WitnessError(409, "old size mismatch", body=f"{known_size}\n".encode())
            self._check_consistent(request, known_root, size, root)
            state[origin] = (size, root)
        timestamp = int(self.clock().timestamp())
        return cosign(text, self.name, self._key, timestamp).line().encode()

    def _authentic(self, note_text: str) -> tuple[str, str, int, bytes]:
        try:
            note = parse_note(note_text)
            origin, size, root = parse_checkpoint_text(note.text)
        except LedgerVerificationError as exc:
            raise WitnessError(400, f"malformed checkpoint: {exc}") from exc
        log = self.logs.get(origin)
        if log is None:
            raise WitnessError(404, f"unknown log {origin!r}")
        try:
            verify_note(note, [log])
        except LedgerVerificationError as exc:
            raise WitnessError(403, f"checkpoint not signed by {origin}: {exc}") from exc
        return note.text, origin, size, root

    @staticmethod
    def _check_consistent(
        request: AddCheckpoint, known_root: bytes, size: int, root: bytes
    ) -> None:
        old = request.old_size
        if old == 0:
            if request.proof:
                raise WitnessError(422, "the consistency proof from size 0 must be empty")
            return
        if old == size and root != known_root:
            raise WitnessError(409, "same size as the cosigned checkpoint, different root")
        try:
            verify_consistency(old, size, request.proof, known_root, root)
        except LedgerVerificationError as exc:
            raise WitnessError(422, f"consistency proof does not verify: {exc}") from exc


# -- the hub side -------------------------------------------------------------------

Submit = Callable[[bytes], tuple[int, bytes]]  # request body -> (HTTP status, response body)


def request_cosignature(
    log: TransparencyLog, submit: Submit, cosigner: NoteVerifier, *, old_size: int = 0
) -> Checkpoint:
    """Send the log's latest checkpoint to a witness and store its cosignature. A 409
    answer tells the witness's size; the request is then retried once from that size."""
    checkpoint = log.checkpoint()
    for _ in range(2):
        proof = log.consistency_proof(old_size, checkpoint.size) if old_size else []
        status, answer = submit(encode_request(old_size, proof, checkpoint.note))
        if status == 409 and answer.strip().isdigit() and int(answer) != old_size:
            old_size = int(answer)
            continue
        if status != 200:
            raise WitnessError(status, f"witness {cosigner.name} refused: {answer[:200]!r}")
        return log.add_cosignatures(checkpoint.size, answer.decode(), [cosigner])
    raise WitnessError(409, f"witness {cosigner.name} keeps changing its size")


def http_submit(witness_url: str, client: httpx.Client | None = None) -> Submit:
    """A tlog-witness submit function POSTing to `<witness_url>/add-checkpoint`."""
    http = client or httpx.Client(timeout=30)
    url = witness_url.rstrip("/") + "/add-checkpoint"

    def submit(body: bytes) -> tuple[int, bytes]:
        answer = http.post(url, content=body)
        return answer.status_code, answer.content

    return submit
