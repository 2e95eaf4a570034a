"""Settings: one declarative table. Environment variables and TOML are read only here.

Precedence: defaults < ``<data-dir>/silkgate.toml`` < ``SILKGATE_*`` environment variables.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from silkgate.errors import ConfigError


class WitnessSetting(msgspec.Struct, frozen=True, kw_only=True):
    """A tlog-witness the hub asks to cosign its checkpoints (`[[witnesses]]` in TOML)."""

    url: str  # URL prefix; the hub POSTs to <url>/add-checkpoint
    key: str  # the witness's verifier key (vkey)


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    # (setting, default, meaning) -- see docs/operations.md
    store_url: str = ""  # empty: sqlite file inside the data dir
    transport_url: str = "inproc:"
    log_origin: str = "silkgate.local/ledger"  # the checkpoint origin line
    checkpoint_every_seconds: float = 60.0  # `serve`: sign + collect cosignatures this often
    witnesses: tuple[WitnessSetting, ...] = ()
    batch_size: int = 500  # records per batch when streaming a file
    envelope_retention_days: int = 30  # sealed payloads kept after acknowledgement / expiry
    delivery_ttl_days: int = 14  # unacknowledged envelopes expire after this
    host: str = "127.0.0.1"
    port: int = 8420
    max_request_age_seconds: int = 300  # RFC 9421 `created` freshness window
    # The URL clients use to reach this hub (scheme://host[:port]); signatures must be made
    # for it (RFC 9421 `@target-uri`). Empty: the address the server is bound to.
    public_url: str = ""
    # `serve` checks the database's pages and recomputes the whole ledger before answering
    verify_on_start: bool = True
    # limits at the edge, checked before any work (silkgate.api.limits)
    max_body_bytes: int = 32 * 1024 * 1024  # request bodies; larger: 413
    max_json_depth: int = 64  # nesting of a JSON body
    max_string_length: int = 1024 * 1024  # characters of one JSON string
    max_array_items: int = 100_000  # items of one JSON array
    max_batch_records: int = 10_000  # records of one submitted batch
    # token buckets answered 429 with Retry-After; 0 per second: no limit
    rate_limit_ip_per_second: float = 200.0
    rate_limit_ip_burst: int = 2000
    rate_limit_participant_per_second: float = 100.0
    rate_limit_participant_burst: int = 1000
    # push delivery (silkgate.mailbox.delivery.PushPolicy)
    push_max_attempts: int = 8  # pushes per envelope, then pull only
    push_backoff_seconds: float = 30.0  # before the first retry, doubled per attempt
    push_max_backoff_seconds: float = 3600.0
    push_timeout_seconds: float = 10.0  # connect, and between two reads or writes
    push_deadline_seconds: float = 30.0  # a whole push, connection to last byte
    push_max_response_bytes: int = 65536  # a receiver's answer; more is a failed push
    push_workers: int = 8  # pushes in flight at once (one slow receiver holds one)
    # Hosts a push URL may name although they are not public (loopback, private networks):
    # by default the hub pushes only to public addresses, so that an importer cannot make it
    # POST to services inside the hub's own network.
    push_allow_hosts: tuple[str, ...] = ()
    # Rule-pack overlays to enable on top of the shipped packs (e.g. a pilot zone's
    # negative list: "cn-pilot-zone-sample"); `silkgate policy list` shows what is live.
    overlays: tuple[str, ...] = ()


_ENV_PREFIX = "SILKGATE_"


def load_settings(data_dir: Path, env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    toml_path = data_dir / "silkgate.toml"
    if toml_path.exists():
        try:
            values.update(tomllib.loads(toml_path.read_text(encoding="utf-8")))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{toml_path}: {exc}") from None
    for field in msgspec.structs.fields(Settings):
        raw = env.get(_ENV_PREFIX + field.name.upper())
        if raw is not None:
            values[field.name] = raw
    try:
        return msgspec.convert(values, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"invalid setting: {exc}") from None


# ----------------------------------------------------------------------------- file modes

DATABASE_FILE = "silkgate.db"
_PRIVATE_FILES = (DATABASE_FILE, f"{DATABASE_FILE}-wal", f"{DATABASE_FILE}-shm", "hub-key.json")


def prepare_data_dir(data_dir: Path) -> None:
    """Create the data directory readable by its owner only (0700), and the SQLite database
    file 0600 before SQLite does (its -wal and -shm files take the database's mode).
    Existing files are left as they are: `check_private_files` refuses them if looser."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    database = data_dir / DATABASE_FILE
    if not database.exists():
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def check_private_files(data_dir: Path) -> None:
    """Refuse (ConfigError naming the chmod to run) a data directory that others may enter
    (anything looser than 0700), or a database or key file others may read (looser than
    0600): they hold sealed payloads, keyed hashes and the hub's private keys."""
    mode = data_dir.stat().st_mode & 0o777
    if mode & 0o077:
        raise ConfigError(
            f"data directory {data_dir} has mode {mode:o}: others may read it; "
            f"run `chmod 700 {data_dir}`"
        )
    for name in _PRIVATE_FILES:
        path = data_dir / name
        if not path.exists():
            continue
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise ConfigError(
                f"{path} has mode {mode:o}: others may read it; run `chmod 600 {path}`"
            )
