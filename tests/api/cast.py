"""The API tests' cast: a real hub on a temporary SQLite data dir, served in-process, with
two exporters, two importers (one flow each), a regulator and an operator, each with its
own key ring. `clients[name]` signs as that participant."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from silkgate.api.app import create_app
from silkgate.client import SilkgateClient
from silkgate.hub import Hub, init_hub, open_hub
from silkgate.model import Agreement, Participant, Purpose
from silkgate.seal.keys import KeyRing, create_keyring, hpke_public_bytes, save_keyring

NOW = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
BASE_URL = "http://testserver"

# name -> (jurisdiction, roles)
CAST: dict[str, tuple[str, tuple[str, ...]]] = {
    "cn-exporter": ("CN", ("exporter",)),
    "vn-importer": ("VN", ("importer",)),
    "cn-other-exporter": ("CN", ("exporter",)),
    "th-other-importer": ("TH", ("importer",)),
    "regulator": ("CN", ("regulator",)),
    "operator": ("CN", ("operator",)),
}
FLOWS = (("cn-exporter", "vn-importer"), ("cn-other-exporter", "th-other-importer"))
PRODUCT = "logistics.waybill"
PURPOSE: Purpose = "contract_performance"


class Clock:
    """A clock the test moves by hand; shared by the hub, the API and the clients."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def waybill(n: int, destination: str = "VN") -> dict[str, Any]:
    return {
        "waybill_no": f"SF{1000000000 + n}",
        "carrier": "SF Express",
        "event_time": "2026-06-01T08:00:00Z",
        "origin": {"country": "CN"},
        "destination": {"country": destination},
        "consignee": {"name": f"Nguyen Van Secret{n}", "phone": "+84 912 345 678"},
        "status": "in_transit",
    }


def participant_for(name: str, ring: KeyRing) -> Participant:
    jurisdiction, roles = CAST[name]
    return make_participant(name, ring, jurisdiction, roles)


def make_participant(
    name: str, ring: KeyRing, jurisdiction: str, roles: tuple[str, ...]
) -> Participant:
    _, hpke_key = ring.current_hpke(NOW)
    return Participant(
        id=name,
        name=name.replace("-", " ").title(),
        jurisdiction=jurisdiction,  # type: ignore[arg-type]
        roles=roles,  # type: ignore[arg-type]
        signing_key=ring.signing[-1].public,
        hpke_key=hpke_public_bytes(hpke_key),
    )


def register_cast(hub: Hub, rings: dict[str, KeyRing]) -> None:
    with hub.store.transaction():
        for name, ring in rings.items():
            hub.store.put_participant(participant_for(name, ring))
        for exporter, importer in FLOWS:
            hub.store.put_agreement(
                Agreement(
                    id=f"agr-{exporter}-{importer}",
                    exporter=exporter,
                    importer=importer,
                    product=PRODUCT,
                    purpose=PURPOSE,
                    instrument="contract_necessity",
                    valid_from=date(2026, 1, 1),
                )
            )


@dataclass
class Env:
    hub: Hub
    http: TestClient
    clock: Clock
    rings: dict[str, KeyRing]
    clients: dict[str, SilkgateClient]
    keys_dir: Path

    def client(self, ring: KeyRing) -> SilkgateClient:
        return SilkgateClient(BASE_URL, ring, http=self.http, clock=self.clock)


@contextmanager
def serve_cast(directory: Path, settings: str = "") -> Iterator[Env]:
    """A hub on `directory`/data with the cast registered (key files in `directory`/keys),
    served in-process; closed on exit."""
    clock = Clock()
    data_dir = directory / "data"
    init_hub(data_dir)
    # The tests' push receivers listen on loopback, which a hub refuses unless allowed.
    toml = 'push_allow_hosts = ["127.0.0.1"]\n' + settings
    (data_dir / "silkgate.toml").write_text(toml, "utf-8")
    hub = open_hub(data_dir, clock=clock)
    keys_dir = directory / "keys"
    keys_dir.mkdir()
    rings = {name: create_keyring(name, NOW - timedelta(days=1)) for name in CAST}
    for name, ring in rings.items():
        save_keyring(ring, keys_dir / f"{name}.json")
    register_cast(hub, rings)
    app = create_app(hub=hub, clock=clock)
    try:
        with TestClient(app, base_url=BASE_URL) as http:
            clients = {
                name: SilkgateClient(BASE_URL, ring, http=http, clock=clock)
                for name, ring in rings.items()
            }
            yield Env(hub, http, clock, rings, clients, keys_dir)
    finally:
        hub.close()
