"""Composition root: a data directory becomes a running hub (settings, keys, store,
transport, policy engine, ledger, pipeline). Adapters are chosen here and nowhere else."""

from __future__ import annotations

import base64
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from silkgate.clock import Clock, Random, system_clock, system_random
from silkgate.config import Settings, load_settings, prepare_data_dir
from silkgate.errors import ConfigError, PolicyError
from silkgate.flow.decide import Decider
from silkgate.flow.pipeline import HubSecrets, Pipeline
from silkgate.ledger import TransparencyLog
from silkgate.model import Receipt
from silkgate.policy import PolicyEngine
from silkgate.sandbox import Sandbox
from silkgate.seal.keys import ed25519_key_id, ed25519_public_from_bytes
from silkgate.store import Store, open_store
from silkgate.store.base import StoredEnvelope
from silkgate.transport import Transport, open_transport

HUB_KEY_FILE = "hub-key.json"
DEFAULT_DATA_DIR = Path("./silkgate-data")


class _HubKeyFile(msgspec.Struct, kw_only=True, omit_defaults=True):
    signing_key: str  # base64 of the raw Ed25519 private key: the log's checkpoint key
    subject_key: str
    pseudonym_key: str
    # The envelope (and push) signing key, if rotated away from `signing_key`; the public
    # halves of earlier envelope keys stay published so old envelopes keep verifying.
    envelope_key: str = ""  # base64 of the raw Ed25519 private key
    retired_envelope_keys: list[str] = []  # base64 of raw Ed25519 public keys, oldest first


@dataclass
class Hub:
    data_dir: Path
    settings: Settings
    store: Store
    transport: Transport
    engine: PolicyEngine  # the base: shipped packs + configured overlays (see live_engine)
    log: TransparencyLog
    secrets: HubSecrets
    pipeline: Pipeline
    sandbox: Sandbox | None = None
    retired_envelope_keys: tuple[bytes, ...] = ()  # raw public keys of earlier envelope keys

    def envelope_public_keys(self) -> dict[str, Ed25519PublicKey]:
        """Every key that verifies the hub's envelopes and pushes, the current one first."""
        current = self.secrets.signing_key.public_key()
        keys = {ed25519_key_id(current): current}
        for raw in reversed(self.retired_envelope_keys):
            keys.setdefault(ed25519_key_id(raw), ed25519_public_from_bytes(raw))
        return keys

    def live_engine(self) -> PolicyEngine:
        """The engine deciding now: the base with the sandbox's active versions."""
        return self.pipeline.decider.live_engine()

    @property
    def origin(self) -> str:
        return self.settings.log_origin

    def close(self) -> None:
        self.transport.close()
        self.store.close()


def init_hub(data_dir: Path, *, random: Random = system_random) -> None:
    """Create the data directory and the hub's secrets. Idempotent: existing keys are kept."""
    prepare_data_dir(data_dir)  # 0700, and the database 0600
    key_path = data_dir / HUB_KEY_FILE
    if key_path.exists():
        return
    signing = Ed25519PrivateKey.from_private_bytes(random(32))
    raw = signing.private_bytes_raw()
    body = _HubKeyFile(
        signing_key=_b64(raw), subject_key=_b64(random(32)), pseudonym_key=_b64(random(32))
    )
    write_secret_file(key_path, msgspec.json.encode(body))


def open_hub(
    data_dir: Path = DEFAULT_DATA_DIR,
    *,
    clock: Clock = system_clock,
    random: Random = system_random,
    engine: PolicyEngine | None = None,
) -> Hub:
    """Open an initialized data directory. Raises ConfigError if `silkgate init` was not run."""
    key_path = data_dir / HUB_KEY_FILE
    if not key_path.exists():
        raise ConfigError(
            f"{data_dir} is not a silkgate data directory (no {HUB_KEY_FILE}); "
            f"run `silkgate init --data-dir {data_dir}` first"
        )
    settings = load_settings(data_dir)
    log_key, secrets, retired = _load_secrets(key_path)
    store = open_store(settings.store_url or f"sqlite:///{data_dir / 'silkgate.db'}")
    transport = open_transport(settings.transport_url)
    engine = engine or _base_engine(settings.overlays)
    log = TransparencyLog(store, settings.log_origin, log_key, clock)
    sandbox = Sandbox(store, log, clock, secrets.subject_key, engine)
    decider = Decider(store, secrets.subject_key, engine, sandbox)
    pipeline = Pipeline(
        store=store,
        decider=decider,
        log=log,
        secrets=secrets,
        transport=transport,
        clock=clock,
        random=random,
        delivery_ttl=timedelta(days=settings.delivery_ttl_days),
    )
    return Hub(
        data_dir, settings, store, transport, engine, log, secrets, pipeline, sandbox, retired
    )


def _base_engine(overlays: tuple[str, ...]) -> PolicyEngine:
    """The shipped packs with the overlays the `overlays` setting enables."""
    try:
        return PolicyEngine.default(overlays=overlays)
    except PolicyError as exc:
        raise ConfigError(f"setting `overlays`: {exc}; see `silkgate policy list`") from None


def rotate_envelope_key(data_dir: Path, *, random: Random = system_random) -> str:
    """Give the hub a fresh envelope signing key (the checkpoint key, the log's identity,
    stays). The old key's public half stays published. Restart the hub afterwards.
    Returns the new key id."""
    key_path = data_dir / HUB_KEY_FILE
    body = _read_key_file(key_path)
    old = body.envelope_key or body.signing_key
    old_public = Ed25519PrivateKey.from_private_bytes(base64.b64decode(old)).public_key()
    new = Ed25519PrivateKey.from_private_bytes(random(32))
    body.retired_envelope_keys = [*body.retired_envelope_keys, _b64(old_public.public_bytes_raw())]
    body.envelope_key = _b64(new.private_bytes_raw())
    write_secret_file(key_path, msgspec.json.encode(body))
    return ed25519_key_id(new)


def write_secret_file(path: Path, data: bytes) -> None:
    """Write a file readable by its owner only (0600), atomically."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _read_key_file(path: Path) -> _HubKeyFile:
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"{path} is readable by others; run `chmod 600 {path}`")
    try:
        return msgspec.json.decode(path.read_bytes(), type=_HubKeyFile)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ConfigError(f"{path} is not a valid hub key file: {exc}") from None


def _load_secrets(path: Path) -> tuple[Ed25519PrivateKey, HubSecrets, tuple[bytes, ...]]:
    """The checkpoint key, the secrets (whose signing key signs envelopes and pushes), and
    the raw public halves of retired envelope keys."""
    body = _read_key_file(path)
    try:
        log_key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(body.signing_key))
        envelope_key = (
            Ed25519PrivateKey.from_private_bytes(base64.b64decode(body.envelope_key))
            if body.envelope_key
            else log_key
        )
        secrets = HubSecrets(
            signing_key=envelope_key,
            subject_key=base64.b64decode(body.subject_key),
            pseudonym_key=base64.b64decode(body.pseudonym_key),
        )
        retired = tuple(base64.b64decode(k) for k in body.retired_envelope_keys)
    except ValueError as exc:
        raise ConfigError(f"{path} is not a valid hub key file: {exc}") from None
    return log_key, secrets, retired


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class LocalMailbox:
    """The importer's mailbox on a local hub (embedded mode); see silkgate.mailbox.inbox.Mailbox."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    def pending(self, importer: str, *, limit: int, after: str | None) -> list[StoredEnvelope]:
        return self._hub.store.list_envelopes(
            importer=importer, state="pending", limit=limit, after=after
        )

    def acknowledge(self, receipt: Receipt) -> Receipt:
        return self._hub.pipeline.acknowledge(receipt)

    def hub_public_keys(self) -> Mapping[str, Ed25519PublicKey]:
        return self._hub.envelope_public_keys()
