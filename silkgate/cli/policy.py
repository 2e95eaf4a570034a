"""`silkgate policy ...` and `silkgate check`: rule packs from the command line.

Thin: every command parses options, calls silkgate.policy, and prints a table or JSON.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import msgspec
import typer
from rich.console import Console
from rich.table import Table

from silkgate.errors import PolicyError
from silkgate.model import JURISDICTIONS, Decision
from silkgate.paths import format_path
from silkgate.policy import PolicyEngine, shipped_pack_paths
from silkgate.policy.cases import case_engine, run_cases
from silkgate.policy.check import CheckOptions, check_records, record_paths
from silkgate.policy.diff import diff_packs, diff_text
from silkgate.policy.engine import PACKS_DIR
from silkgate.policy.explain import explain_json, explain_text
from silkgate.policy.pack import Pack, load_pack

policy_app = typer.Typer(no_args_is_help=True, help="Rule packs: list, lint, test, explain, diff.")
_out = Console()

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
Origin = Annotated[str, typer.Option("--origin", help="Origin jurisdiction, e.g. CN.")]
Destination = Annotated[str, typer.Option("--destination", help="Destination, e.g. VN.")]
ProductOpt = Annotated[str, typer.Option("--product", help="Data product id.")]
PurposeOpt = Annotated[
    str | None, typer.Option("--purpose", help="Purpose (default: the product's usual one).")
]
PriorPi = Annotated[int, typer.Option("--prior-pi", help="Individuals (PI) counted this year.")]
PriorSpi = Annotated[
    int, typer.Option("--prior-sensitive-pi", help="Individuals (sensitive PI) counted this year.")
]
FilingOpt = Annotated[
    list[str] | None, typer.Option("--filing", help="A filing on file (repeatable).")
]
InstrumentOpt = Annotated[str, typer.Option("--instrument", help="The agreement's instrument.")]
CiioOpt = Annotated[bool, typer.Option("--ciio", help="The exporter is a CIIO.")]
TransitOpt = Annotated[bool, typer.Option("--transit", help="Transit data (collected abroad).")]
SectorOpt = Annotated[str, typer.Option("--sector", help="The exporter's sector.")]
DateOpt = Annotated[
    str | None, typer.Option("--date", help="Decide as of this day (YYYY-MM-DD; default today).")
]


def _print_json(value: Any) -> None:
    sys.stdout.buffer.write(msgspec.json.encode(value) + b"\n")
    sys.stdout.flush()


def resolve_pack(ref: str) -> Path:
    """A pack file path, or the id of a shipped pack."""
    path = Path(ref)
    if path.is_file():
        return path
    shipped = PACKS_DIR / f"{ref}.yaml"
    if shipped.is_file():
        return shipped
    known = ", ".join(p.stem for p in shipped_pack_paths())
    raise PolicyError(f"no pack file or shipped pack {ref!r}; shipped: {known}")


@functools.cache
def _library() -> tuple[Pack, ...]:
    return tuple(load_pack(p) for p in shipped_pack_paths())


@policy_app.command("list")
def list_command(
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir", envvar="SILKGATE_DATA_DIR",
            help="Show what is live on this hub (overlays, active sandbox versions).",
        ),
    ] = None,
    json_out: JsonFlag = False,
) -> None:  # fmt: skip
    """List the shipped rule packs, or with --data-dir the packs live on a hub."""
    if data_dir is not None:
        from silkgate.hub import open_hub

        hub = open_hub(data_dir)
        try:
            engine = hub.live_engine()
        finally:
            hub.close()
        live = {p.id: p for chain in engine.chains.values() for p in chain.packs}
        packs: tuple[Pack, ...] = tuple(live[k] for k in sorted(live))
    else:
        engine, packs = PolicyEngine.default(), _library()
    rows: list[dict[str, Any]] = [
        {
            "id": p.id, "jurisdiction": p.jurisdiction or f"overlay of {p.overlay_of}",
            "version": p.version, "rules": len(p.rules), "cases": len(p.cases),
            "sample": p.sample, "warning": p.warning, "path": p.path,
        }
        for p in packs
    ]  # fmt: skip
    if json_out:
        _print_json({"packs": rows, "policy_version": engine.version, "live": data_dir is not None})
        return
    table = Table("pack", "for", "version", "rules", "cases", "note")
    for r in rows:
        warning = str(r["warning"])
        note = "SAMPLE" if r["sample"] else ("rules not encoded" if "not encoded" in warning
                                             else "has a warning" if warning else "")  # fmt: skip
        table.add_row(
            r["id"], r["jurisdiction"], r["version"], str(r["rules"]), str(r["cases"]), note
        )
    _out.print(table)
    if data_dir is not None:
        _out.print(f"live policy version {engine.version}")


@policy_app.command("lint")
def lint_command(pack: str, json_out: JsonFlag = False) -> None:
    """Check a pack: structure, facts, values, settings, unreachable rules (file:line)."""
    try:
        loaded = load_pack(resolve_pack(pack))
        case_engine(loaded, _library())
    except PolicyError as exc:
        errors = str(exc).splitlines()
        if json_out:
            _print_json({"ok": False, "errors": errors})
        else:
            for line in errors:
                typer.echo(line, err=True)
        raise typer.Exit(1) from None
    summary = {
        "ok": True,
        "pack": loaded.id,
        "rules": len(loaded.rules),
        "cases": len(loaded.cases),
    }
    if json_out:
        _print_json(summary)
    else:
        typer.echo(f"{loaded.path}: ok ({len(loaded.rules)} rules, {len(loaded.cases)} cases)")


@policy_app.command("test")
def test_command(
    packs: Annotated[list[str] | None, typer.Argument(help="Packs (default: all shipped).")] = None,
    json_out: JsonFlag = False,
) -> None:
    """Run packs' case tables; exit 1 if any case fails."""
    chosen = [load_pack(resolve_pack(p)) for p in packs] if packs else list(_library())
    results = [r for pack in chosen for r in run_cases(pack, _library())]
    failed = [r for r in results if not r.passed]
    if json_out:
        _print_json({
            "cases": len(results), "passed": len(results) - len(failed),
            "failures": [{"pack": r.pack, "case": r.case.name, "source": r.case.where,
                          "problems": list(r.problems)} for r in failed],
        })  # fmt: skip
    else:
        for r in failed:
            typer.echo(f"FAIL {r.case.where}: {r.pack}: {r.case.name}: {'; '.join(r.problems)}")
        typer.echo(f"{len(results) - len(failed)}/{len(results)} cases passed")
    if failed:
        raise typer.Exit(1)


@policy_app.command("diff")
def diff_command(old: str, new: str, json_out: JsonFlag = False) -> None:
    """Rules added, removed, changed between two pack versions, and cases that change."""
    diff = diff_packs(load_pack(resolve_pack(old)), load_pack(resolve_pack(new)), _library())
    if json_out:
        _print_json(diff.as_json())
    else:
        typer.echo(diff_text(diff))


def _options(
    origin: str, destination: str, product: str, purpose: str | None, prior_pi: int,
    prior_spi: int, filing: list[str] | None, instrument: str, ciio: bool, transit: bool,
    sector: str, day: str | None,
) -> CheckOptions:  # fmt: skip
    return CheckOptions(
        origin=origin.upper(), destination=destination.upper(), product=product,
        on=date.fromisoformat(day) if day else date.today(), purpose=purpose,
        prior_pi=prior_pi, prior_sensitive_pi=prior_spi, filings=tuple(filing or ()),
        instrument=instrument, ciio=ciio, transit=transit, sector=sector,
    )  # fmt: skip


def _classify_file(file: Path, product: str) -> tuple[list[Any], list[tuple[str, ...]], list[Any]]:
    from silkgate.classify import Classifier  # the classifier is heavy; load it on use
    from silkgate.products import get_product
    from silkgate.records_io import read_records

    records = read_records(file)
    classifier = Classifier(get_product(product))
    classified = [classifier.classify(r) for r in records]
    return classified, [record_paths(r) for r in records], records


@policy_app.command("explain")
def explain_command(
    file: Annotated[Path | None, typer.Argument(help="Records (NDJSON or EPCIS).")] = None,
    origin: Origin = "CN",
    destination: Destination = "VN",
    product: ProductOpt = "generic.json",
    purpose: PurposeOpt = None,
    types: Annotated[
        str | None, typer.Option("--types", help="Finding types, comma-separated (no FILE).")
    ] = None,
    record: Annotated[int | None, typer.Option("--record", help="Only this record index.")] = None,
    prior_pi: PriorPi = 0,
    prior_sensitive_pi: PriorSpi = 0,
    filing: FilingOpt = None,
    instrument: InstrumentOpt = "other",
    ciio: CiioOpt = False,
    transit: TransitOpt = False,
    sector: SectorOpt = "logistics",
    day: DateOpt = None,
    json_out: JsonFlag = False,
) -> None:
    """Why a record (from FILE, or described by --types) gets its outcome."""
    opts = _options(origin, destination, product, purpose, prior_pi, prior_sensitive_pi,
                    filing, instrument, ciio, transit, sector, day)  # fmt: skip
    engine = PolicyEngine.default()
    decisions = _decide(engine, opts, file, types)
    picked = [(i, d) for i, d in enumerate(decisions) if record is None or i == record]
    if json_out:
        _print_json([{"index": i, **explain_json(d, engine)} for i, d in picked])
        return
    for i, d in picked:
        if len(decisions) > 1:
            typer.echo(f"Record {i}")
        typer.echo(explain_text(d, engine) + "\n")


def _decide(
    engine: PolicyEngine, opts: CheckOptions, file: Path | None, types: str | None
) -> list[Decision]:
    if file is not None:
        classified, paths, records = _classify_file(file, opts.product)
        return check_records(engine, classified, opts, paths=paths, records=records)
    from silkgate.model import Finding
    from silkgate.policy.engine import RecordInput

    names = [t.strip() for t in (types or "").split(",") if t.strip()]
    findings = tuple(Finding(path=format_path([t]), type=t, detector="cli") for t in names)  # type: ignore[arg-type]
    subjects = ("cli:subject",) if findings else ()
    return check_records(engine, [RecordInput(findings, subjects)], opts)


def check_command(
    file: Annotated[Path, typer.Argument(help="Records: NDJSON or an EPCIS 2.0 document.")],
    product: ProductOpt,
    exporter: Annotated[
        str, typer.Option("--exporter", help="Against a hub: the exporter (as for send).")
    ] = "",
    importer: Annotated[
        str, typer.Option("--importer", help="Against a hub: the importer (as for send).")
    ] = "",
    hub_url: Annotated[
        str, typer.Option("--hub", envvar="SILKGATE_HUB", help="Ask this hub over its API.")
    ] = "",
    key_file: Annotated[
        Path | None, typer.Option("--key-file", help="With --hub: your own key file.")
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", envvar="SILKGATE_DATA_DIR", help="Ask this local hub."),
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option(min=1, max=10_000, help="As for send (default: the setting).")
    ] = None,
    origin: Annotated[str, typer.Option("--origin", help="Without a hub: origin, e.g. CN.")] = "",
    destination: Annotated[
        str, typer.Option("--destination", help="Without a hub: destination, e.g. VN.")
    ] = "",
    purpose: PurposeOpt = None,
    prior_pi: PriorPi = 0,
    prior_sensitive_pi: PriorSpi = 0,
    filing: FilingOpt = None,
    instrument: InstrumentOpt = "other",
    ciio: CiioOpt = False,
    transit: TransitOpt = False,
    sector: SectorOpt = "logistics",
    day: DateOpt = None,
    free_trade_zone: Annotated[
        str, typer.Option("--free-trade-zone", help="Without a hub: the exporter's zone.")
    ] = "",
    related: Annotated[
        bool, typer.Option("--related", help="Without a hub: one corporate group (BCRs).")
    ] = False,
    enterprise_size: Annotated[
        str, typer.Option("--enterprise-size", help="Without a hub: the exporter's size.")
    ] = "unknown",
    foreign_authority: Annotated[
        bool, typer.Option("--foreign-authority", help="Without a hub: a foreign authority.")
    ] = False,
    first_transfer_days: Annotated[
        int | None,
        typer.Option("--first-transfer-days", min=0, help="Without a hub: days since the first."),
    ] = None,
    details: Annotated[
        bool, typer.Option("--details", help="Also print the decision of every record.")
    ] = False,
    json_out: JsonFlag = False,
) -> None:
    """Dry run: a summary of the decisions (outcomes x rules), with --details one row per
    record with rules fired and obligations; --json prints one object per record.

    With --exporter/--importer (and --data-dir or --hub) it decides exactly as `send` would
    now: the hub's agreement, filings, counters, overlays and active sandbox versions.
    Without them (--origin/--destination) it asks the shipped packs about the law alone,
    with the facts given as flags."""
    if importer or exporter:
        hubless = {"--origin": origin, "--destination": destination, "--prior-pi": prior_pi,
                   "--prior-sensitive-pi": prior_sensitive_pi, "--filing": filing,
                   "--instrument": instrument != "other", "--ciio": ciio,
                   "--sector": sector != "logistics", "--date": day,
                   "--free-trade-zone": free_trade_zone, "--related": related,
                   "--enterprise-size": enterprise_size != "unknown",
                   "--foreign-authority": foreign_authority,
                   "--first-transfer-days": first_transfer_days is not None}  # fmt: skip
        given = [name for name, value in hubless.items() if value]
        if given:
            raise typer.BadParameter(
                f"{', '.join(given)}: against a hub its registry and counters decide these; "
                "leave them out, or drop --exporter/--importer for a check without a hub"
            )
        if not purpose:
            raise typer.BadParameter("--purpose is required against a hub (as for send)")
        decisions = _decide_on_hub(file, exporter, importer, product, purpose, transit,
                                   hub_url, key_file, data_dir, batch_size,
                                   show_progress=not json_out)  # fmt: skip
    else:
        for name, value in (("--origin", origin), ("--destination", destination)):
            if value.upper() not in JURISDICTIONS:
                raise typer.BadParameter(
                    f"{name} {value!r}: one of {', '.join(JURISDICTIONS)} "
                    "(or give --exporter/--importer to check against a hub)"
                )
        opts = dataclasses.replace(
            _options(origin, destination, product, purpose, prior_pi, prior_sensitive_pi,
                     filing, instrument, ciio, transit, sector, day),
            free_trade_zone=free_trade_zone, related=related, enterprise_size=enterprise_size,
            foreign_authority=foreign_authority, first_transfer_days=first_transfer_days,
        )  # fmt: skip
        with _working(not json_out, "deciding"):
            decisions = _decide(PolicyEngine.default(), opts, file, None)
    if json_out:
        for i, d in enumerate(decisions):
            _print_json({"index": i, **msgspec.to_builtins(d)})
        return
    if details:
        table = Table("#", "outcome", "rules", "obligations")
        for i, d in enumerate(decisions):
            obligations = ", ".join(f"{o.action} {o.path}" for o in d.obligations)
            table.add_row(str(i), d.outcome, ", ".join(d.rule_ids), obligations)
        _out.print(table)
    from silkgate.cli.common import outcome_rule_rows

    columns, rows = outcome_rule_rows(decisions)
    summary = Table(*columns, title=f"{len(decisions)} records: outcomes x rules")
    for row in rows:
        summary.add_row(*(str(v) for v in row))
    _out.print(summary)
    if not details:
        typer.echo("(--details prints the decision of every record, --json one object each)")
    for line in _duty_lines(decisions):
        typer.echo(line)


def _working(enabled: bool, what: str) -> Any:
    """A spinner on stderr while something without steps runs (nothing with --json)."""
    import contextlib

    if not enabled:
        return contextlib.nullcontext()
    return Console(stderr=True).status(f"{what}…")


def _decide_on_hub(
    file: Path, exporter: str, importer: str, product: str, purpose: str, transit: bool,
    hub_url: str, key_file: Path | None, data_dir: Path | None, batch_size: int | None,
    *, show_progress: bool = False,
) -> list[Decision]:  # fmt: skip
    from silkgate.records_io import read_records

    records = read_records(file)
    if hub_url:
        from silkgate.api.cli_http import dry_run_over_http

        with _working(show_progress, f"the hub is deciding {len(records)} records"):
            return dry_run_over_http(hub_url, key_file, exporter=exporter, importer=importer,
                                     product=product, purpose=purpose, records=records,
                                     transit=transit, batch_size=batch_size or 500)  # fmt: skip
    from silkgate.clock import new_id
    from silkgate.config import load_settings
    from silkgate.hub import DEFAULT_DATA_DIR, open_hub
    from silkgate.model import Batch

    if not exporter:
        raise typer.BadParameter("--exporter is required unless --hub is given")
    directory = data_dir or DEFAULT_DATA_DIR
    size = batch_size or load_settings(directory).batch_size
    batches = [
        Batch(id=new_id("b"), exporter=exporter, importer=importer, product=product,
              purpose=purpose, records=records[start : start + size], transit=transit)  # type: ignore[arg-type]
        for start in range(0, len(records), size)
    ]  # fmt: skip
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    hub = open_hub(directory)
    bar = Progress(
        "deciding", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=Console(stderr=True), disable=not show_progress, transient=True,
    )  # fmt: skip
    try:
        with bar:
            task = bar.add_task("deciding", total=len(records))
            decided = hub.pipeline.check(batches, lambda n: bar.advance(task, n))
        return [d for ds in decided for d in ds]
    finally:
        hub.close()


def _duty_lines(decisions: list[Decision]) -> list[str]:
    """The duties and warnings of a batch's decisions, each once, with the records concerned."""
    seen: dict[str, list[int]] = {}
    for i, d in enumerate(decisions):
        for duty in d.facts.get("duties", []):
            due = f" (due {duty['due']})" if duty.get("due") else ""
            seen.setdefault(f"Duty: {duty['title']}{due}", []).append(i)
        for warning in d.facts.get("warnings", []):
            if not warning.startswith("duty "):
                seen.setdefault(f"Warning: {warning}", []).append(i)
    return [f"{text} [{_rows(rows)}]" for text, rows in seen.items()]


def _rows(rows: list[int]) -> str:
    shown = ", ".join(map(str, rows[:5]))
    return f"records {shown}" + (f" and {len(rows) - 5} more" if len(rows) > 5 else "")
