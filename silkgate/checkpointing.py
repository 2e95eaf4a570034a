"""Publishing checkpoints: while the hub serves, sign a checkpoint whenever the log has grown
and ask each configured witness (C2SP tlog-witness) to cosign it, so that the published
checkpoint carries its witnesses' cosignatures. A witness that is down or refuses is logged
and asked again next round; it never stops the hub."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from silkgate.errors import SilkgateError
from silkgate.ledger import TransparencyLog, parse_vkey
from silkgate.ledger.checkpoint import NoteVerifier
from silkgate.ledger.witness import Submit, request_cosignature
from silkgate.logs import fields
from silkgate.model import Checkpoint

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
    _cosigned: dict[str, int] = field(default_factory=dict)  # witness name -> size it cosigned

    def run_once(self) -> Checkpoint:
        """Sign the current tree (a no-op if it has not grown) and collect the cosignatures
        still missing for it. Returns the checkpoint as published."""
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
