"""`silkgate send --hub` and `silkgate inbox --hub`: the CLI's flow commands over the HTTP
API, through the SDK. Kept here so the CLI functions stay thin."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from silkgate.client import HttpMailbox, SilkgateClient
from silkgate.errors import ConfigError
from silkgate.mailbox.inbox import InboxSummary, OpenedSink, drain_inbox
from silkgate.model import BatchResult, Decision
from silkgate.seal.keys import load_keyring


def _client(hub_url: str, key_file: Path | None) -> SilkgateClient:
    if key_file is None:
        raise ConfigError("--hub needs --key-file: the participant's own key file signs requests")
    return SilkgateClient(hub_url, load_keyring(key_file))


def remote_client(hub_url: str, key_file: Path | None) -> SilkgateClient:
    """The SDK client a `--hub URL --key-file K` command works through (close it)."""
    return _client(hub_url, key_file)


def send_over_http(
    hub_url: str,
    key_file: Path | None,
    *,
    exporter: str,
    importer: str,
    product: str,
    purpose: str,
    chunks: Iterator[tuple[int, list[Any]]],
    idempotency_key: str,
    advance: Callable[[int], None],
) -> list[BatchResult]:
    """Submit each chunk as one batch, signed as the key file's participant (the exporter)."""
    results: list[BatchResult] = []
    with _client(hub_url, key_file) as client:
        _same_exporter(exporter, client)
        for start, chunk in chunks:
            key = f"{idempotency_key}:{start}" if idempotency_key else None
            results.append(
                client.submit_batch(importer, product, chunk, purpose=purpose, idempotency_key=key)
            )
            advance(len(chunk))
    return results


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
    with _client(hub_url, key_file) as client:
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
    with _client(hub_url, key_file) as client:
        return drain_inbox(HttpMailbox(client), client.keys, sink=sink)
