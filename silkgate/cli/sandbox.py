"""`silkgate sandbox …`: the policy lifecycle, shadow reports, replay, decision facts and
experiment cohorts. Regulator actions are signed with the regulator's key file."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import msgspec
import typer
from rich.table import Table

from silkgate.cli.common import DataDir, JsonFlag, console, hub_at, print_json
from silkgate.cli.remote import HubUrl, RemoteKeyFile
from silkgate.client import SilkgateClient
from silkgate.errors import ConfigError, InputError
from silkgate.hub import DEFAULT_DATA_DIR, Hub
from silkgate.registry.keys import load_key_file
from silkgate.sandbox import html
from silkgate.sandbox.auth import Approval, sign_action
from silkgate.sandbox.cohorts import CohortSpec, cohort_message, exit_report
from silkgate.sandbox.core import Sandbox
from silkgate.sandbox.lifecycle import PolicyVersion, transition_message
from silkgate.sandbox.packs import pack_from_text, text_digest
from silkgate.sandbox.shadow import DOC_KIND as SHADOW_KIND
from silkgate.sandbox.shadow import ShadowDiff

sandbox_app = typer.Typer(no_args_is_help=True, help="Regulatory sandbox.")
policy_app = typer.Typer(
    no_args_is_help=True, help="Pack versions: draft → shadow → active → retired."
)
shadow_app = typer.Typer(no_args_is_help=True, help="What shadow versions would change.")
cohort_app = typer.Typer(no_args_is_help=True, help="Capped experiment cohorts with a kill switch.")
facts_app = typer.Typer(no_args_is_help=True, help="Decision facts (no contents) for analytics.")
sandbox_app.add_typer(policy_app, name="policy")
sandbox_app.add_typer(shadow_app, name="shadow")
sandbox_app.add_typer(cohort_app, name="cohort")
sandbox_app.add_typer(facts_app, name="facts")

KeyFile = Annotated[
    Path,
    typer.Option(
        "--key-file", help="The regulator's key file (signs the action; with --hub, the request)"
    ),
]
HtmlOut = Annotated[
    Path | None, typer.Option("--html", help="Also write the report as HTML with charts.")
]
When = Annotated[str, typer.Option(help="ISO 8601 time, e.g. 2026-06-01T00:00:00Z")]


def _sandbox(hub: Hub) -> Sandbox:
    if hub.sandbox is None:
        raise ConfigError("this hub was opened without the sandbox")
    return hub.sandbox


def _remote(hub: str, key_file: Path | None) -> SilkgateClient:
    from silkgate.api.cli_http import remote_client  # the SDK loads on use

    return remote_client(hub, key_file)


def _approve(key_file: Path, message_for: Callable[[str], bytes]) -> Approval:
    ring = load_key_file(key_file)
    _, key = ring.current_signing(datetime.now(UTC))
    return sign_action(key, ring.participant, message_for(ring.participant))


def _time(value: str, what: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"{what} {value!r} is not an ISO 8601 time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _split(ref: str) -> tuple[str, str]:
    pack, sep, version = ref.partition("@")
    if not sep or not pack or not version:
        raise InputError(f"{ref!r}: name a version as PACK@VERSION, e.g. cn@2024.3.3")
    return pack, version


def _version_json(v: PolicyVersion) -> dict[str, Any]:
    last = v.history[-1] if v.history else None
    return {
        "pack": v.pack_id, "version": v.version, "state": v.state, "sha256": v.sha256,
        "changed_by": last.by if last else "", "changed_at": last.at if last else None,
        "ledger_index": last.ledger_index if last else None,
        "history": [msgspec.to_builtins(t) for t in v.history],
    }  # fmt: skip


def _remote_version(v: dict[str, Any]) -> dict[str, Any]:
    """A version from GET /v1/sandbox/policies with the fields `policy list` prints."""
    last = v["history"][-1] if v.get("history") else None
    return {
        **v,
        "changed_by": last["by"] if last else "",
        "changed_at": last["at"] if last else None,
        "ledger_index": last.get("ledger_index") if last else None,
    }


def _write_html(path: Path | None, text: str) -> None:
    if path is not None:
        path.write_text(text, encoding="utf-8")
        console.print(f"wrote {path}", highlight=False)


def _show(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(v) for v in row))
    console.print(table)


# ----------------------------------------------------------------------------- policy
@policy_app.command("propose")
def policy_propose(
    pack: Annotated[Path, typer.Argument(help="The pack's YAML file")],
    key_file: KeyFile,
    hub: HubUrl = "",
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """Store a new version of a pack as a draft."""
    text = pack.read_text(encoding="utf-8")
    if hub:
        with _remote(hub, key_file) as client:
            _done_json(client.propose_policy(text), json)
        return
    parsed = pack_from_text(text, str(pack))
    digest = text_digest(text)
    approval = _approve(
        key_file,
        lambda by: transition_message(parsed.id, parsed.version, digest, "", "draft", by),
    )
    with hub_at(data_dir) as local:
        version = _sandbox(local).lifecycle.propose(text, approval)
    _done(version, json)


def _move(ref: str, to_state: str, key_file: Path, data_dir: Path, json: bool, url: str) -> None:
    pack_id, version = _split(ref)
    if url:
        with _remote(url, key_file) as client:
            _done_json(client.transition_policy(pack_id, version, to_state), json)
        return
    with hub_at(data_dir) as hub:
        lifecycle = _sandbox(hub).lifecycle
        current = lifecycle.get(pack_id, version)
        approval = _approve(
            key_file,
            lambda by: transition_message(
                pack_id, version, current.sha256, current.state, to_state, by
            ),
        )
        moved = lifecycle.transition(pack_id, version, to_state, approval)
    _done(moved, json)


def _done_json(version: dict[str, Any], json: bool) -> None:
    """A version as the API returns it (pack, version, state, sha256, history)."""
    if json:
        print_json(version)
    else:
        key = f"{version['pack']}@{version['version']}"
        console.print(f"{key} is now [bold]{version['state']}[/]", highlight=False)


def _done(version: PolicyVersion, json: bool) -> None:
    if json:
        print_json(_version_json(version))
    else:
        console.print(f"{version.key} is now [bold]{version.state}[/]", highlight=False)


@policy_app.command("shadow")
def policy_shadow(
    ref: Annotated[str, typer.Argument(help="PACK@VERSION")],
    key_file: KeyFile,
    hub: HubUrl = "",
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """Evaluate a draft on live traffic beside the active version."""
    _move(ref, "shadow", key_file, data_dir, json, hub)


@policy_app.command("activate")
def policy_activate(
    ref: Annotated[str, typer.Argument(help="PACK@VERSION")],
    key_file: KeyFile,
    hub: HubUrl = "",
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """Make a shadowed version decide (the previously active one is retired)."""
    _move(ref, "active", key_file, data_dir, json, hub)


@policy_app.command("retire")
def policy_retire(
    ref: Annotated[str, typer.Argument(help="PACK@VERSION")],
    key_file: KeyFile,
    hub: HubUrl = "",
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """Retire a version (final)."""
    _move(ref, "retired", key_file, data_dir, json, hub)


@policy_app.command("list")
def policy_list(
    hub: HubUrl = "",
    key_file: RemoteKeyFile = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """Every stored version with its state."""
    if hub:
        with _remote(hub, key_file) as client:
            versions = [_remote_version(v) for v in client.policies()]
    else:
        with hub_at(data_dir) as local:
            versions = [_version_json(v) for v in _sandbox(local).lifecycle.versions()]
    if json:
        print_json(versions)
        return
    rows = [[v["pack"], v["version"], v["state"], v["changed_by"], v["changed_at"],
             v["sha256"][:16]] for v in versions]  # fmt: skip
    _show("policy versions", ["pack", "version", "state", "by", "at", "sha256"], rows)


# ----------------------------------------------------------------------------- shadow
@shadow_app.command("report")
def shadow_report(
    version: Annotated[str, typer.Argument(help="PACK@VERSION (default: all)")] = "",
    hub: HubUrl = "",
    key_file: RemoteKeyFile = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
    html_out: HtmlOut = None,
) -> None:
    """Differences between each shadow version and the active decisions."""
    diffs: list[Any]
    if hub:
        with _remote(hub, key_file) as client:
            diffs = client.shadow_report()
    else:
        with hub_at(data_dir) as local:
            docs = local.store.list_sandbox_docs(SHADOW_KIND)
        diffs = [
            msgspec.to_builtins(msgspec.msgpack.decode(raw, type=ShadowDiff)) for _, raw in docs
        ]
    diffs = [d for d in diffs if not version or d["version"] == version]
    _write_html(html_out, html.shadow_page(diffs))
    if json:
        print_json(diffs)
        return
    rows = [[d["version"], d["records"], d["changed"],
             ", ".join(f"{k}: {v}" for k, v in d["by_change"].items())] for d in diffs]  # fmt: skip
    _show("shadow versions", ["version", "records", "changed", "changes"], rows)


# ----------------------------------------------------------------------------- replay
@sandbox_app.command("replay")
def replay_command(
    candidate: Annotated[list[Path], typer.Option(help="Candidate pack YAML (repeatable)")],
    since: When = "",
    until: When = "",
    facts: Annotated[
        Path | None, typer.Option(help="Decision facts as Parquet (default: the hub's store)")
    ] = None,
    hub: HubUrl = "",
    key_file: RemoteKeyFile = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
    html_out: HtmlOut = None,
) -> None:
    """What a candidate pack would have changed over past decision facts (over --hub: the
    hub replays its own stored facts)."""
    start, end = _time(since, "--since"), _time(until, "--until")
    if hub:
        if facts is not None:
            raise InputError("--facts replays a local Parquet file; drop --hub to use it")
        texts = [c.read_text(encoding="utf-8") for c in candidate]
        with _remote(hub, key_file) as client:
            report = client.replay(texts, since=start, until=end)
    else:
        report = _replay_local(candidate, facts, start, end, data_dir)
    _write_html(html_out, html.replay_page(report))
    if json:
        print_json(report)
        return
    console.print(
        f"replayed [bold]{report['records']}[/] records: [bold]{report['changed']}[/] would change",
        highlight=False,
    )
    for title in ("by_change", "by_corridor", "by_product", "by_exporter"):
        rows = [[k, v] for k, v in report[title].items()]
        _show(title.replace("_", " "), ["", "records"], rows)


def _replay_local(
    candidate: list[Path],
    facts: Path | None,
    start: datetime | None,
    end: datetime | None,
    data_dir: Path,
) -> dict[str, Any]:
    with hub_at(data_dir) as hub:
        base = _sandbox(hub).active_engine()
        from silkgate.sandbox.analytics import facts_table, read_parquet
        from silkgate.sandbox.replay import replay

        table = read_parquet(facts) if facts else facts_table(hub.store.iter_facts(None, end))
    return replay(candidate, table, start, end, base=base).to_json()


# ----------------------------------------------------------------------------- facts
@facts_app.command("export")
def facts_export(
    out: Annotated[Path, typer.Argument(help="Parquet file to write")],
    since: When = "",
    until: When = "",
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """Write decision facts as Parquet (columnar, zstd) for DuckDB, Polars or Spark."""
    from silkgate.sandbox.analytics import write_facts

    with hub_at(data_dir) as hub:  # streamed in chunks: memory stays bounded on a large hub
        written = write_facts(
            hub.store.iter_facts(_time(since, "--since"), _time(until, "--until")), out
        )
    if json:
        print_json({"file": str(out), "records": written})
    else:
        console.print(f"wrote {written} facts to {out}", highlight=False)


@facts_app.command("query")
def facts_query(
    sql: Annotated[str, typer.Argument(help="SQL over the table `facts` (DuckDB)")],
    facts: Annotated[Path | None, typer.Option(help="Parquet file (default: the store)")] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """Query decision facts with SQL, e.g. outcomes per corridor."""
    from silkgate.sandbox.analytics import facts_table, query_facts, read_parquet

    if facts is not None:
        table = read_parquet(facts)
    else:
        with hub_at(data_dir) as hub:
            table = facts_table(hub.store.iter_facts())
    rows = query_facts(table, sql)
    if json:
        print_json(rows)
        return
    _show("facts", list(rows[0]) if rows else [], [list(r.values()) for r in rows])


# ----------------------------------------------------------------------------- cohorts
@cohort_app.command("create")
def cohort_create(
    cohort_id: Annotated[str, typer.Argument(help="Experiment id, e.g. gx-2026-customs")],
    member: Annotated[list[str], typer.Option(help="Participant id (repeatable)")],
    overlay: Annotated[Path, typer.Option(help="Overlay pack YAML (the relaxed rules)")],
    start: When,
    end: When,
    key_file: KeyFile,
    product: Annotated[list[str] | None, typer.Option(help="Product in scope (repeatable)")] = None,
    corridor: Annotated[list[str] | None, typer.Option(help="e.g. CN-VN (repeatable)")] = None,
    max_records: Annotated[int | None, typer.Option(min=0)] = None,
    max_individuals: Annotated[int | None, typer.Option(min=0)] = None,
    title: str = "",
    hub: HubUrl = "",
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """Admit members to a capped, time-boxed experiment with an overlay pack."""
    spec = CohortSpec(
        id=cohort_id, title=title, members=tuple(member), products=tuple(product or ()),
        corridors=tuple(corridor or ()), overlay_yaml=overlay.read_text(encoding="utf-8"),
        max_records=max_records, max_individuals=max_individuals,
        start=_time(start, "--start") or datetime.now(UTC),
        end=_time(end, "--end") or datetime.now(UTC),
    )  # fmt: skip
    if hub:
        with _remote(hub, key_file) as client:
            _cohort_done(client.create_cohort(spec), json)
        return
    approval = _approve(
        key_file, lambda by: cohort_message("create", cohort_id, spec.message_body(), by)
    )
    with hub_at(data_dir) as local:
        cohort = _sandbox(local).cohorts.create(spec, approval)
    _cohort_done(exit_report(cohort), json)


@cohort_app.command("suspend")
def cohort_suspend(
    cohort_id: Annotated[str, typer.Argument()],
    key_file: KeyFile,
    reason: str = "",
    hub: HubUrl = "",
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """Kill switch: the experiment stops applying from the next batch."""
    if hub:
        with _remote(hub, key_file) as client:
            _cohort_done(client.suspend_cohort(cohort_id, reason), json)
        return
    approval = _approve(
        key_file, lambda by: cohort_message("suspend", cohort_id, {"reason": reason}, by)
    )
    with hub_at(data_dir) as local:
        cohort = _sandbox(local).cohorts.suspend(cohort_id, approval, reason)
    _cohort_done(exit_report(cohort), json)


def _cohort_done(report: dict[str, Any], json: bool) -> None:
    if json:
        print_json(report)
    else:
        console.print(f"experiment {report['id']} is [bold]{report['state']}[/]", highlight=False)


@cohort_app.command("list")
def cohort_list(
    hub: HubUrl = "",
    key_file: RemoteKeyFile = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """Every experiment with its state and use of its caps."""
    if hub:
        with _remote(hub, key_file) as client:
            reports = client.cohorts()
    else:
        with hub_at(data_dir) as local:
            reports = [exit_report(c) for c in _sandbox(local).cohorts.all()]
    if json:
        print_json(reports)
        return
    rows = [
        [r["id"], r["state"], r["flowed"]["records"], r["caps"]["records"],
         r["flowed"]["individuals"], r["caps"]["individuals"], r["end"]]
        for r in reports
    ]  # fmt: skip
    _show("experiments", ["id", "state", "records", "cap", "individuals", "cap", "ends"], rows)


@cohort_app.command("report")
def cohort_report(
    cohort_id: Annotated[str, typer.Argument()],
    hub: HubUrl = "",
    key_file: RemoteKeyFile = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
    html_out: HtmlOut = None,
) -> None:
    """Exit report: what flowed, what the overlay changed, incidents."""
    if hub:
        with _remote(hub, key_file) as client:
            report = client.cohort_report(cohort_id)
    else:
        with hub_at(data_dir) as local:
            report = exit_report(_sandbox(local).cohorts.get(cohort_id))
    _write_html(html_out, html.cohort_page(msgspec.to_builtins(report)))
    if json:
        print_json(report)
        return
    flowed = report["flowed"]
    console.print(
        f"experiment {cohort_id}: {report['state']} {report['reason']}; "
        f"{flowed['records']} records, {flowed['individuals']} individuals",
        highlight=False,
    )
    _show(
        "overlay changed",
        ["change", "records"],
        [[k, v] for k, v in report["overlay_changed"].items()],
    )
    _show("incidents", ["at", "kind", "detail"],
          [[i["at"], i["kind"], i["detail"]] for i in report["incidents"]])  # fmt: skip
