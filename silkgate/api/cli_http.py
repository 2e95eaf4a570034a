"""`silkgate send --hub` and `silkgate inbox --hub`: the CLI's flow commands over the HTTP
API, through the SDK. Kept here so the CLI functions stay thin."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from silkgate.client import HttpMailbox, SilkgateClient
from silkgate.errors import ConfigError, TransportError
from silkgate.flow.resume import KEY_PREFIX
from silkgate.mailbox.inbox import InboxSummary, OpenedSink, drain_inbox
from silkgate.model import BatchResult, Decision
from silkgate.seal.keys import load_keyring

T = TypeVar("T")


def remote_client(hub_url: str, key_file: Path | None) -> SilkgateClient:
    """The signed SDK client a `--hub URL --key-file K` command works through (close it)."""
    if key_file is None:
        raise ConfigError("--hub needs --key-file: the participant's own key file signs requests")
    return SilkgateClient(hub_url, load_keyring(key_file))


def send_over_http(
    hub_url: str,
    key_file: Path | None,
    *,
    exporter: str,
    importer: str,
    product: str,
    purpose: str,
    chunks: Iterator[tuple[str | None, list[Any]]],
    advance: Callable[[int], None],
    on_result: Callable[[BatchResult], None],
    retries: int = 5,
    sleep: Callable[[float], None] = time.sleep,
    client: SilkgateClient | None = None,
) -> None:
    """Submit each (idempotency key, records) chunk as one batch, signed as the key file's
    participant (the exporter). A transient failure (the hub unreachable, a 5xx, a 429) is
    retried with exponential backoff; with an idempotency key a retry never commits twice.
    `client` replaces the one made from `hub_url` and `key_file`."""
    with client or remote_client(hub_url, key_file) as client:
        _same_exporter(exporter, client)
        resuming = True  # a resumed send: the batches the hub has come first, in order
        for key, chunk in chunks:
            if resuming and key is not None and key.startswith(KEY_PREFIX):  # content-derived
                known = _retried(functools.partial(client.batch_by_key, key), retries, sleep)
                if known is not None:
                    on_result(known)  # the hub has it: not uploaded again
                    advance(len(chunk))
                    continue
                resuming = False
            for attempt in range(retries + 1):
                try:
                    result = client.submit_batch(
                        importer, product, chunk, purpose=purpose, idempotency_key=key,
                        on_gate_deny="ignore",
                    )  # fmt: skip
                    break
                except TransportError:
                    if attempt == retries or key is None:
                        raise
                    sleep(min(BACKOFF_BASE * 2**attempt, BACKOFF_MAX))
            on_result(result)
            advance(len(chunk))


def _retried(call: Callable[[], T], retries: int, sleep: Callable[[float], None]) -> T:
    """`call()`, retried like a submission (it only reads)."""
    for attempt in range(retries):
        try:
            return call()
        except TransportError:
            sleep(min(BACKOFF_BASE * 2**attempt, BACKOFF_MAX))
    return call()


BACKOFF_BASE = 0.5  # seconds before the first retry; doubled each time
BACKOFF_MAX = 15.0


def dry_run_over_http(
    hub_url: str,
    key_file: Path | None,
    *,
    exporter: str,
    importer: str,
    product: str,
    purpose: str,
    records: list[Any],
    transit: bool,
    batch_size: int,
) -> list[Decision]:
    """`silkgate check --hub`: the hub decides as `send` would, commits nothing."""
    with remote_client(hub_url, key_file) as client:
        _same_exporter(exporter, client)
        result = client.dry_run(importer, product, records, purpose=purpose, transit=transit,
                                batch_size=batch_size)  # fmt: skip
    return [r.decision for r in result.decisions]


def _same_exporter(exporter: str, client: SilkgateClient) -> None:
    if exporter and exporter != client.participant_id:
        raise ConfigError(
            f"--exporter {exporter} differs from the key file's participant "
            f"{client.participant_id}; over --hub the exporter is whoever signs"
        )


def drain_over_http(hub_url: str, key_file: Path | None, sink: OpenedSink | None) -> InboxSummary:
    """Pull, open and receipt every pending envelope of the key file's participant."""
    with remote_client(hub_url, key_file) as client:
        return drain_inbox(HttpMailbox(client), client.keys, sink=sink)
