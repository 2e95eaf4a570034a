"""`silkgate batches list|show`: past batches, their outcomes and why, on the local hub (as
the operator) or over `--hub` as the key file's participant (its own batches; a regulator
every one). `show` takes a unique prefix of the id."""

from __future__ import annotations

from typing import Annotated

import msgspec
import typer

from silkgate.cli.common import DataDir, JsonFlag, app, console, hub_at, print_json, table
from silkgate.cli.counters import HubUrl, KeyFile
from silkgate.errors import NotFoundError
from silkgate.flow.batch_report import BatchReport, hub_batch_report
from silkgate.hub import DEFAULT_DATA_DIR, Hub
from silkgate.model import OUTCOMES, BatchResult

batches_app = typer.Typer(no_args_is_help=True, help="Past batches: outcomes and reasons.")
app.add_typer(batches_app, name="batches")

PREFIX_SCAN = 10_000  # the newest batches searched for an id prefix


def _summary(r: BatchResult) -> dict[str, object]:
    return {
        "batch_id": r.batch_id, "exporter": r.exporter, "importer": r.importer,
        "product": r.product, "purpose": r.purpose, "records": r.records,
        "outcomes": r.outcomes, "envelope_id": r.envelope_id, "held_id": r.held_id,
        "ledger_index": r.ledger_index, "policy_version": r.policy_version,
        "committed_at": r.committed_at,
    }  # fmt: skip


@batches_app.command("list")
def list_batches(
    exporter: Annotated[str | None, typer.Option(help="Only this exporter's")] = None,
    importer: Annotated[str | None, typer.Option(help="Only this importer's")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    hub_url: HubUrl = "",
    key_file: KeyFile = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """Batches, newest first: ids (whole), parties, outcomes, ledger index."""
    if hub_url:
        from silkgate.api.cli_http import remote_client

        with remote_client(hub_url, key_file) as client:
            page = client.list_batches(
                limit=limit, offset=offset, exporter=exporter, importer=importer
            )
        found = [msgspec.to_builtins(b) for b in page.batches]
    else:
        with hub_at(data_dir) as hub:
            results = hub.store.list_batch_results(
                exporter=exporter, importer=importer, limit=limit, offset=offset
            )
        found = [msgspec.to_builtins(_summary(r)) for r in results]
    if json:
        print_json({"batches": found, "offset": offset, "limit": limit})
        return
    table(
        "batches (newest first)",
        ["batch", "committed", "exporter → importer", "product", *OUTCOMES, "ledger"],
        [
            [b["batch_id"], str(b["committed_at"])[:19], f"{b['exporter']} → {b['importer']}",
             b["product"], *(b["outcomes"].get(o, 0) for o in OUTCOMES), b["ledger_index"]]
            for b in found
        ],
    )  # fmt: skip


def resolve(hub: Hub, batch_id: str) -> BatchResult:
    """The batch with this id, or the only one whose id starts with it."""
    try:
        return hub.store.get_batch_result(batch_id)
    except NotFoundError:
        matches = [
            r for r in hub.store.list_batch_results(limit=PREFIX_SCAN)
            if r.batch_id.startswith(batch_id)
        ]  # fmt: skip
        if len(matches) == 1:
            return matches[0]
        found = "no batch" if not matches else f"{len(matches)} batches"
        raise NotFoundError(
            f"{found} with an id starting {batch_id!r}; give more of the id (silkgate batches list)"
        ) from None


@batches_app.command("show")
def show(
    batch_id: Annotated[str, typer.Argument(help="A batch id or a unique prefix of one")],
    hub_url: HubUrl = "",
    key_file: KeyFile = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """One batch explained: outcomes, rules fired with citations, held/denied reasons,
    envelope and receipt state, ledger index."""
    if hub_url:
        from silkgate.api.cli_http import remote_client

        with remote_client(hub_url, key_file) as client:
            report = client.batch_report(batch_id)
    else:
        with hub_at(data_dir) as hub:
            report = hub_batch_report(hub, resolve(hub, batch_id))
    if json:
        print_json(report)
    else:
        print_report(report)


def print_report(report: BatchReport) -> None:
    outcomes = ", ".join(f"{o} {report.outcomes.get(o, 0)}" for o in OUTCOMES)
    console.print(f"[bold]batch {report.batch_id}[/]", highlight=False)
    console.print(
        f"{report.exporter} → {report.importer}, {report.product} for {report.purpose}: "
        f"{report.records} records ({outcomes}); committed {report.committed_at:%Y-%m-%d %H:%M:%S}"
        f" UTC, ledger index {report.ledger_index}, policy {report.policy_version}",
        highlight=False,
    )
    if report.gate_denied:
        console.print("[bold red]the agreement gate denied the whole batch[/]")
    for outcome, reasons in report.reasons.items():
        for reason in reasons:
            console.print(f"{outcome}: {reason}", highlight=False)
    table(
        "rules fired",
        ["rule", "title", "records", "outcomes", "citations"],
        [
            [r.rule_id, r.title, r.records, ", ".join(f"{o} {n}" for o, n in r.outcomes.items()),
             "; ".join(r.citations)]
            for r in report.rules
        ],
    )  # fmt: skip
    if report.envelopes:
        table(
            "envelopes",
            ["envelope", "part", "state", "receipts"],
            [[e.envelope_id, e.part, e.state, e.receipts] for e in report.envelopes],
        )
    else:
        console.print("no envelope: nothing was delivered or held")
