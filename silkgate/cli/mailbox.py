"""`silkgate mailbox …`: retention of the local hub's mailbox and its push registrations."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import typer

from silkgate.cli.common import DataDir, JsonFlag, console, hub_at, print_json, table
from silkgate.hub import DEFAULT_DATA_DIR
from silkgate.mailbox.service import MailboxService

mailbox_app = typer.Typer(no_args_is_help=True, help="The mailbox: retention and push.")


@mailbox_app.command("purge")
def purge(data_dir: DataDir = DEFAULT_DATA_DIR, json: JsonFlag = False) -> None:
    """Expire envelopes past `delivery_ttl_days`, drop sealed data acknowledged more than
    `envelope_retention_days` ago (and of rejected envelopes), forget expired nonces."""
    with hub_at(data_dir) as hub:
        retention = timedelta(days=hub.settings.envelope_retention_days)
        report = MailboxService.for_hub(hub).purge(hub.pipeline.clock(), retention)
    if json:
        print_json(report)
        return
    console.print(
        f"expired {report.expired} undelivered envelopes; dropped the data of "
        f"{report.acked_purged} acknowledged and {report.rejected_purged} rejected ones; "
        f"forgot {report.nonces_purged} request nonces"
    )


@mailbox_app.command("push")
def push_list(data_dir: DataDir = DEFAULT_DATA_DIR, json: JsonFlag = False) -> None:
    """The importers' push registrations (importers manage their own over the API)."""
    with hub_at(data_dir) as hub:
        endpoints = hub.store.list_push_endpoints()
    if json:
        print_json([msgspec.to_builtins(e) for e in endpoints])
        return
    rows = [[e.importer, e.url, e.created_at.isoformat()] for e in endpoints]
    table("push endpoints", ["importer", "url", "registered"], rows)
