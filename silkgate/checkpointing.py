"""Publishing checkpoints: while the hub serves, sign a checkpoint whenever the log has grown
and ask each configured witness (C2SP tlog-witness) to cosign it, so that the published
checkpoint carries its witnesses' cosignatures. A witness that is down or refuses is logged
and asked again next round; it never stops the hub.

Of all the processes sharing a store (API nodes and workers), one at a time publishes: the
leader of the "checkpoints" role (silkgate.store.leader; on PostgreSQL an advisory lock
held by a session of the leader's). When the leader dies or loses its connection, another
process takes the lead at its next round. The log's consistency does not rest on this:
each checkpoint is signed under the ledger lock over a tree checked to extend the last
one (silkgate.ledger.log)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from silkgate.errors import SilkgateError, VerificationError
from silkgate.ledger import TransparencyLog, parse_note, parse_vkey, verify_cosignatures
from silkgate.ledger.checkpoint import NoteVerifier
from silkgate.ledger.witness import Submit, request_cosignature
from silkgate.logs import fields
from silkgate.model import Checkpoint
from silkgate.store.leader import Leadership, leadership

log = logging.getLogger("silkgate.checkpoints")


@dataclass(frozen=True)
class WitnessLink:
    """A witness the hub asks for cosignatures: how to reach it and its verifier key."""

    cosigner: NoteVerifier
    submit: Submit


def witness_link(vkey: str, submit: Submit) -> WitnessLink:
    return WitnessLink(cosigner=parse_vkey(vkey), submit=submit)


@dataclass
class CheckpointPublisher:
    log: TransparencyLog
    witnesses: Sequence[WitnessLink] = ()
    leader: Leadership | None = None  # default: the "checkpoints" lead over the log's store
    _cosigned: dict[str, int] = field(default_factory=dict)  # witness name -> size it cosigned

    def __post_init__(self) -> None:
        if self.leader is None:
            self.leader = leadership(self.log.store, "checkpoints")

    def lead_once(self) -> Checkpoint | None:
        """One round of the periodic publisher: if this process leads (or can take the
        lead), `run_once`; otherwise nothing (None)."""
        leader = self.leader
        assert leader is not None  # set in __post_init__
        was = leader.leading
        if not leader.lead():
            if was:
                log.warning("lost the checkpoint lead", extra=fields(role=leader.role))
            return None
        if not was:
            # Another leader may have collected since: start from what the stored
            # checkpoint carries, so witnesses that cosigned it are not asked again.
            self._cosigned = cosigned_sizes(
                self.log.latest_checkpoint(), [w.cosigner for w in self.witnesses]
            )
            log.info("took the checkpoint lead", extra=fields(role=leader.role))
        return self.run_once()

    def release(self) -> None:
        """Give up the lead (on shutdown), so another process can take it at once."""
        if self.leader is not None:
            self.leader.release()

    def run_once(self) -> Checkpoint:
        """Sign the current tree (a no-op if it has not grown) and collect the cosignatures
        still missing for it, whoever leads. Returns the checkpoint as published."""
        checkpoint = self.log.checkpoint()
        for link in self.witnesses:
            name = link.cosigner.name
            if self._cosigned.get(name) == checkpoint.size:
                continue
            try:
                checkpoint = request_cosignature(
                    self.log, link.submit, link.cosigner, old_size=self._cosigned.get(name, 0)
                )
            except (SilkgateError, OSError) as exc:
                log.warning(
                    "witness %s did not cosign size %d: %s",
                    name,
                    checkpoint.size,
                    exc,
                    extra=fields(witness=name, size=checkpoint.size),
                )
                continue
            self._cosigned[name] = checkpoint.size
        return checkpoint


def cosigned_sizes(
    checkpoint: Checkpoint | None, cosigners: Sequence[NoteVerifier]
) -> dict[str, int]:
    """Witness name -> the checkpoint's size, for each witness whose cosignature the
    checkpoint carries and verifies (a witness's size is then at least that)."""
    if checkpoint is None:
        return {}
    note = parse_note(checkpoint.note)
    found = {}
    for cosigner in cosigners:
        try:
            verify_cosignatures(note, [cosigner])
        except VerificationError:
            continue
        found[cosigner.name] = checkpoint.size
    return found


def run_periodically(
    step: Callable[[], object], every: float, stop: threading.Event, name: str
) -> threading.Thread:
    """Call `step` every `every` seconds until `stop` is set, surviving its failures."""

    def loop() -> None:
        while not stop.wait(every):
            try:
                step()
            except Exception:  # the thread must outlive any one failure
                log.exception("%s failed; trying again in %.0f s", name, every)

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()
    return thread
