"""`silkgate worker` and `silkgate migrate`: the background side of a scaled-out hub.

A worker holds no state of its own: it opens the hub's store and transport (PostgreSQL and
NATS JetStream when several processes share them, docs/scale-out.md) and runs, in threads,
what `silkgate serve` runs beside the API: push delivery (a pull consumer of the delivery
subjects), retention, checkpoint signing with witness cosignatures, and publishing of
committed outbox messages left behind by a process that died between commit and publish.
Run it as many times as needed; it stops cleanly on SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import logging
import logging.config
import signal
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from types import FrameType
from typing import Annotated

import httpx
import typer

from silkgate.checkpointing import CheckpointPublisher, run_periodically, witness_link
from silkgate.cli.common import DataDir, app, console, print_json
from silkgate.hub import DEFAULT_DATA_DIR, Hub, open_hub
from silkgate.ledger.witness import http_submit
from silkgate.logs import logging_config
from silkgate.mailbox.delivery import Background, PushPolicy
from silkgate.store import LATEST_VERSION, open_store

log = logging.getLogger("silkgate.worker")


@dataclass
class Worker:
    """The worker's threads over one opened hub."""

    hub: Hub
    checkpoints: bool = True
    poll: float = 1.0  # seconds: delivery fetch wait, and how often the outbox is swept
    _stop: threading.Event = field(default_factory=threading.Event)
    _background: Background | None = None
    _publisher: CheckpointPublisher | None = None

    def start(self) -> None:
        hub = self.hub
        self._background = Background(
            hub.store,
            hub.transport,
            hub.secrets.signing_key,
            retention=timedelta(days=hub.settings.envelope_retention_days),
            clock=hub.pipeline.clock,
            policy=PushPolicy.from_settings(hub.settings),
            poll=self.poll,
        )
        self._background.start()
        run_periodically(hub.pipeline.flush_outbox, self.poll, self._stop, "silkgate-outbox")
        if self.checkpoints:
            http = httpx.Client(timeout=30, follow_redirects=False)
            links = [witness_link(w.key, http_submit(w.url, http)) for w in hub.settings.witnesses]
            self._publisher = CheckpointPublisher(hub.log, links)
            every = hub.settings.checkpoint_every_seconds
            run_periodically(self._publisher.lead_once, every, self._stop, "silkgate-checkpoints")

    def stop(self) -> None:
        self._stop.set()
        if self._background is not None:
            self._background.stop()
        if self._publisher is not None:
            self._publisher.release()

    def wait(self) -> None:
        self._stop.wait()


@app.command()
def worker(
    checkpoints: Annotated[
        bool, typer.Option(help="Sign checkpoints and collect cosignatures")
    ] = True,
    poll: Annotated[float, typer.Option(help="Seconds a fetch waits; outbox sweep period")] = 1.0,
    log_format: Annotated[str, typer.Option(help="json or text", case_sensitive=False)] = "json",
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error")] = "info",
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Run push delivery, retention, checkpoint publishing and the outbox sweep, without
    the API; start as many as needed on a shared store and transport (docs/scale-out.md)."""
    if log_format not in ("json", "text"):
        raise typer.BadParameter("--log-format is json or text")
    if poll <= 0:
        raise typer.BadParameter("--poll must be > 0")
    logging.config.dictConfig(logging_config("json" if log_format == "json" else "text", log_level))
    hub = open_hub(data_dir)
    running = Worker(hub, checkpoints=checkpoints, poll=poll)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        running.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        running.start()
        log.info("worker started")
        running.wait()
    finally:
        running.stop()
        hub.close()
        log.info("worker stopped")


@app.command()
def migrate(
    json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Bring the store named by the settings (store_url) up to this version's schema."""
    from silkgate.config import load_settings

    settings = load_settings(data_dir)
    store = open_store(settings.store_url or f"sqlite:///{data_dir / 'silkgate.db'}")
    try:
        version = store.schema_version()
    finally:
        store.close()
    if json:
        print_json({"schema_version": version, "latest": LATEST_VERSION})
    else:
        console.print(f"schema version {version} (this silkgate: {LATEST_VERSION})")
