"""The flow commands of the CLI (send, inbox, demo, serve) and the registration of the
command groups that live beside their modules (policy, ledger, witness, classify, check)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import msgspec
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from silkgate.classify.cli import classify_command
from silkgate.cli.common import (
    DataDir,
    JsonFlag,
    app,
    console,
    err_console,
    hub_at,
    print_json,
    top_reasons,
)
from silkgate.cli.holds import holds_app
from silkgate.cli.ledger import ledger_app, witness_app
from silkgate.cli.mailbox import mailbox_app
from silkgate.cli.policy import check_command, policy_app
from silkgate.cli.sandbox import sandbox_app
from silkgate.clock import new_id
from silkgate.config import load_settings
from silkgate.errors import SilkgateError
from silkgate.flow.batch_report import is_gate_denied
from silkgate.flow.resume import batch_key
from silkgate.hub import DEFAULT_DATA_DIR
from silkgate.model import OUTCOMES, PURPOSES, Batch, BatchResult
from silkgate.products import get_product
from silkgate.records_io import read_records

app.add_typer(policy_app, name="policy", help="Rule packs: list, lint, test, explain, diff.")
app.add_typer(ledger_app, name="ledger", help="The transparency ledger: checkpoints and proofs.")
app.add_typer(witness_app, name="witness", help="Cosign the hub's checkpoints as a witness.")
app.add_typer(
    sandbox_app, name="sandbox", help="Regulatory sandbox: policy lifecycle, replay, cohorts."
)
app.add_typer(mailbox_app, name="mailbox", help="The mailbox: retention and push.")
app.add_typer(holds_app, name="holds", help="Held batches: list, release, reject, re-check.")
app.command("check", help="Dry run: the decision for each record, nothing committed.")(
    check_command
)
app.command("classify", help="Print the findings of each record as NDJSON.")(classify_command)


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Progress]:
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not enabled,
        transient=True,
    )
    with progress:
        yield progress


def _chunks(records: list[Any], size: int) -> Iterator[tuple[int, list[Any]]]:
    for start in range(0, len(records), size):
        yield start, records[start : start + size]


FAIL_ON_EXIT = 3  # `send --fail-on`: some record got one of the named outcomes


def _fail_on(value: str) -> frozenset[str]:
    named = frozenset(v.strip() for v in value.split(",") if v.strip())
    unknown = named - set(OUTCOMES)
    if unknown:
        raise typer.BadParameter(
            f"--fail-on {value!r}: outcomes are {', '.join(OUTCOMES)} (comma-separated)"
        )
    return named


def _purpose(value: str) -> str:
    if value not in PURPOSES:
        raise typer.BadParameter(
            f"--purpose {value!r}: one of {', '.join(PURPOSES)}; it must be the agreement's "
            "(silkgate agreement list), or the agreement gate denies every record"
        )
    return value


@app.command()
def send(
    file: Annotated[Path, typer.Argument(help="NDJSON records or an EPCIS 2.0 document")],
    importer: Annotated[str, typer.Option()],
    product: Annotated[str, typer.Option(help="Data product id (silkgate product list)")],
    purpose: Annotated[
        str,
        typer.Option(
            callback=_purpose,
            help="The purpose of the transfer; must match the agreement: " + ", ".join(PURPOSES),
        ),
    ],
    exporter: Annotated[
        str, typer.Option(help="Required on the local hub; with --hub, the key file's participant")
    ] = "",
    batch_size: Annotated[
        int | None, typer.Option(min=1, max=10_000, help="Default: the batch_size setting (500)")
    ] = None,
    idempotency_key: Annotated[
        str,
        typer.Option(
            help="Prefix of the batches' idempotency keys (default: keys derived from the "
            "parties, product, purpose, each batch's position and its records)"
        ),
    ] = "",
    fresh: Annotated[
        bool,
        typer.Option(
            "--fresh", help="Commit again what the hub already committed (no idempotency keys)"
        ),
    ] = False,
    fail_on: Annotated[
        str,
        typer.Option(
            callback=_fail_on,
            help=f"Exit {FAIL_ON_EXIT} if any record gets one of these outcomes, e.g. deny,hold",
        ),
    ] = "",
    hub_url: Annotated[
        str,
        typer.Option("--hub", envvar="SILKGATE_HUB", help="Send over the HTTP API of this hub"),
    ] = "",
    key_file: Annotated[
        Path | None, typer.Option(help="With --hub: the exporter's own key file (signs requests)")
    ] = None,
    retries: Annotated[
        int, typer.Option(min=0, max=20, help="With --hub: retries of a transient failure")
    ] = 5,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Print each batch id to stderr as it commits")
    ] = False,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """Stream a file through the pipeline in batches (local hub, or a remote one with --hub).

    Re-running the same command after a crash, a kill or a lost connection commits only
    what the hub has not committed yet: every batch carries an idempotency key derived from
    what it is, and batches the hub already has are skipped (counted as such)."""
    failing = fail_on if isinstance(fail_on, frozenset) else _fail_on(fail_on)
    records = read_records(file)
    spec = get_product(product)
    for index, record in enumerate(records):  # pre-flight: a bad record stops the whole file
        spec.validate(record, index=index)
    results: list[BatchResult] = []

    def committed(result: BatchResult) -> None:
        results.append(result)
        if verbose:
            state = "skipped (already committed)" if result.replayed else "committed"
            err_console.print(f"{state} {result.batch_id}", highlight=False)

    if hub_url:
        from silkgate.api.cli_http import send_over_http

        batch_size = batch_size or 500
        with progress_bar(not json) as progress:
            task = progress.add_task("sending", total=len(records))
            send_over_http(
                hub_url,
                key_file,
                exporter=exporter,
                importer=importer,
                product=product,
                purpose=purpose,
                chunks=_keyed(
                    exporter,
                    importer,
                    product,
                    purpose,
                    records,
                    batch_size,
                    idempotency_key,
                    fresh,
                    key_file=key_file,
                ),
                advance=lambda n: progress.advance(task, n),
                on_result=committed,
                retries=retries,
            )
    else:
        if not exporter:
            raise typer.BadParameter("--exporter is required unless --hub is given")
        batch_size = batch_size or load_settings(data_dir).batch_size
        with hub_at(data_dir) as hub, progress_bar(not json) as progress:
            task = progress.add_task("sending", total=len(records))
            try:
                for key, chunk in _keyed(exporter, importer, product, purpose, records,
                                         batch_size, idempotency_key, fresh):  # fmt: skip
                    batch = Batch(
                        id=new_id("b"),
                        exporter=exporter,
                        importer=importer,
                        product=product,
                        purpose=purpose,  # type: ignore[arg-type]
                        records=chunk,
                        idempotency_key=key,
                    )
                    committed(hub.pipeline.submit(batch))
                    progress.advance(task, len(chunk))
            finally:
                hub.log.checkpoint()
    _print_send_summary(results, json)
    hit = sorted({o for r in results for o, n in r.outcomes.items() if n and o in failing})
    if hit:
        err_console.print(f"--fail-on: records were {', '.join(hit)}", highlight=False)
        raise typer.Exit(FAIL_ON_EXIT)


def _keyed(
    exporter: str,
    importer: str,
    product: str,
    purpose: str,
    records: list[Any],
    size: int,
    prefix: str,
    fresh: bool,
    *,
    key_file: Path | None = None,
) -> Iterator[tuple[str | None, list[Any]]]:
    """Each batch with its idempotency key: the given prefix and the batch's position, or
    a key derived from what the batch is (silkgate.flow.resume); none with --fresh."""
    if not exporter and key_file is not None:  # over --hub the key file's participant sends
        from silkgate.registry.keys import load_key_file

        exporter = load_key_file(key_file).participant
    for start, chunk in _chunks(records, size):
        if fresh:
            key = None
        elif prefix:
            key = f"{prefix}:{start}"
        else:
            key = batch_key(exporter, importer, product, purpose, start, chunk)
        yield key, chunk


def _print_send_summary(results: list[BatchResult], json: bool) -> None:
    totals: Counter[str] = Counter()
    for result in results:
        totals.update(result.outcomes)
    skipped = sum(1 for r in results if r.replayed)
    summary: dict[str, Any] = {
        "records": sum(r.records for r in results),
        "outcomes": {o: totals.get(o, 0) for o in OUTCOMES},
        "skipped_batches": skipped,
        "batches": [
            {
                "batch_id": r.batch_id,
                "records": r.records,
                "outcomes": r.outcomes,
                "envelope_id": r.envelope_id,
                "held_id": r.held_id,
                "ledger_index": r.ledger_index,
                "replayed": r.replayed,
                "gate_denied": is_gate_denied(r),
                "decisions": [msgspec.to_builtins(d) for d in r.decisions],
            }
            for r in results
        ],
    }
    if json:
        print_json(summary)
        return
    outcome_text = ", ".join(f"{o} {n}" for o, n in summary["outcomes"].items())
    console.print(f"sent {summary['records']} records in {len(results)} batches: {outcome_text}")
    if skipped:
        console.print(
            f"skipped {skipped} batches the hub had already committed (same idempotency key)"
        )
    for r in results:  # one line per batch: ids whole, easy to copy
        counts = ", ".join(f"{o} {r.outcomes.get(o, 0)}" for o in OUTCOMES)
        note = " (already committed)" if r.replayed else ""
        console.print(f"{r.batch_id}  {r.records} records: {counts}{note}", highlight=False)
    decisions = [d for r in results for d in r.decisions]
    reasons = top_reasons(decisions)
    if reasons:
        console.print("[bold]top reasons[/] (silkgate batches show BATCH for more):")
        for key, count, citation in reasons:
            cite = f" — {citation}" if citation else ""
            console.print(f"  {key}: {count} records{cite}", highlight=False)
    for result in results:
        if is_gate_denied(result):
            from silkgate.client import gate_message

            err_console.print(f"[bold red]denied:[/] {gate_message(result)}", highlight=False)
            break


@app.command()
def inbox(
    key_file: Annotated[Path, typer.Option(help="The importer's own key file")],
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write opened records here as NDJSON, each with a `_silkgate` provenance object"
        ),
    ] = None,
    append: Annotated[
        bool, typer.Option("--append", help="Append to --out instead of replacing it")
    ] = False,
    hub_url: Annotated[
        str,
        typer.Option("--hub", envvar="SILKGATE_HUB", help="Pull over the HTTP API of this hub"),
    ] = "",
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """As an importer: pull, open and receipt every pending envelope (local or --hub).
    Records written with --out carry their provenance (docs/api.md, "Inbox files")."""
    from silkgate.hub import LocalMailbox
    from silkgate.mailbox.inbox import drain_inbox
    from silkgate.registry.keys import load_key_file

    keys = load_key_file(key_file)
    handle = out.open("ab" if append else "wb") if out is not None else None
    try:
        if hub_url:
            from silkgate.api.cli_http import drain_over_http, remote_client

            with remote_client(hub_url, key_file) as client:
                sink = _provenance_sink(handle, client.get_batch)
                summary = drain_over_http(hub_url, key_file, sink)
        else:
            with hub_at(data_dir) as hub:
                sink = _provenance_sink(handle, hub.store.get_batch_result)
                summary = drain_inbox(LocalMailbox(hub), keys, sink=sink, clock=hub.pipeline.clock)
                hub.log.checkpoint()
    finally:
        if handle is not None:
            handle.close()
    result = {
        "envelopes": summary.envelopes,
        "records": summary.records,
        "receipts": summary.receipts,
    }
    if json:
        print_json(result)
    else:
        console.print(
            f"opened {summary.envelopes} envelopes ({summary.records} records), "
            f"signed {summary.receipts} receipts"
        )


def _provenance_sink(
    handle: Any, batch_of: Callable[[str], BatchResult]
) -> Callable[[Any, bytes], None] | None:
    if handle is None:
        return None
    from silkgate.mailbox.inbox import provenance_lines

    def sink(header: Any, payload: bytes) -> None:
        try:
            batch: BatchResult | None = batch_of(header.batch_id)
        except SilkgateError:
            batch = None  # provenance without per-record obligations
        handle.write(provenance_lines(header, payload, batch))

    return sink


@app.command()
def demo(
    records: Annotated[int, typer.Option(min=1, help="How many synthetic records")] = 20_000,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic traffic")] = 7,
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="A fresh directory for the demo hub")
    ] = Path("./silkgate-demo"),
    json: JsonFlag = False,
) -> None:
    """Run China–ASEAN demo traffic through the whole pipeline and summarize it."""
    from silkgate.demo.runner import DemoOptions, run_demo

    options = DemoOptions(data_dir=data_dir, records=records, seed=seed)
    with progress_bar(not json) as progress:
        tasks: dict[str, Any] = {}

        def report(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = progress.add_task(phase, total=total)
            progress.update(tasks[phase], completed=done)

        summary = run_demo(options, report)
    if json:
        print_json(summary)
    else:
        _print_demo_summary(summary)


def _print_demo_summary(summary: dict[str, Any]) -> None:
    from rich.table import Table

    console.print(
        f"[bold]{summary['records']}[/] records in {summary['batches']} batches, "
        f"{summary['records_per_second']:,.0f} records/s end to end"
    )
    table = Table(title="outcomes by corridor")
    table.add_column("corridor")
    for outcome in OUTCOMES:
        table.add_column(outcome, justify="right")
    for corridor, counts in summary["corridors"].items():
        table.add_row(corridor, *(str(counts.get(o, 0)) for o in OUTCOMES))
    table.add_row("[bold]all[/]", *(f"[bold]{summary['outcomes'][o]}[/]" for o in OUTCOMES))
    console.print(table)
    rules = Table(title="rules that fired most")
    rules.add_column("rule")
    rules.add_column("records", justify="right")
    for rule, count in summary["top_rules"].items():
        rules.add_row(rule, str(count))
    console.print(rules)
    counted = Table(title="individuals counted this year (exporter/category)")
    counted.add_column("exporter/category")
    counted.add_column("individuals", justify="right")
    for key, count in summary["individuals_counted"].items():
        counted.add_row(key, f"{count:,}")
    console.print(counted)
    console.print(
        f"ledger size {summary['ledger_size']}, checkpoint verified: "
        f"{summary['checkpoint_verified']}, inclusion proofs verified: "
        f"{summary['inclusion_proofs_verified']}, receipts: {summary['receipts']} "
        f"for {summary['delivered_envelopes']} delivered envelopes"
    )
    console.print(f"data dir: {summary['data_dir']}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Default: the host setting")] = None,
    port: Annotated[int | None, typer.Option(help="Default: the port setting (8420)")] = None,
    log_format: Annotated[
        str, typer.Option(help="json (one object per line) or text", case_sensitive=False)
    ] = "json",
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error")] = "info",
    init: Annotated[
        bool, typer.Option("--init", help="Initialize --data-dir first if it is not a hub's")
    ] = False,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs) on the embedded hub, with push delivery
    and retention running in background threads (docs/api.md)."""
    import uvicorn

    from silkgate.api.app import create_app
    from silkgate.hub import init_hub, open_hub
    from silkgate.logs import logging_config

    if log_format not in ("json", "text"):
        raise typer.BadParameter("--log-format is json or text")
    if init:
        init_hub(data_dir)
    else:
        open_hub(data_dir).close()  # refuses a directory that is not a hub's (a typo)
    app = create_app(data_dir, background=True)
    config = logging_config("json" if log_format == "json" else "text", log_level)
    settings = load_settings(data_dir)
    uvicorn.run(
        app,
        host=host or settings.host,
        port=port or settings.port,
        log_config=config,
        log_level=log_level.lower(),
    )
