"""The console as each party uses it, in Chromium against a hub after demo traffic (issue
15, "Done when"): what a regulator, an exporter, an importer and the operator see and do,
what a forged key or another party's key gets (nothing), a hold released and its ledger leaf
verified against the regulator's key, a cohort suspended, a dry run uploaded, a proof bundle
verified on the public page and a tampered one refused. The `page` fixture asserts that no
request of any test left 127.0.0.1."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest

from browser.helpers import go, open_console, sign_in, wait_idle
from browser.world import (
    COHORT,
    EXPORTER,
    IMPORTER,
    OPERATOR,
    OTHER_EXPORTER,
    REGULATOR,
    WITNESS,
    World,
    cosign_latest,
)
from silkgate.demo.synth import generate
from silkgate.flow.holds import verify_hold_leaf
from silkgate.ledger.bundle import verify_bundle
from silkgate.ledger.checkpoint import parse_note
from silkgate.ledger.leaves import HoldReleaseLeaf, decode_leaf
from silkgate.seal.keys import (
    create_keyring,
    ed25519_public_from_bytes,
    keyring_to_json,
    load_keyring,
)

API_JS = """async ([path, options]) => {
  const { api } = await import('/console/js/api.js');
  try { return { ok: true, body: await api(path, options || {}) }; }
  catch (e) { return { ok: false, status: e.status, message: e.message }; }
}"""


def call(page: Any, path: str, **options: Any) -> dict[str, Any]:
    """One API call through the console's own signed fetch, as the signed-in participant."""
    answer: dict[str, Any] = page.evaluate(API_JS, [path, options])
    return answer


def nav_groups(page: Any) -> list[str]:
    labels: list[str] = page.locator("#nav .group-label").all_inner_texts()
    return [label.strip().lower() for label in labels]


def column(page: Any, table: str, name: str) -> list[str]:
    """The texts of one column of the table inside `table` (a CSS selector)."""
    headers = [h.strip() for h in page.locator(f"{table} thead th").all_inner_texts()]
    index = headers.index(name) + 1
    cells: list[str] = page.locator(f"{table} tbody tr > :nth-child({index})").all_inner_texts()
    return [c.strip() for c in cells]


# --- who sees what --------------------------------------------------------------------------


def test_a_regulator_sees_the_regulator_pages_and_every_exporters_counters(
    page: Any, world: World
) -> None:
    sign_in(page, world.url, world.key_file(REGULATOR))
    assert nav_groups(page) == ["regulator"]
    assert page.inner_text("#who").startswith(f"{REGULATOR} (regulator)")
    go(page, "/regulator/thresholds")
    exporters = set(column(page, "#counters", "exporter"))
    assert exporters == {"cn-guangxi-shop", "cn-nanning-freight", "cn-pingxiang-broker"}
    with world.client(REGULATOR) as sdk:
        counters = {c.exporter: c for c in sdk.counters().counters}
    rows = page.locator("#counters tbody tr").all()
    assert len(rows) == 6
    for row in rows:
        cells = [c.strip() for c in row.locator("th, td").all_inner_texts()]
        exporter, category, individuals = cells[0], cells[1], int(cells[2].replace(",", ""))
        key = {"PI": "pi", "sensitive PI": "sensitive_pi"}[category]
        expected = next(c.individuals for c in counters[exporter].categories if c.category == key)
        assert individuals == expected
    # Pages of other roles say so, without asking the hub.
    go(page, "/exporter/batches")
    assert "This page needs the exporter role" in page.inner_text("main")


def test_an_exporter_sees_only_its_own_batches_and_nothing_of_others(
    page: Any, world: World
) -> None:
    sign_in(page, world.url, world.key_file(EXPORTER))
    assert nav_groups(page) == ["exporter"]
    go(page, "/exporter/batches")
    exporters = column(page, "#batch-list", "exporter")
    with world.client(EXPORTER) as sdk:
        mine = sdk.list_batches(limit=20).batches
    assert exporters == [EXPORTER] * len(mine) and len(mine) > 0
    # Details: rules with their legal citations.
    page.locator("#batch-list button[data-batch]").first.click()
    page.wait_for_selector("#batch-rules")
    assert "Art." in page.inner_text("#batch-rules")
    # Another exporter's batch, the regulator's queue, the operator's registry: refused.
    with world.client(OTHER_EXPORTER) as other:
        theirs = other.list_batches(limit=1).batches[0].batch_id
    refused = call(page, f"/v1/batches/{theirs}/report")
    assert refused["ok"] is False and refused["status"] in (403, 404)
    assert call(page, "/v1/sandbox/cohorts")["status"] == 403
    assert call(
        page, "/v1/participants/cn-gx-data-authority/keys/ed25519:00/revoke", method="POST", body={}
    )["status"] in (403, 404)
    go(page, "/regulator/holds")
    assert "This page needs the regulator role" in page.inner_text("main")
    assert page.locator("#holds").count() == 0


def test_an_importer_sees_its_mailbox_and_registers_push(page: Any, world: World) -> None:
    sign_in(page, world.url, world.key_file(IMPORTER))
    assert nav_groups(page) == ["importer"]
    go(page, "/importer/mailbox")
    with world.client(IMPORTER) as sdk:
        pending = sdk.mailbox(limit=25).envelopes
    assert len(pending) > 0  # the fixture's fresh traffic waits here
    senders = column(page, "#mailbox", "from")
    assert len(senders) == len(pending) and set(senders) <= {
        "cn-nanning-freight",
        "cn-guangxi-shop",
        "cn-pingxiang-broker",
    }
    incoming = column(page, "#incoming", "importer")
    assert incoming and set(incoming) == {IMPORTER}
    go(page, "/importer/push")
    page.get_by_label("Push endpoint URL").fill("https://carrier.example/silkgate/inbox")
    page.get_by_role("button", name="Register").click()
    page.wait_for_selector("#push-stop")
    with world.client(IMPORTER) as sdk:
        assert sdk.push_registration().url == "https://carrier.example/silkgate/inbox"
    page.click("#push-stop")
    page.wait_for_selector("#push-state >> text=No push endpoint")
    # A plain-http endpoint is refused with the hub's reason.
    page.get_by_label("Push endpoint URL").fill("http://carrier.example/in")
    page.get_by_role("button", name="Register").click()
    page.wait_for_selector("#push-state >> text=Registration refused")
    assert "https" in page.inner_text("#push-state")


def test_the_operator_sees_participants_keys_and_metrics(page: Any, world: World) -> None:
    sign_in(page, world.url, world.key_file(OPERATOR))
    assert nav_groups(page) == ["operator"]
    go(page, "/operator/participants")
    assert len(column(page, "#participants", "id")) == 10
    go(page, "/operator/keys")
    page.get_by_label("Participant").select_option(EXPORTER)
    page.wait_for_selector(f"caption >> text=Keys of {EXPORTER}")
    ring = load_keyring(world.key_file(EXPORTER))
    assert ring.signing[-1].key_id in page.inner_text("#keys")
    go(page, "/operator/health")
    assert "silkgate_http_requests_total" in page.inner_text("#metrics")


def test_a_forged_key_gets_nothing(page: Any, world: World, tmp_path: Path) -> None:
    """A key file naming the regulator, with a key the hub never registered."""
    from datetime import UTC, datetime

    forged = tmp_path / "forged.json"
    forged.write_bytes(keyring_to_json(create_keyring(REGULATOR, datetime.now(UTC))))
    open_console(page, world.url, "/sign-in")
    page.get_by_label("Participant key file").set_input_files(str(forged))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("#sign-in-status >> text=Not signed in")
    assert "refused" in page.inner_text("#sign-in-status")
    assert page.locator("#sign-out").count() == 0
    assert nav_groups(page) == []
    # Its signed requests are refused outright, whatever they ask for.
    page.evaluate(
        """async (text) => {
          const { importKeyFile } = await import('/console/js/keys.js');
          const { setIdentity } = await import('/console/js/api.js');
          setIdentity({ ...(await importKeyFile(text)), roles: ['regulator'] });
        }""",
        forged.read_text(),
    )
    for path in ("/v1/holds", "/v1/whoami", "/v1/batches", "/v1/sandbox/cohorts"):
        assert call(page, path)["status"] == 401, path


def test_a_remembered_key_survives_a_reload_and_stays_non_extractable(
    page: Any, world: World
) -> None:
    sign_in(page, world.url, world.key_file(IMPORTER), remember=True)
    page.reload()
    page.wait_for_selector("html[data-ready='true']")
    assert page.inner_text("#who").startswith(IMPORTER)
    stored = page.evaluate(
        """async () => {
          const { recallIdentity } = await import('/console/js/keys.js');
          const id = await recallIdentity();
          let exported = 'exported';
          try { await crypto.subtle.exportKey('jwk', id.key); } catch (e) { exported = e.name; }
          return { keys: Object.keys(id).sort(), extractable: id.key.extractable, exported };
        }"""
    )
    assert stored == {
        "keys": ["key", "keyId", "participant", "publicKey"],
        "extractable": False,
        "exported": "InvalidAccessError",
    }
    page.click("#sign-out")
    page.wait_for_selector("#who a[href='#/sign-in']")  # shown once the key is forgotten
    page.reload()
    page.wait_for_selector("html[data-ready='true']")
    assert page.locator("#sign-out").count() == 0


# --- what each does ---------------------------------------------------------------------------


def test_a_regulator_releases_a_hold_and_its_leaf_verifies_with_the_regulators_key(
    page: Any, world: World
) -> None:
    sign_in(page, world.url, world.key_file(REGULATOR))
    go(page, "/regulator/holds")
    with world.client(REGULATOR) as sdk:
        held = sdk.holds()
    assert held, "the demo traffic left held batches"
    target = held[0].envelope_id
    row = page.locator(f".decide[data-envelope='{target}']")
    reason = "Standard contract filing GX-SC-2026-0099 seen by the authority"
    row.get_by_role("textbox").fill(reason)
    row.get_by_role("button", name="Release").click()
    page.wait_for_selector(f"#hold-result >> text=Released {target}")
    text = page.inner_text("#hold-result")
    index = int(text.rsplit("ledger entry ", 1)[1].rstrip("."))
    wait_idle(page)
    assert page.locator(f".decide[data-envelope='{target}']").count() == 0
    # The leaf carries the regulator's signature over the release; it verifies with the
    # regulator's public key, and its bundle against the log key.
    with world.client(REGULATOR) as sdk:
        bundle = sdk.proof_bundle(index)
        log_key = sdk.hub_identity().log_key
    verify_bundle(bundle, None, log_key)
    leaf = decode_leaf(bundle.entry)
    assert isinstance(leaf, HoldReleaseLeaf) and leaf.by == REGULATOR and leaf.envelope_id == target
    ring = load_keyring(world.key_file(REGULATOR))
    assert leaf.key_id == ring.signing[-1].key_id
    regulator_key = ed25519_public_from_bytes(ring.signing[-1].public)
    verify_hold_leaf(leaf, reason, regulator=regulator_key)
    with pytest.raises(Exception, match=r"(?i)signature|verif"):
        verify_hold_leaf(leaf, reason + "!", regulator=regulator_key)


def test_a_regulator_suspends_a_cohort_with_the_kill_switch(page: Any, world: World) -> None:
    sign_in(page, world.url, world.key_file(REGULATOR))
    go(page, "/regulator/sandbox")
    assert "shadow" in page.inner_text("#policies")
    assert "cn@2026.1-trial" in page.inner_text("#shadow")
    row = page.locator(f".decide[data-cohort='{COHORT}']")
    row.get_by_role("textbox").fill("cap review")
    row.get_by_role("button", name="Suspend").click()
    page.wait_for_selector(f"#sandbox-result >> text=Experiment {COHORT} suspended")
    wait_idle(page)
    assert "suspended" in page.inner_text("#cohorts")
    with world.client(REGULATOR) as sdk:
        report = sdk.cohort_report(COHORT)
    assert report["state"] == "suspended" and report["reason"] == "cap review"
    assert report["incidents"][-1]["kind"] == "kill_switch"


def test_an_exporter_uploads_a_dry_run_and_gets_the_sdks_decision(
    page: Any, world: World, tmp_path: Path
) -> None:
    records = [r.record for r in generate(120, seed=5) if r.product == "customs.declaration"]
    assert records
    upload = tmp_path / "declarations.jsonl"
    upload.write_bytes(b"\n".join(orjson.dumps(r) for r in records) + b"\n")
    sign_in(page, world.url, world.key_file(EXPORTER))
    go(page, "/exporter/dry-run")
    page.get_by_label("Importer").select_option(IMPORTER)
    page.get_by_label("Records file").set_input_files(str(upload))
    before = world.hub.store.ledger_size()
    page.get_by_role("button", name="Check what sending would decide").click()
    page.wait_for_selector("#dry-outcomes")
    shown = page.inner_text("#dry-outcomes")
    with world.client(EXPORTER) as sdk:
        expected = sdk.dry_run(
            IMPORTER, "customs.declaration", records, purpose="customs_clearance"
        )
    assert shown.startswith(f"{len(records)} records")
    for outcome, count in expected.outcomes.items():
        label = {"allow_transformed": "allow (transformed)"}.get(outcome, outcome)
        if count:
            assert f"{label} {count}" in shown
    assert len(page.locator("#dry-decisions tbody tr").all()) == len(records)
    assert world.hub.store.ledger_size() == before  # nothing committed


def test_a_proof_bundle_downloaded_by_an_exporter_verifies_on_the_public_page(
    page: Any, world: World, tmp_path: Path
) -> None:
    sign_in(page, world.url, world.key_file(EXPORTER))
    go(page, "/exporter/receipts")
    page.locator("#delivered button").first.click()
    page.wait_for_selector("#download-batch-bundle")
    with page.expect_download() as download:
        page.click("#download-batch-bundle")
    saved = tmp_path / "bundle.json"
    download.value.save_as(saved)
    bundle = json.loads(saved.read_text())
    assert bundle["format"] == "silkgate-proof-bundle/v1"
    # Anyone, signed out, checks it on the public page.
    page.click("#sign-out")
    go(page, "/")
    page.wait_for_selector("#checkpoint-size")
    page.get_by_label("Or choose a bundle file").set_input_files(str(saved))
    page.wait_for_function("() => document.querySelector('#bundle-text').value.length > 0")
    page.click("#bundle-verify")
    page.wait_for_selector("#bundle-result >> text=Verified")
    assert f"entry {bundle['index']:,}" in page.inner_text("#bundle-result")
    # One byte of the entry changed: refused, saying why.
    entry = bytearray(base64.b64decode(bundle["entry"]))
    entry[5] ^= 0x20
    tampered = {**bundle, "entry": base64.b64encode(bytes(entry)).decode()}
    page.fill("#bundle-text", json.dumps(tampered))
    page.click("#bundle-verify")
    page.wait_for_selector("#bundle-result >> text=Refused")
    assert "altered" in page.inner_text("#bundle-result")
    del tampered["leaf_hash"]
    page.fill("#bundle-text", json.dumps(tampered))
    page.click("#bundle-verify")
    page.wait_for_selector("#bundle-result >> text=does not lead to the root")


def test_the_public_page_verifies_the_checkpoint_in_the_browser(page: Any, world: World) -> None:
    open_console(page, world.url)
    assert "Signature verified in this browser" in page.inner_text("main")
    with world.client(REGULATOR) as sdk:
        hub = sdk.hub_identity()
    assert hub.log_key in page.inner_text("#hub-identity")
    size = int(page.inner_text("#checkpoint-size").replace(",", ""))
    assert size > 0


def test_the_corridor_chart_shows_the_traffic_the_hub_committed(page: Any, world: World) -> None:
    """The chart's numbers (its data table) equal the records per corridor and outcome
    counted here from every committed batch."""
    sign_in(page, world.url, world.key_file(REGULATOR))
    go(page, "/regulator/overview")
    figure = page.locator("figure.chart", has_text="Records by corridor and outcome")
    figure.locator("summary").click()
    rows = figure.locator("tbody tr").all()
    shown = {}
    for row in rows:
        cells = [c.strip() for c in row.locator("th, td").all_inner_texts()]
        shown[cells[0]] = [int(c.replace(",", "")) for c in cells[1:]]
    jurisdiction = {p.id: p.jurisdiction for p in world.hub.store.list_participants()}
    expected: dict[str, list[int]] = {}
    outcomes = ["allow", "allow_transformed", "hold", "deny"]
    for batch in world.hub.store.list_batch_results(limit=100_000):
        corridor = f"{jurisdiction[batch.exporter]}→{jurisdiction[batch.importer]}"
        counts = expected.setdefault(corridor, [0, 0, 0, 0, 0])
        for i, outcome in enumerate(outcomes):
            counts[i] += batch.outcomes.get(outcome, 0)
            counts[4] += batch.outcomes.get(outcome, 0)
    assert shown == expected
    # The rules chart and the public ledger-size chart are drawn from the hub's aggregates.
    assert page.locator("figure.chart", has_text="Rules fired most often").count() == 1
    go(page, "/")
    assert page.locator("figure.chart", has_text="Ledger entries over time").count() == 1


def test_the_public_page_verifies_witness_cosignatures_in_the_browser(
    page: Any, world: World
) -> None:
    size = cosign_latest(world)
    open_console(page, world.url)
    assert int(page.inner_text("#checkpoint-size").replace(",", "")) == size
    rows = page.locator("#witnesses tbody tr").all()
    cells = [[c.strip() for c in r.locator("th, td").all_inner_texts()] for r in rows]
    assert [(c[0], c[3]) for c in cells] == [(WITNESS, "verified in this browser")]
    # The same line with its signature zeroed, stored as the hub's checkpoint: shown, and
    # said not to verify.
    note = parse_note(world.hub.store.get_checkpoint(size).decode())
    forged = [
        replace(s, signature=s.signature[:8] + bytes(64)) if s.name == WITNESS else s
        for s in note.signatures
    ]
    world.hub.store.put_checkpoint(size, replace(note, signatures=tuple(forged)).render().encode())
    try:
        page.reload()
        page.wait_for_selector("html[data-ready='true']")
        wait_idle(page)
        status = page.inner_text("#witnesses tbody tr td:nth-child(4)")
        assert status.startswith("does not verify")
    finally:
        world.hub.store.put_checkpoint(size, note.render().encode())


def test_a_device_clock_an_hour_off_still_signs_in(page: Any, world: World) -> None:
    """Signatures carry the device's time; the hub refuses one over 300 s old. The console
    learns the hub's time from its Date header and signs with it."""
    import time

    page.clock.install(time=time.time() - 3600)
    open_console(page, world.url, "/sign-in")
    page.get_by_label("Participant key file").set_input_files(str(world.key_file(EXPORTER)))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("#sign-out")
    assert page.inner_text("#who").startswith(EXPORTER)


def test_the_operator_rotates_and_revokes_keys(page: Any, world: World, tmp_path: Path) -> None:
    """Rotation: the participant made new keys on its own machine and handed over the public
    halves; the operator registers them and the new key signs. Revocation: the revoked key
    signs nothing any more."""
    from datetime import UTC, datetime

    from silkgate.client import SilkgateClient
    from silkgate.errors import AuthError
    from silkgate.seal.keys import hpke_public_bytes, rotate_keyring

    rotating, revoking = "th-bangkok-market", "id-jakarta-market"
    sign_in(page, world.url, world.key_file(OPERATOR))
    go(page, "/operator/keys")
    old = load_keyring(world.key_file(rotating))
    new = rotate_keyring(old, datetime.now(UTC))
    _, signing = new.current_signing(datetime.now(UTC))
    _, hpke = new.current_hpke(datetime.now(UTC))
    page.get_by_label("Participant").select_option(rotating)
    page.wait_for_selector(f"caption >> text=Keys of {rotating}")
    page.fill("#rotate-signing", base64.b64encode(signing.public_key().public_bytes_raw()).decode())
    page.fill("#rotate-hpke", base64.b64encode(hpke_public_bytes(hpke)).decode())
    page.get_by_role("button", name="Register").click()
    page.wait_for_selector(f"#keys-result >> text=Registered rotated keys for {rotating}")
    assert new.signing[-1].key_id in page.inner_text("#keys")
    with SilkgateClient(world.url, new) as rotated:
        assert rotated.whoami()["key_id"] == new.signing[-1].key_id

    victim = load_keyring(world.key_file(revoking)).signing[-1].key_id
    page.get_by_label("Participant").select_option(revoking)
    page.wait_for_selector(f"caption >> text=Keys of {revoking}")
    page.get_by_role("button", name=f"Revoke {victim}").click()
    page.wait_for_selector(f"#keys-result >> text=Revoked {victim} of {revoking}")
    with world.client(revoking) as revoked, pytest.raises(AuthError):
        revoked.whoami()


def test_a_regulator_proposes_retires_and_replays_a_version(page: Any, world: World) -> None:
    """Proposing and moving a version are signed in the browser over the same messages as
    the CLI's (the hub verifies them); a replay report shows the hub's numbers."""
    from sandbox.helpers import cn_variant

    version = "2026.9-console"
    text = cn_variant(version, pi_contract_from=50, parcel_products="[]")
    sign_in(page, world.url, world.key_file(REGULATOR))
    go(page, "/regulator/sandbox")
    page.get_by_text("Propose a new version").click()
    page.fill("#propose-yaml", text)
    page.get_by_role("button", name="Propose").click()
    page.wait_for_selector(f"#sandbox-result >> text=Proposed cn@{version} as a draft")
    page.get_by_role("button", name=f"Move cn@{version} to retired").click()
    page.wait_for_selector(f"#sandbox-result >> text=cn@{version} is now retired")
    with world.client(REGULATOR) as sdk:
        stored = next(p for p in sdk.policies() if p["version"] == version)
        replay = sdk.replay([cn_variant("2026.9-replay", pi_contract_from=50)])
    assert stored["state"] == "retired"
    assert [(h["to_state"], h["by"]) for h in stored["history"]] == [
        ("draft", REGULATOR),
        ("retired", REGULATOR),
    ]
    page.fill("#replay-yaml", cn_variant("2026.9-replay", pi_contract_from=50))
    page.get_by_role("button", name="Replay").click()
    page.wait_for_selector("#replay-summary")
    summary = page.inner_text("#replay-summary")
    assert summary.startswith(f"{replay['records']:,} records replayed, {replay['changed']:,}")
