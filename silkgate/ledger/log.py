"""The transparency log over a store's ledger methods.

Appends write entries and the perfect-subtree nodes they complete in one store call, so
they commit with the caller's transaction. Checkpoints are signed only for a tree that
extends the latest stored checkpoint (checked against the stored nodes, with a
consistency proof), inside one store transaction: after any crash the next checkpoint is
still consistent with every checkpoint ever stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from silkgate.clock import Clock, system_clock
from silkgate.errors import LedgerVerificationError, NotFoundError, StoreError
from silkgate.ledger import merkle
from silkgate.ledger.bundle import ProofBundle
from silkgate.ledger.checkpoint import (
    NoteSignature,
    NoteVerifier,
    open_checkpoint,
    parse_note,
    parse_signature_lines,
    sign_checkpoint,
    verifier_for,
    verify_cosignature,
)
from silkgate.ledger.merkle import NodeKey
from silkgate.ledger.storage import LedgerStore, leaf_hashes, read_nodes, transaction
from silkgate.model import Checkpoint


@dataclass(frozen=True)
class LogReport:
    """What verify_log checked."""

    size: int
    root_hash: bytes
    checkpoint_size: int | None


def _reader(nodes: Mapping[NodeKey, bytes]) -> merkle.NodeReader:
    return lambda keys: nodes


class TransparencyLog:
    def __init__(
        self,
        store: LedgerStore,
        origin: str,
        signer: Ed25519PrivateKey,
        clock: Clock = system_clock,
    ) -> None:
        self.store = store
        self.origin = origin
        self.clock = clock
        self._signer = signer
        self.verifier: NoteVerifier = verifier_for(origin, signer)

    @property
    def vkey(self) -> str:
        """The log's verifier key: ``<origin>+<hex key ID>+<base64(0x01 || public key)>``."""
        return self.verifier.vkey()

    def _read(self, keys: Sequence[NodeKey]) -> Mapping[NodeKey, bytes]:
        return read_nodes(self.store, keys)

    def size(self) -> int:
        return self.store.ledger_size()

    # -- writing --------------------------------------------------------------------

    def append(self, entries: Sequence[bytes]) -> int:
        """Append entries; returns the index of the first. Joins the caller's transaction."""
        for entry in entries:
            if not isinstance(entry, bytes):
                raise TypeError("ledger entries are bytes (canonical JSON)")
        with transaction(self.store):
            size = self.store.ledger_size()
            if not entries:
                return size
            hashes = [merkle.leaf_hash(e) for e in entries]
            nodes = merkle.new_nodes(size, hashes, self._read, min_level=1)
            first = self.store.ledger_append(entries, nodes)
            if first != size:
                raise StoreError(f"ledger append landed at {first}, expected {size}")
            return first

    def checkpoint(self) -> Checkpoint:
        """Sign and store a checkpoint of the current tree, or return the latest one if the
        tree has not grown. Refuses to sign a tree that does not extend the latest stored
        checkpoint. Call it outside other transactions: the note is final once stored.

        When the tree has not grown, the latest checkpoint is checked against the stored
        tree and returned without taking the write lock: public reads (GET checkpoint)
        must not queue behind, or in front of, the batches committing."""
        latest = self.latest_checkpoint()
        if (
            latest is not None
            and latest.size == self.store.ledger_size()
            and self.root(latest.size) == latest.root_hash
        ):
            return latest
        with transaction(self.store):
            size = self.store.ledger_size()
            root = self.root(size)
            latest = self.latest_checkpoint()
            if latest is not None:
                self._check_extends(latest, size, root)
                if latest.size == size:
                    return latest
            signed = sign_checkpoint(self.origin, size, root, self._signer)
            self.store.put_checkpoint(size, signed.note.encode())
            return signed

    def _check_extends(self, latest: Checkpoint, size: int, root: bytes) -> None:
        if latest.size > size:
            raise LedgerVerificationError(
                f"the stored tree has {size} leaves but checkpoint {latest.size} was signed: "
                "leaves were lost; refusing to sign"
            )
        if self.root(latest.size) != latest.root_hash:
            raise LedgerVerificationError(
                f"the stored tree does not reproduce checkpoint {latest.size}; refusing to sign"
            )
        if 0 < latest.size < size:
            proof = self.consistency_proof(latest.size, size)
            merkle.verify_consistency(latest.size, size, proof, latest.root_hash, root)

    def add_cosignatures(
        self, size: int, lines: str | Sequence[NoteSignature], cosigners: Sequence[NoteVerifier]
    ) -> Checkpoint:
        """Attach witness cosignatures to the stored checkpoint of `size`. Only signatures by
        `cosigners` that verify are kept; others are ignored. Returns the updated note."""
        sigs = parse_signature_lines(lines) if isinstance(lines, str) else list(lines)
        with transaction(self.store):
            current = self.get_checkpoint(size)
            note = parse_note(current.note)
            accepted = []
            for verifier in cosigners:
                for sig in sigs:
                    if (sig.name, sig.key_id) == (verifier.name, verifier.key_id):
                        verify_cosignature(note.text, sig, verifier)
                        accepted.append(sig)
            merged = note.with_signatures(accepted).render()
            self.store.put_checkpoint(size, merged.encode())
            return Checkpoint(
                origin=current.origin, size=size, root_hash=current.root_hash, note=merged
            )

    # -- reading --------------------------------------------------------------------

    def latest_checkpoint(self) -> Checkpoint | None:
        """The latest stored checkpoint, verified with the log's key."""
        found = self.store.latest_checkpoint()
        if found is None:
            return None
        return self._open(found[0], found[1])

    def get_checkpoint(self, size: int) -> Checkpoint:
        return self._open(size, self.store.get_checkpoint(size))

    def _open(self, size: int, note: bytes) -> Checkpoint:
        checkpoint = open_checkpoint(note, self.verifier)
        if checkpoint.size != size:
            raise LedgerVerificationError(
                f"checkpoint stored as size {size} says {checkpoint.size}"
            )
        return checkpoint

    def _check_size(self, size: int) -> None:
        current = self.store.ledger_size()
        if not 0 <= size <= current:
            raise NotFoundError(f"tree size {size} is beyond the log's {current} entries")

    def root(self, size: int | None = None) -> bytes:
        """Root hash of the tree of the first `size` entries (default: all)."""
        if size is None:
            size = self.store.ledger_size()
        self._check_size(size)
        return merkle.root_from_nodes(size, self._read)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        self._check_size(size)
        if not 0 <= index < size:
            raise NotFoundError(f"entry {index} is not in a tree of size {size}")
        return merkle.inclusion_proof(index, size, self._read)

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        self._check_size(size2)
        if not 0 < size1 <= size2:
            raise NotFoundError(f"no consistency proof from size {size1} to size {size2}")
        return merkle.consistency_proof(size1, size2, self._read)

    def entry(self, index: int) -> bytes:
        found = self.store.ledger_entries(index, index + 1)
        if not found:
            raise NotFoundError(f"the ledger has no entry {index}")
        return found[0]

    def prove(self, index: int) -> ProofBundle:
        """An inclusion proof bundle for entry `index` against the latest checkpoint
        (a new checkpoint is signed if the latest does not cover the entry yet)."""
        entry = self.entry(index)
        latest = self.latest_checkpoint()
        if latest is None or latest.size <= index:
            latest = self.checkpoint()
        proof = self.inclusion_proof(index, latest.size)
        return ProofBundle(self.origin, index, latest.size, entry, tuple(proof), latest.note)

    # -- auditing -------------------------------------------------------------------

    def verify_log(self, *, chunk: int = 65536) -> LogReport:
        """Recompute every node from the entries, compare with the stored nodes, and check
        that the latest checkpoint is signed by the log and matches its tree."""
        size = self.store.ledger_size()
        latest = self.latest_checkpoint()
        stops = sorted({size} | ({latest.size} if latest else set()))
        if stops[-1] > size:
            raise LedgerVerificationError(
                f"checkpoint {stops[-1]} is larger than the log ({size} entries)"
            )
        edge: dict[NodeKey, bytes] = {}
        pos, roots = 0, {}
        for stop in stops:
            while pos < stop:
                end = min(stop, pos + chunk)
                edge = self._verify_chunk(pos, end, edge)
                pos = end
            roots[stop] = merkle.root_from_nodes(stop, _reader(edge))
        if latest is not None and roots[latest.size] != latest.root_hash:
            raise LedgerVerificationError(
                f"checkpoint {latest.size} does not match the root of its entries"
            )
        if self.root(size) != roots[size]:
            raise LedgerVerificationError("the stored nodes do not reproduce the root")
        return LogReport(size, roots[size], latest.size if latest else None)

    def _verify_chunk(
        self, start: int, end: int, edge: Mapping[NodeKey, bytes]
    ) -> dict[NodeKey, bytes]:
        hashes = leaf_hashes(self.store, start, end)
        if len(hashes) != end - start:
            raise LedgerVerificationError(f"entries {start}..{end - 1} are missing")
        expected = merkle.new_nodes(start, hashes, _reader(edge))
        upper = [k for k in expected if k[0] > 0]
        stored = self.store.ledger_nodes(upper) if upper else {}
        for key in upper:
            if stored.get(key) != expected[key]:
                raise LedgerVerificationError(
                    f"stored node {key} is not the hash of its entries (or is missing)"
                )
        return {k: expected.get(k) or edge[k] for k in merkle.compact_range_keys(end)}
