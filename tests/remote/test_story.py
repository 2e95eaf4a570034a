"""Issue 14's story across machines' worth of separation. A hub in one data directory, run
by its operator with `silkgate serve`; an exporter, an importer and a regulator, each in
its own directory with only the key file it made there with `silkgate keygen`, registered
by the operator from the public parts alone. The exporter sends over --hub and sees its
batch held and why; the regulator lists the hold and releases it over --hub, signed with
its key (the ledger leaf verifies against its public key); the importer pulls the data over
--hub. Nobody but the operator ever touches the hub's directory."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from api.test_serve_e2e import serving
from holds.helpers import declarations

from silkgate.flow.holds import verify_hold_leaf
from silkgate.ledger.bundle import ProofBundle, verify_bundle
from silkgate.ledger.leaves import HoldReleaseLeaf, decode_leaf
from silkgate.registry.keys import read_public_document
from silkgate.seal.keys import ed25519_public_from_bytes

SILKGATE = (sys.executable, "-c", "from silkgate.cli import main; main()")  # the console script
EXPORTER, IMPORTER, REGULATOR = "cn-pingxiang-broker", "my-kl-logistics", "gx-data-authority"
PRODUCT, PURPOSE = "customs.declaration", "customs_clearance"
ENV = {k: v for k, v in os.environ.items() if not k.startswith("SILKGATE_")} | {"NO_COLOR": "1"}


def run(*args: str, cwd: Path, ok: bool = True) -> subprocess.CompletedProcess[bytes]:
    """The CLI as a user runs it, in `cwd` (that user's machine)."""
    done = subprocess.run([*SILKGATE, *args], cwd=cwd, capture_output=True, timeout=180, env=ENV)
    if ok:
        assert done.returncode == 0, (args, done.stderr.decode())
    return done


def out(*args: str, cwd: Path) -> Any:
    """Run with --json; the JSON it printed."""
    return orjson.loads(run(*args, "--json", cwd=cwd).stdout)


def said(done: subprocess.CompletedProcess[bytes]) -> str:
    """What a failed command told its user on stderr, unwrapped."""
    return " ".join(done.stderr.decode().split())


@dataclass
class Machines:
    url: str
    hub: Path  # the operator's machine: the hub's data directory is hub/data
    exporter: Path
    importer: Path
    regulator: Path


def keygen(machine: Path, pid: str) -> Path:
    """On the participant's own machine: its key file, and the public part it hands over."""
    machine.mkdir()
    run("keygen", "--id", pid, "--out", "key.json", "--public-out", "public.json", cwd=machine)
    assert (machine / "key.json").stat().st_mode & 0o777 == 0o600
    return machine / "public.json"


@pytest.fixture
def machines(tmp_path: Path) -> Iterator[Machines]:
    hub = tmp_path / "operator"
    hub.mkdir()
    run("init", "--data-dir", "data", cwd=hub)
    parties = {
        "exporter": (EXPORTER, "CN", "exporter"),
        "importer": (IMPORTER, "MY", "importer"),
        "regulator": (REGULATOR, "CN", "regulator"),
    }
    for machine, (pid, country, role) in parties.items():
        public = keygen(tmp_path / machine, pid)
        handed = hub / f"{pid}.public.json"  # e-mailed to the operator: public keys only
        handed.write_bytes(public.read_bytes())
        run(
            "participant", "add", "--id", pid, "--name", pid, "--jurisdiction", country,
            "--role", role, "--public-key-file", handed.name, "--data-dir", "data", cwd=hub,
        )  # fmt: skip
    run(
        "agreement", "add", "--exporter", EXPORTER, "--importer", IMPORTER, "--product",
        PRODUCT, "--purpose", PURPOSE, "--instrument", "cn_standard_contract",
        "--data-dir", "data", cwd=hub,
    )  # fmt: skip
    with (
        (hub / "serve.log").open("wb") as log,
        serving(Path("data"), cwd=hub, stderr=log, env=ENV) as url,
    ):
        yield Machines(
            url, hub, tmp_path / "exporter", tmp_path / "importer", tmp_path / "regulator"
        )


def remote(m: Machines) -> list[str]:
    return ["--hub", m.url, "--key-file", "key.json"]


def test_every_participant_works_from_its_own_machine(machines: Machines) -> None:
    m = machines
    records = declarations("MY", 3)
    (m.exporter / "declarations.ndjson").write_bytes(
        b"".join(orjson.dumps(r) + b"\n" for r in records)
    )

    # The exporter sends over --hub: held, since no standard contract is on file for MY.
    run(
        "send", "declarations.ndjson", *remote(m), "--importer", IMPORTER, "--product",
        PRODUCT, "--purpose", PURPOSE, cwd=m.exporter,
    )  # fmt: skip
    [mine] = out("holds", "list", *remote(m), cwd=m.exporter)["holds"]
    assert mine["exporter"] == EXPORTER and mine["records"] == 3
    [reason] = mine["reasons"]
    assert "cn.art8.sensitive" in reason["rule_ids"] and "standard_contract" in reason["requires"]
    assert any("Art. 8" in c for c in reason["citations"])
    shown = run("holds", "show", mine["envelope_id"], *remote(m), cwd=m.exporter).stdout.decode()
    assert mine["envelope_id"] in shown and "standard_contract" in shown  # readable, whole id

    # Re-checking from its machine changes nothing: no contract is on file yet.
    recheck = out("holds", "recheck", *remote(m), cwd=m.exporter)
    assert (recheck["checked"], recheck["released"]) == (1, 0)
    assert "cn.art8.sensitive" in recheck["items"][0]["reason"]

    # The exporter cannot release its own hold, nor can the importer see it.
    envelope = mine["envelope_id"]
    refused = run("holds", "release", envelope, "--reason", "mine", *remote(m),
                  cwd=m.exporter, ok=False)  # fmt: skip
    assert refused.returncode == 1 and "may not" in said(refused)
    assert run("holds", "list", *remote(m), cwd=m.importer, ok=False).returncode == 1

    # The regulator checks the exporter's counters (held people are not counted yet) ...
    assert sensitive(out("counters", "--exporter", EXPORTER, *remote(m), cwd=m.regulator)) == (
        0, 10_000, 10_000,
    )  # fmt: skip
    # ... lists the hold and releases it, signed with its own key.
    [listed] = out("holds", "list", *remote(m), cwd=m.regulator)["holds"]
    assert listed["envelope_id"] == envelope
    action = out("holds", "release", envelope, "--reason", "contract filed on paper",
                 *remote(m), cwd=m.regulator)  # fmt: skip
    assert action["action"] == "released" and action["by"] == REGULATOR
    assert out("holds", "list", *remote(m), cwd=m.regulator) == {"holds": []}
    after = out("counters", "--exporter", EXPORTER, *remote(m), cwd=m.regulator)
    assert sensitive(after) == (3, 10_000, 9_997)  # counted on release

    # The ledger leaf carries the regulator's signature; it verifies with its public key
    # (as the regulator published it), inside a bundle that verifies against the log key.
    bundle_text = run("ledger", "prove", "--index", str(action["ledger_index"]), *remote(m),
                      cwd=m.regulator).stdout  # fmt: skip
    bundle = ProofBundle.from_json(bundle_text)
    log_key = httpx.get(f"{m.url}/v1/hub").json()["log_key"]
    verify_bundle(bundle, None, log_key)
    leaf = decode_leaf(bundle.entry)
    assert isinstance(leaf, HoldReleaseLeaf) and leaf.by == REGULATOR and leaf.signature
    published = read_public_document(m.regulator / "public.json")
    assert leaf.key_id == published.signing_key_id
    regulator_key = ed25519_public_from_bytes(published.signing_key)
    verify_hold_leaf(leaf, action["reason"], regulator=regulator_key)
    # An auditor on a machine of its own, given the bundle, the reason and the two public
    # keys, checks the inclusion and who released it and why with the CLI, offline.
    auditor = m.regulator.parent / "auditor"
    auditor.mkdir()
    (auditor / "bundle.json").write_bytes(bundle_text)
    audit = ("ledger", "verify", "--bundle", "bundle.json", "--key", log_key,
             "--regulator-key", base64.b64encode(published.signing_key).decode())  # fmt: skip
    checked = out(*audit, "--reason", action["reason"], cwd=auditor)
    assert checked["hold"]["by"] == REGULATOR and checked["hold"]["signature_ok"] is True
    reworded = run(*audit, "--reason", action["reason"] + "?", cwd=auditor, ok=False)
    assert reworded.returncode == 1 and "does not verify" in said(reworded)

    # The importer pulls it over --hub and opens every record.
    pulled = out("inbox", *remote(m), "--out", "received.ndjson", cwd=m.importer)
    assert pulled["envelopes"] == 1 and pulled["records"] == 3
    opened = [
        orjson.loads(line) for line in (m.importer / "received.ndjson").read_bytes().splitlines()
    ]
    assert len(opened) == 3
    for line in opened:  # provenance per record
        origin = line["_silkgate"]
        assert (origin["exporter"], origin["product"], origin["purpose"]) == (
            EXPORTER, PRODUCT, PURPOSE,
        )  # fmt: skip

    # Nobody but the operator touched the hub's directory: no participant has a data
    # directory, each holds only its own key file, and the hub holds no private key.
    for machine, pid in ((m.exporter, EXPORTER), (m.importer, IMPORTER), (m.regulator, REGULATOR)):
        assert not (machine / "silkgate-data").exists()
        assert read_public_document(machine / "public.json").participant == pid
        keys = [p for p in machine.rglob("*.json") if b'"signing"' in p.read_bytes()]
        assert keys == [machine / "key.json"]
    hub_files = [p for p in m.hub.rglob("*") if p.is_file()]
    for pid in (EXPORTER, IMPORTER, REGULATOR):
        private = (m.exporter.parent / _machine_of(pid) / "key.json").read_bytes()
        entry = orjson.loads(private)["signing"][0]
        secret = str(entry.get("private", ""))
        assert secret and not any(secret.encode() in p.read_bytes() for p in hub_files)


def _machine_of(pid: str) -> str:
    return {EXPORTER: "exporter", IMPORTER: "importer", REGULATOR: "regulator"}[pid]


def test_the_operator_works_over_the_hub_too(machines: Machines, tmp_path: Path) -> None:
    """An operator with its own key on its own laptop: registers a participant from its
    public keys, records a filing naming a recipient, sets attributes, lists; all signed."""
    m = machines
    laptop = tmp_path / "operator-laptop"
    public = keygen(laptop, "gx-info-port")
    run(
        "participant", "add", "--id", "gx-info-port", "--name", "GX Info Port",
        "--jurisdiction", "CN", "--role", "operator", "--public-key-file", str(public),
        "--data-dir", "data", cwd=m.hub,
    )  # fmt: skip
    newcomer = keygen(tmp_path / "newcomer", "th-bangkok-market")
    added = out(
        "participant", "add", "--id", "th-bangkok-market", "--name", "BKK Market",
        "--jurisdiction", "TH", "--role", "importer", "--public-key-file", str(newcomer),
        "--enterprise-size", "medium", *remote(m), cwd=laptop,
    )  # fmt: skip
    assert added["id"] == "th-bangkok-market" and added["enterprise_size"] == "medium"
    updated = out("participant", "update", "--id", "th-bangkok-market", "--corporate-group",
                  "bkk-group", *remote(m), cwd=laptop)  # fmt: skip
    assert updated["corporate_group"] == "bkk-group"
    no_recipient = run("filing", "add", "--exporter", EXPORTER, "--kind", "standard_contract",
                       *remote(m), cwd=laptop, ok=False)  # fmt: skip
    assert no_recipient.returncode == 1 and "named overseas recipient" in said(no_recipient)
    filing = out(
        "filing", "add", "--exporter", EXPORTER, "--kind", "standard_contract",
        "--recipient", IMPORTER, "--reference", "GX-SC-1", *remote(m), cwd=laptop,
    )  # fmt: skip
    assert filing["recipient"] == IMPORTER
    agreement = out(
        "agreement", "add", "--exporter", EXPORTER, "--importer", "th-bangkok-market",
        "--product", "ecommerce.order", "--purpose", "contract_performance",
        "--instrument", "contract_necessity", *remote(m), cwd=laptop,
    )  # fmt: skip
    listed = out("agreement", "list", "--importer", "th-bangkok-market", *remote(m), cwd=laptop)
    assert [a["id"] for a in listed] == [agreement["id"]]
    bad = run("agreement", "add", "--exporter", EXPORTER, "--importer", "th-bangkok-market",
              "--product", "ecommerce.order", "--purpose", "gossip", "--instrument",
              "contract_necessity", *remote(m), cwd=laptop, ok=False)  # fmt: skip
    assert bad.returncode == 1 and "unknown purpose 'gossip'" in said(bad)
    ids = {p["id"] for p in out("participant", "list", *remote(m), cwd=laptop)}
    assert {"th-bangkok-market", EXPORTER, REGULATOR} <= ids
    assert [f["id"] for f in out("filing", "list", *remote(m), cwd=laptop)] == [filing["id"]]
    # Without its key file, --hub refuses plainly (one line, no traceback).
    bare = run("participant", "list", "--hub", m.url, cwd=laptop, ok=False)
    assert bare.returncode == 1 and "--key-file" in said(bare)
    assert "Traceback" not in bare.stderr.decode()


def test_the_regulator_runs_the_sandbox_from_its_machine(machines: Machines) -> None:
    from sandbox.helpers import OVERLAY, TRIAL

    m = machines
    (m.regulator / "trial.yaml").write_text(TRIAL, encoding="utf-8")
    (m.regulator / "overlay.yaml").write_text(OVERLAY, encoding="utf-8")
    draft = out("sandbox", "policy", "propose", "trial.yaml", *remote(m), cwd=m.regulator)
    assert (draft["version"], draft["state"]) == ("2026.1-trial", "draft")
    moved = out("sandbox", "policy", "shadow", "cn@2026.1-trial", *remote(m), cwd=m.regulator)
    assert moved["state"] == "shadow"
    [listed] = out("sandbox", "policy", "list", *remote(m), cwd=m.regulator)
    assert listed["state"] == "shadow" and listed["changed_by"] == REGULATOR
    assert out("sandbox", "shadow", "report", *remote(m), cwd=m.regulator) == []
    replayed = out("sandbox", "replay", "--candidate", "trial.yaml", *remote(m), cwd=m.regulator)
    assert replayed["records"] == 0  # nothing decided yet on this hub
    made = out(
        "sandbox", "cohort", "create", "gx-trial", "--member", EXPORTER, "--overlay",
        "overlay.yaml", "--start", "2026-01-01T00:00:00Z", "--end", "2099-01-01T00:00:00Z",
        "--max-records", "10", *remote(m), cwd=m.regulator,
    )  # fmt: skip
    assert made["id"] == "gx-trial" and made["state"] == "active"
    stopped = out("sandbox", "cohort", "suspend", "gx-trial", "--reason", "done", *remote(m),
                  cwd=m.regulator)  # fmt: skip
    assert stopped["state"] == "suspended"
    assert [c["id"] for c in out("sandbox", "cohort", "list", *remote(m), cwd=m.regulator)] == [
        "gx-trial"
    ]
    report = out("sandbox", "cohort", "report", "gx-trial", *remote(m), cwd=m.regulator)
    assert report["incidents"][0]["kind"] == "kill_switch"
    # The exporter's key cannot act as the regulator.
    refused = run("sandbox", "cohort", "suspend", "gx-trial", *remote(m), cwd=m.exporter, ok=False)
    assert refused.returncode == 1 and "Traceback" not in said(refused)


def test_a_participant_rotates_and_revokes_its_own_keys_from_its_machine(
    machines: Machines,
) -> None:
    m = machines
    old = read_public_document(m.importer / "public.json").signing_key_id
    rotated = out("participant", "rotate-keys", "--id", IMPORTER, *remote(m), cwd=m.importer)
    new = rotated["signing_keys"][-1]["key_id"]
    assert new != old and [k["key_id"] for k in rotated["signing_keys"]] == [old, new]
    # Another participant may not touch the importer's keys.
    refused = run("participant", "revoke-key", "--id", IMPORTER, "--key-id", new, *remote(m),
                  cwd=m.exporter, ok=False)  # fmt: skip
    assert refused.returncode == 1 and "Traceback" not in said(refused)
    revoked = out("participant", "revoke-key", "--id", IMPORTER, "--key-id", old, *remote(m),
                  cwd=m.importer)  # fmt: skip
    assert revoked["signing_keys"][0]["revoked_at"]
    ring = orjson.loads((m.importer / "key.json").read_bytes())
    assert old in ring["revoked"]  # marked in its own key file too
    # The rotated key file keeps working against the hub.
    assert out("inbox", *remote(m), cwd=m.importer)["envelopes"] == 0
    [me] = out("participant", "list", *remote(m), cwd=m.importer)
    assert me["id"] == IMPORTER and me["signing_keys"][-1]["key_id"] == new


def sensitive(report: dict[str, Any]) -> tuple[int, int | None, int | None]:
    """(individuals, next threshold, how far) of the one exporter's sensitive PI."""
    [row] = report["counters"]
    [category] = [c for c in row["categories"] if c["category"] == "sensitive_pi"]
    return category["individuals"], category["next_threshold"], category["remaining"]
