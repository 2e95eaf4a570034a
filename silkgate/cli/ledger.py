"""`silkgate ledger ...` and `silkgate witness ...`: the ledger from the command line.

The command bodies are plain functions taking a log (or a witness) so that they can be
tested and reused; the Typer commands only open the hub and print.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from silkgate.cli.remote import HubUrl, RemoteKeyFile
from silkgate.errors import ConfigError, NotFoundError, SilkgateError
from silkgate.flow.holds import public_keys, verify_hold_entry
from silkgate.ledger import (
    ProofBundle,
    TransparencyLog,
    parse_note,
    parse_vkey,
    verify_bundle,
    verify_note,
)
from silkgate.ledger.checkpoint import parse_checkpoint_text
from silkgate.ledger.witness import (
    FileWitnessState,
    Witness,
    WitnessError,
    encode_request,
    http_submit,
    request_cosignature,
)
from silkgate.model import HUB_ACTOR
from silkgate.store.base import Store
from silkgate.store.ports import BatchPort

ledger_app = typer.Typer(no_args_is_help=True, help="The transparency ledger: checkpoints, proofs.")
witness_app = typer.Typer(no_args_is_help=True, help="Run a witness that cosigns checkpoints.")

DEFAULT_DATA_DIR = Path("./silkgate-data")
DEFAULT_WITNESS_DIR = Path("./silkgate-witness")
WITNESS_KEY_FILE = "witness-key.json"
WITNESS_STATE_FILE = "witness-state.json"

DataDir = Annotated[
    Path,
    typer.Option("--data-dir", envvar="SILKGATE_DATA_DIR", help="Where the hub keeps its state."),
]
WitnessDir = Annotated[
    Path, typer.Option("--dir", envvar="SILKGATE_WITNESS_DIR", help="The witness's directory.")
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]


# -- opening the hub (replaceable) ----------------------------------------------------


@contextmanager
def open_ledger(data_dir: Path) -> Iterator[TransparencyLog]:
    """The hub's log for a data directory (closes the hub afterwards)."""
    from silkgate.hub import open_hub

    hub = open_hub(data_dir)
    try:
        yield hub.log
    finally:
        hub.close()


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False) + "\n")


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except SilkgateError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


# -- command bodies -------------------------------------------------------------------


def checkpoint_info(log: TransparencyLog) -> dict[str, Any]:
    cp = log.checkpoint()
    return {
        "origin": cp.origin,
        "size": cp.size,
        "root_hash": base64.b64encode(cp.root_hash).decode(),
        "note": cp.note,
    }


def key_info(log: TransparencyLog) -> dict[str, Any]:
    return {
        "origin": log.origin,
        "vkey": log.vkey,
        "public_key": base64.b64encode(log.verifier.public_key).decode(),
    }


def prove_index(
    log: TransparencyLog, store: BatchPort, *, index: int | None, batch: str | None
) -> ProofBundle:
    if (index is None) == (batch is None):
        raise ConfigError("give exactly one of --index and --batch")
    if batch is not None:
        index = store.get_batch_result(batch).ledger_index
        if index is None:
            raise NotFoundError(f"batch {batch} has no ledger entry")
    assert index is not None
    return log.prove(index)


def prove_remote(
    hub: str, key_file: Path | None, *, index: int | None, batch: str | None
) -> ProofBundle:
    """`ledger prove --hub`: the bundle from the hub's signed API."""
    from silkgate.api.cli_http import remote_client

    if (index is None) == (batch is None):
        raise ConfigError("give exactly one of --index and --batch")
    with remote_client(hub, key_file) as client:
        if batch is not None:
            index = client.get_batch(batch).ledger_index
            if index is None:
                raise NotFoundError(f"batch {batch} has no ledger entry")
        assert index is not None
        return client.proof_bundle(index)


def verify_offline(
    bundle_path: Path,
    checkpoint_path: Path | None,
    vkey: str,
    witness_keys: list[str],
    hold: HoldCheck | None = None,
) -> dict[str, Any]:
    bundle = ProofBundle.from_json(bundle_path.read_bytes())
    note = checkpoint_path.read_text(encoding="utf-8") if checkpoint_path else None
    verify_bundle(bundle, note, vkey, witness_keys=witness_keys)
    info: dict[str, Any] = {
        "ok": True,
        "origin": bundle.origin,
        "index": bundle.index,
        "tree_size": bundle.tree_size,
        "cosigned_by": [parse_vkey(k).name for k in witness_keys],
    }
    if hold is not None:
        info["hold"] = verify_hold_in_bundle(bundle.entry, vkey, hold)
    return info


@dataclass(frozen=True)
class HoldCheck:
    """What checking a hold leaf's signature needs besides the bundle: the reason's text and
    the signer's public keys (raw Ed25519, base64)."""

    reason: str
    hub_keys: tuple[str, ...] = ()  # /v1/hub `signing_keys[].public`; default: the vkey's
    regulator_key: str | None = None  # the regulator's `signing_key` (its public document)


def verify_hold_in_bundle(entry: bytes, vkey: str, check: HoldCheck) -> dict[str, Any]:
    """The bundle's `hold_release`/`hold_reject` leaf's signature, checked offline: a
    release by the hub's re-check with the hub's signing keys (`--hub-key`; without any, the
    log key in `vkey`, which is the hub's signing key until its envelope key is rotated), a
    regulator's decision with `--regulator-key`."""
    raws = [_raw_key(k, "--hub-key") for k in check.hub_keys] or [parse_vkey(vkey).public_key]
    hub = public_keys(*raws)
    regulator = (
        public_keys(_raw_key(check.regulator_key, "--regulator-key"))
        if check.regulator_key
        else None
    )
    leaf = verify_hold_entry(entry, check.reason, hub=hub, regulator=regulator)
    return {
        "kind": leaf.__struct_config__.tag,
        "envelope_id": leaf.envelope_id,
        "by": leaf.by,
        "key_id": leaf.key_id,
        "signature_ok": True,
    }


def _raw_key(text: str, option: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"{option} takes a base64 Ed25519 public key, got {text!r}") from None
    if len(raw) != 32:
        raise ConfigError(f"{option}: an Ed25519 public key has 32 bytes, got {len(raw)}")
    return raw


# -- ledger commands ----------------------------------------------------------------


@ledger_app.command("checkpoint")
def checkpoint_cmd(data_dir: DataDir = DEFAULT_DATA_DIR, json: JsonFlag = False) -> None:
    """Print the latest checkpoint note as is (signing one if the tree has grown)."""
    with _errors(), open_ledger(data_dir) as log:
        info = checkpoint_info(log)
    if json:
        _print_json(info)
    else:
        sys.stdout.write(info["note"])


@ledger_app.command("key")
def key_cmd(data_dir: DataDir = DEFAULT_DATA_DIR, json: JsonFlag = False) -> None:
    """Print the log's verifier key (<name>+<hex key ID>+<base64 key>)."""
    with _errors(), open_ledger(data_dir) as log:
        info = key_info(log)
    if json:
        _print_json(info)
    else:
        typer.echo(info["vkey"])


@ledger_app.command("prove")
def prove_cmd(
    batch: Annotated[str | None, typer.Option("--batch", help="Batch id.")] = None,
    index: Annotated[int | None, typer.Option("--index", help="Leaf index.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the bundle here.")] = None,
    hub: HubUrl = "",
    key_file: RemoteKeyFile = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """Print an inclusion proof bundle (JSON) for a batch or a leaf index (over --hub: for
    an entry the key file's participant is a party to, or any as a regulator)."""
    if hub:
        text = prove_remote(hub, key_file, index=index, batch=batch).to_json()
    else:
        with _errors(), open_ledger(data_dir) as log:
            store: Store = log.store  # type: ignore[assignment]
            text = prove_index(log, store, index=index, batch=batch).to_json()
    if out is not None:
        out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


@ledger_app.command("verify")
def verify_cmd(
    bundle: Annotated[Path | None, typer.Option("--bundle", help="Proof bundle file.")] = None,
    checkpoint: Annotated[
        Path | None,
        typer.Option("--checkpoint", help="Checkpoint note file (default: the bundle's)."),
    ] = None,
    key: Annotated[str | None, typer.Option("--key", help="The hub's verifier key.")] = None,
    witness_key: Annotated[
        list[str] | None,
        typer.Option("--witness-key", help="Require a cosignature by this witness vkey."),
    ] = None,
    reason: Annotated[
        str | None,
        typer.Option(
            "--reason",
            help="For a hold_release/hold_reject entry: the reason's text; its signature "
            "is checked too.",
        ),
    ] = None,
    hub_key: Annotated[
        list[str] | None,
        typer.Option(
            "--hub-key",
            help="With --reason: a hub signing key (base64, /v1/hub signing_keys); "
            "default: the --key log key.",
        ),
    ] = None,
    regulator_key: Annotated[
        str | None,
        typer.Option(
            "--regulator-key",
            help="With --reason: the regulator's signing key (base64, its public document).",
        ),
    ] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """Verify the whole log, or (with --bundle and --key) a proof bundle offline; with
    --reason, also the signature on the bundle's hold release or rejection."""
    with _errors():
        if bundle is not None:
            if key is None:
                raise ConfigError("offline verification needs --key (the hub's verifier key)")
            if reason is None and (hub_key or regulator_key):
                raise ConfigError("--hub-key and --regulator-key check a hold leaf: give --reason")
            hold = None
            if reason is not None:
                hold = HoldCheck(reason, tuple(hub_key or ()), regulator_key)
            info = verify_offline(bundle, checkpoint, key, witness_key or [], hold)
            message = (
                f"OK: entry {info['index']} is in {info['origin']} at size {info['tree_size']}"
            )
            if "hold" in info:
                signed = info["hold"]
                signer = "the hub" if signed["by"] == HUB_ACTOR else signed["by"]
                message += (
                    f"; its {signed['kind']} of {signed['envelope_id']} is signed by {signer} "
                    f"(key {signed['key_id']}) over this reason"
                )
        else:
            with open_ledger(data_dir) as log:
                report = log.verify_log()
            info = {
                "ok": True,
                "size": report.size,
                "root_hash": base64.b64encode(report.root_hash).decode(),
                "checkpoint_size": report.checkpoint_size,
            }
            message = f"OK: {report.size} entries, checkpoint at size {report.checkpoint_size}"
    if json:
        _print_json(info)
    else:
        typer.echo(message)


# -- witness --------------------------------------------------------------------------


@dataclass(frozen=True)
class WitnessConfig:
    name: str
    key: Ed25519PrivateKey
    log_keys: tuple[str, ...]


def init_witness(directory: Path, name: str, log_keys: list[str], seed: bytes) -> WitnessConfig:
    """Create a witness directory with a new key (from `seed`, 32 random bytes)."""
    path = directory / WITNESS_KEY_FILE
    if path.exists():
        raise ConfigError(f"{path} exists; a witness key is never overwritten")
    for vkey in log_keys:
        parse_vkey(vkey)
    directory.mkdir(parents=True, exist_ok=True)
    doc = {"name": name, "signing_key": base64.b64encode(seed).decode(), "logs": log_keys}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)
    return load_witness_config(directory)


def load_witness_config(directory: Path) -> WitnessConfig:
    path = directory / WITNESS_KEY_FILE
    if not path.exists():
        raise ConfigError(f"no witness in {directory}; run `silkgate witness init` first")
    doc = json.loads(path.read_text(encoding="utf-8"))
    key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(doc["signing_key"]))
    return WitnessConfig(doc["name"], key, tuple(doc["logs"]))


def open_witness(directory: Path) -> Witness:
    config = load_witness_config(directory)
    logs = [parse_vkey(k) for k in config.log_keys]
    state = FileWitnessState(directory / WITNESS_STATE_FILE)
    return Witness(config.name, config.key, logs, state, lambda: datetime.now(UTC))


def witness_size(witness: Witness, origin: str) -> int:
    with witness.state.locked() as state:
        return state.get(origin, (0, b""))[0]


def cosign_local(witness: Witness, log: TransparencyLog) -> str:
    """Cosign the log's latest checkpoint from its store; the cosignature is stored with
    the hub's checkpoint. Returns the cosigned note."""
    checkpoint = log.checkpoint()
    old = witness_size(witness, log.origin)
    proof = log.consistency_proof(old, checkpoint.size) if 0 < old <= checkpoint.size else []
    lines = witness.add_checkpoint(encode_request(old, proof, checkpoint.note))
    return log.add_cosignatures(checkpoint.size, lines.decode(), [witness.verifier]).note


def ledger_bases(hub_url: str) -> list[str]:
    """Where the ledger may be: a hub's base URL (`https://hub.example` ->
    `https://hub.example/v1/ledger`), or the URL of a ledger served on its own."""
    base = hub_url.rstrip("/")
    return [base] if base.endswith("/v1/ledger") else [f"{base}/v1/ledger", base]


def _fetch_checkpoint(http: httpx.Client, hub_url: str) -> tuple[str, str]:
    """(the ledger's URL prefix, its latest checkpoint note)."""
    failures = []
    for base in ledger_bases(hub_url):
        try:
            answer = http.get(f"{base}/checkpoint")
        except httpx.HTTPError as exc:
            raise ConfigError(f"cannot reach {base}/checkpoint: {exc}") from None
        if answer.status_code == 200:
            return base, answer.text
        failures.append(f"{base}/checkpoint: HTTP {answer.status_code}")
    raise ConfigError(f"no checkpoint at {hub_url} ({'; '.join(failures)}); give the hub's URL")


def cosign_remote(witness: Witness, hub_url: str, client: httpx.Client | None = None) -> str:
    """Fetch the hub's checkpoint and a consistency proof over HTTP and cosign it.
    Returns the note with the cosignature added (for the witness to publish)."""
    http = client or httpx.Client(timeout=30)
    base, note = _fetch_checkpoint(http, hub_url)
    origin, size, _ = parse_checkpoint_text(parse_note(note).text)
    if origin not in witness.logs:
        raise WitnessError(404, f"this witness does not follow {origin!r}")
    verify_note(note, [witness.logs[origin]])
    old = witness_size(witness, origin)
    proof: list[bytes] = []
    if 0 < old < size:
        answer = http.get(f"{base}/proof/consistency", params={"from": old, "to": size})
        proof = [base64.b64decode(h) for h in answer.raise_for_status().json()["proof"]]
    lines = witness.add_checkpoint(encode_request(old, proof, note))
    return note + lines.decode()


@witness_app.command("init")
def witness_init_cmd(
    name: Annotated[str, typer.Option("--name", help="Witness name, e.g. regulator.example/w1")],
    log_key: Annotated[
        list[str], typer.Option("--log-key", help="Verifier key of a log to follow.")
    ],
    directory: WitnessDir = DEFAULT_WITNESS_DIR,
    json: JsonFlag = False,
) -> None:
    """Create a witness key and record the logs it follows."""
    with _errors():
        config = init_witness(directory, name, log_key, os.urandom(32))
        vkey = open_witness(directory).vkey
    if json:
        _print_json({"name": config.name, "vkey": vkey, "logs": list(config.log_keys)})
    else:
        typer.echo(vkey)


@witness_app.command("key")
def witness_key_cmd(directory: WitnessDir = DEFAULT_WITNESS_DIR, json: JsonFlag = False) -> None:
    """Print the witness's cosigner verifier key."""
    with _errors():
        witness = open_witness(directory)
    if json:
        _print_json({"name": witness.name, "vkey": witness.vkey})
    else:
        typer.echo(witness.vkey)


@witness_app.command("add-checkpoint")
def witness_add_checkpoint_cmd(
    hub: Annotated[str | None, typer.Option("--hub", help="Hub base URL.")] = None,
    hub_data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="A local hub data directory instead of --hub."),
    ] = None,
    directory: WitnessDir = DEFAULT_WITNESS_DIR,
    json: JsonFlag = False,
) -> None:
    """Check the hub's latest checkpoint against this witness's state and cosign it."""
    with _errors():
        if (hub is None) == (hub_data_dir is None):
            raise ConfigError("give exactly one of --hub and --data-dir")
        witness = open_witness(directory)
        if hub is not None:
            note = cosign_remote(witness, hub)
        else:
            assert hub_data_dir is not None
            with open_ledger(hub_data_dir) as log:
                note = cosign_local(witness, log)
    if json:
        origin, size, _ = parse_checkpoint_text(parse_note(note).text)
        _print_json({"origin": origin, "size": size, "note": note})
    else:
        sys.stdout.write(note)


@ledger_app.command("cosign")
def cosign_cmd(
    witness_url: Annotated[str, typer.Option("--witness-url", help="Witness URL prefix.")],
    witness_key: Annotated[str, typer.Option("--witness-key", help="The witness's vkey.")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """Ask a tlog-witness to cosign the latest checkpoint and store its cosignature."""
    with _errors(), open_ledger(data_dir) as log:
        cosigner = parse_vkey(witness_key)
        checkpoint = request_cosignature(log, http_submit(witness_url), cosigner)
    if json:
        _print_json({"size": checkpoint.size, "note": checkpoint.note})
    else:
        sys.stdout.write(checkpoint.note)


@witness_app.command("serve")
def witness_serve_cmd(
    directory: WitnessDir = DEFAULT_WITNESS_DIR,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8790,
) -> None:
    """Serve POST /add-checkpoint (C2SP tlog-witness) for this witness."""
    import uvicorn
    from fastapi import FastAPI

    from silkgate.api.ledger_routes import witness_router

    with _errors():
        witness = open_witness(directory)
    app = FastAPI(title="silkgate witness")
    app.include_router(witness_router(lambda: witness))
    uvicorn.run(app, host=host, port=port)
