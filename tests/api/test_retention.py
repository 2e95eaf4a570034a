"""Retention with an injected clock: undelivered envelopes expire after the delivery TTL,
acknowledged ones lose their sealed data after the retention, held ones stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
from typer.testing import CliRunner

from api.cast import NOW, PRODUCT, PURPOSE, Env, waybill
from silkgate.cli.mailbox import mailbox_app
from silkgate.hub import init_hub, open_hub
from silkgate.mailbox.retention import plan_purge
from silkgate.mailbox.service import run_purge
from silkgate.seal import envelope_digest, sign_receipt
from silkgate.store import StoredEnvelope
from silkgate.store.base import EnvelopeState

TTL = timedelta(days=14)
RETENTION = timedelta(days=30)
DAY = timedelta(days=1)


def envelope(eid: str, state: EnvelopeState, created: datetime = NOW) -> StoredEnvelope:
    return StoredEnvelope(
        id=eid, batch_id=f"b_{eid}", exporter="cn-exporter", importer="vn-importer",
        state=state, created_at=created, expires_at=created + TTL, data=b"sealed",
    )  # fmt: skip


def test_plan_purge_decides_by_state_and_clock() -> None:
    envelopes = [
        envelope("pending", "pending"),
        envelope("held", "held"),
        envelope("acked", "acked"),
        envelope("acked-no-receipt", "acked"),
        envelope("acked-future-receipt", "acked"),
        envelope("rejected", "rejected"),
        msgspec.structs.replace(envelope("acked-purged", "acked"), data=b""),
    ]
    acked_at = {"acked": NOW + DAY, "acked-future-receipt": NOW + 400 * DAY}

    def plan(at: datetime) -> tuple[list[str], list[str], list[str]]:
        made = plan_purge(envelopes, acked_at, at, RETENTION)
        return made.expire, made.acked, made.rejected

    assert plan(NOW) == ([], [], ["rejected"])
    assert plan(NOW + TTL - timedelta(microseconds=1)) == ([], [], ["rejected"])
    assert plan(NOW + TTL) == (["pending"], [], ["rejected"])  # held stays, past TTL too
    assert plan(NOW + DAY + RETENTION - timedelta(seconds=1))[1] == []
    assert plan(NOW + DAY + RETENTION)[1] == ["acked"]
    # Without a receipt the envelope's expiry counts; a receipt dated after the expiry is
    # clamped to it (a receipt cannot be posted once the envelope has expired).
    assert plan(NOW + TTL + RETENTION)[1] == ["acked", "acked-no-receipt", "acked-future-receipt"]
    assert "held" not in str(plan(NOW + 1000 * DAY))


def _acknowledge(env: Env, envelope_id: str, at: datetime) -> None:
    sealed = env.hub.store.get_envelope(envelope_id)
    _, key = env.rings["vn-importer"].current_signing(NOW)
    receipt = sign_receipt(
        envelope_id, sealed.batch_id, "vn-importer", envelope_digest(sealed.data), at, key
    )
    env.clients["vn-importer"].acknowledge(receipt)


def _submit(env: Env) -> str:
    result = env.clients["cn-exporter"].submit_batch(
        "vn-importer", PRODUCT, [waybill(1)], purpose=PURPOSE
    )
    assert result.envelope_id is not None
    return result.envelope_id


def test_run_purge_on_a_hub(env: Env) -> None:
    store = env.hub.store
    acked, pending = _submit(env), _submit(env)
    _acknowledge(env, acked, NOW)
    nothing = run_purge(store, env.clock(), RETENTION)
    assert (nothing.expired, nothing.acked_purged, nothing.rejected_purged) == (0, 0, 0)

    env.clock.advance(TTL.total_seconds())
    report = run_purge(store, env.clock(), RETENTION)
    assert (report.expired, report.acked_purged) == (1, 0)
    assert report.nonces_purged > 0  # the requests' nonces are past their window
    expired = store.get_envelope(pending)
    assert (expired.state, expired.data) == ("expired", b"")
    assert store.get_envelope(acked).data  # acknowledged: kept for the retention
    assert env.clients["vn-importer"].mailbox().envelopes == []

    env.clock.advance((RETENTION - TTL).total_seconds())
    assert run_purge(store, env.clock(), RETENTION).acked_purged == 1
    purged = store.get_envelope(acked)
    assert (purged.state, purged.data) == ("acked", b"")
    assert store.get_receipt(acked).envelope_id == acked  # the evidence stays


def test_mailbox_purge_command(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    init_hub(data_dir)
    now = datetime.now(UTC)  # the command runs on the system clock; dates only, no timing
    hub = open_hub(data_dir)
    try:
        hub.store.put_envelope(envelope("old", "pending", created=now - 20 * DAY))
        hub.store.put_envelope(envelope("new", "pending", created=now - DAY))
        hub.store.put_envelope(envelope("held", "held", created=now - 20 * DAY))
    finally:
        hub.close()
    done = CliRunner().invoke(mailbox_app, ["purge", "--data-dir", str(data_dir), "--json"])
    assert done.exit_code == 0, done.output
    report = msgspec.json.decode(done.stdout.splitlines()[-1])
    assert report["expired"] == 1 and report["acked_purged"] == 0
    hub = open_hub(data_dir)
    try:
        states = {e.id: (e.state, bool(e.data)) for e in hub.store.list_envelopes()}
    finally:
        hub.close()
    assert states == {
        "old": ("expired", False),
        "new": ("pending", True),
        "held": ("held", True),
    }
