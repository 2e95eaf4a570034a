"""Legal grounds declared by the flow (issue 12: TH s.28, MY s.129(3), SG reg. 10(2), VN's
dossier exemption, ID's interim practice), end to end through `silkgate check`: the
hub-less form with `--purpose`/`--instrument`/`--sector`, and against a hub, where the
ground is the agreement's and a batch cannot declare one its agreement does not have."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from silkgate.cli import app
from silkgate.hub import open_hub
from silkgate.policy import PolicyEngine
from silkgate.policy.cases import decide_given
from silkgate.policy.engine import shipped_pack_paths

from .helpers import STRICTNESS

runner = CliRunner()
RECORD = {"name": "Somchai Jaidee", "phone": "+66 81 234 5678", "email": "somchai@example.com"}


def check(*args: str) -> list[dict[str, Any]]:
    result = runner.invoke(app, ["check", *args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return [orjson.loads(line) for line in result.stdout.splitlines() if line.strip()]


def run(*args: str) -> Any:
    result = runner.invoke(app, [*args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return orjson.loads(result.stdout)


@pytest.fixture
def file(tmp_path: Path) -> Path:
    path = tmp_path / "records.ndjson"
    path.write_bytes(orjson.dumps(RECORD) + b"\n")
    return path


# (origin, flags, outcome, rules, duties, a warning's text): both sides of every edge.
HUBLESS = [
    # TH s.28(1) required by law / not declared / another ground that TH does not know
    ("TH", ("--purpose", "legal_obligation"), "allow", ["th.legal-obligation"],
     ["th.exception-record"], "s.28(1)"),
    ("TH", ("--purpose", "other"), "hold", ["th.hold"], [], None),
    ("TH", ("--purpose", "legal_claims"), "hold", ["th.hold"], [], None),
    # TH s.28(2) consent: informed of the destination's inadequate protection
    ("TH", ("--purpose", "other", "--instrument", "consent"), "allow", ["th.consent"],
     ["th.informed-consent"], None),
    # TH s.28(3) pre-contract steps; s.28(4) a contract in the data subject's interest
    ("TH", ("--purpose", "other", "--instrument", "contract_necessity"), "allow",
     ["th.contract"], [], None),
    ("TH", ("--purpose", "other", "--instrument", "third_party_contract"), "allow",
     ["th.third-party-contract"], ["th.exception-record"], "s.28(4)"),
    # TH s.28(6) substantial public interest
    ("TH", ("--purpose", "public_interest"), "allow", ["th.public-interest"],
     ["th.exception-record"], "s.28(6)"),
    # MY s.129(3)(c), (d), (h)
    ("MY", ("--purpose", "other", "--instrument", "third_party_contract"), "allow",
     ["my.third-party-contract"], ["my.ground-record"], None),
    ("MY", ("--purpose", "legal_claims"), "allow", ["my.legal-claims"], ["my.ground-record"],
     None),
    ("MY", ("--purpose", "legal_obligation"), "hold", ["my.hold"], [], None),
    ("MY", ("--purpose", "public_interest"), "hold", ["my.public-interest.undetermined"], [],
     "Minister has determined"),
    ("MY", ("--purpose", "public_interest", "--instrument", "consent"), "allow",
     ["my.consent"], [], None),
    # SG reg. 10(2)(b) and (e); a third-party contract is not a 2021 ground
    ("SG", ("--purpose", "other", "--instrument", "contract_necessity"), "allow",
     ["sg.contract-necessity"], [], None),
    ("SG", ("--purpose", "other", "--instrument", "publicly_available"), "allow",
     ["sg.publicly-available"], [], "publicly available in Singapore"),
    ("SG", ("--purpose", "other", "--instrument", "third_party_contract"), "hold",
     ["sg.hold"], [], None),
    ("SG", ("--purpose", "other", "--instrument", "consent"), "allow", ["sg.consent"],
     ["sg.consent-summary"], None),
    # VN: a competent state agency needs no dossier; a company does
    ("VN", ("--purpose", "other", "--sector", "state_agency", "--first-transfer-days", "200"),
     "allow", ["vn.tia.exempt.state-agency"], [], "competent state agency"),
    ("VN", ("--purpose", "other", "--sector", "logistics", "--first-transfer-days", "200"),
     "hold", ["vn.tia.hold"], [], None),
    # ID interim practice: a self-assessed equivalence is not relied on
    ("ID", ("--purpose", "other", "--filing", "transfer_impact_assessment"), "hold",
     ["id.equivalence.self-assessed"], [], "self-assessed equivalence"),
    ("ID", ("--purpose", "other", "--filing", "transfer_impact_assessment", "--instrument",
            "asean_mcc_c2c"), "allow", ["id.safeguards"], [], "implementing regulation"),
]  # fmt: skip


@pytest.mark.parametrize(("origin", "flags", "outcome", "rules", "duties", "warning"), HUBLESS)
def test_the_hubless_check_decides_each_declared_ground(
    file: Path,
    origin: str,
    flags: tuple[str, ...],
    outcome: str,
    rules: list[str],
    duties: list[str],
    warning: str | None,
) -> None:
    destination = "CN" if origin != "CN" else "VN"
    [line] = check(str(file), "--origin", origin, "--destination", destination,
                   "--product", "generic.json", *flags)  # fmt: skip
    assert (line["outcome"], line["rule_ids"]) == (outcome, rules)
    assert sorted(d["id"] for d in line["facts"].get("duties", [])) == sorted(duties)
    if warning is not None:
        assert any(warning in w for w in line["facts"]["warnings"]), line["facts"]["warnings"]
    assert line["citations"], "every decision cites its article"


@pytest.fixture
def hub(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    run("init", "--data-dir", str(d))
    for pid, jur, role in (("th-clinic", "TH", "exporter"), ("my-insurer", "MY", "exporter"),
                           ("cn-partner", "CN", "importer")):  # fmt: skip
        key = str(tmp_path / f"{pid}.key")
        run(*("participant", "add", "--id", pid, "--name", pid, "--jurisdiction", jur),
            *("--role", role, "--key-file", key, "--data-dir", str(d)))  # fmt: skip
    return d


def agreement(d: Path, exporter: str, purpose: str, instrument: str = "other") -> None:
    run(*("agreement", "add", "--exporter", exporter, "--importer", "cn-partner"),
        *("--product", "generic.json", "--purpose", purpose, "--instrument", instrument),
        *("--valid-from", "2026-01-01", "--data-dir", str(d)))  # fmt: skip


def flow(exporter: str, purpose: str) -> tuple[str, ...]:
    return ("--exporter", exporter, "--importer", "cn-partner", "--product", "generic.json",
            "--purpose", purpose)  # fmt: skip


def committed(d: Path) -> list[tuple[str, tuple[str, ...]]]:
    h = open_hub(d)
    try:
        results = sorted(h.store.list_batch_results(), key=lambda r: r.ledger_index or 0)
        return [(x.outcome, x.rule_ids) for r in results for x in r.decisions]
    finally:
        h.close()


def test_a_ground_is_the_agreements_and_check_equals_send(hub: Path, file: Path) -> None:
    d = str(hub)
    agreement(hub, "th-clinic", "other")
    # The batch cannot declare a ground its agreement does not have: deny by default.
    [line] = check(str(file), *flow("th-clinic", "legal_obligation"), "--data-dir", d)
    assert (line["outcome"], line["rule_ids"]) == ("deny", ["gate.no-agreement"])
    # Under the agreement as it is, no s.28 exception: held.
    [line] = check(str(file), *flow("th-clinic", "other"), "--data-dir", d)
    assert (line["outcome"], line["rule_ids"]) == ("hold", ["th.hold"])
    # An agreement for a transfer the law requires: allowed, with the record to keep.
    agreement(hub, "th-clinic", "legal_obligation")
    [line] = check(str(file), *flow("th-clinic", "legal_obligation"), "--data-dir", d)
    assert (line["outcome"], line["rule_ids"]) == ("allow", ["th.legal-obligation"])
    assert [x["id"] for x in line["facts"]["duties"]] == ["th.exception-record"]
    assert committed(hub) == []  # the dry runs wrote nothing
    run("send", str(file), *flow("th-clinic", "legal_obligation"), "--data-dir", d)
    assert committed(hub) == [("allow", ("th.legal-obligation",))]


def test_malaysian_grounds_against_a_hub(hub: Path, file: Path) -> None:
    d = str(hub)
    agreement(hub, "my-insurer", "legal_claims")
    agreement(hub, "my-insurer", "public_interest")
    agreement(hub, "my-insurer", "other", "third_party_contract")
    expected = {
        "legal_claims": ("allow", ["my.legal-claims"]),
        "public_interest": ("hold", ["my.public-interest.undetermined"]),
        "other": ("allow", ["my.third-party-contract"]),
    }
    for purpose, want in expected.items():
        [line] = check(str(file), *flow("my-insurer", purpose), "--data-dir", d)
        assert (line["outcome"], line["rule_ids"]) == want, purpose
        run("send", str(file), *flow("my-insurer", purpose), "--data-dir", d)
    assert committed(hub) == [(o, tuple(r)) for o, r in expected.values()]


def engine_with(tmp_path: Path, pack_id: str, old: str, new: str) -> PolicyEngine:
    """The shipped packs with one pack's text changed (a regulator's edit)."""
    paths = []
    for path in shipped_pack_paths():
        if path.stem == pack_id:
            text = path.read_text(encoding="utf-8")
            assert text.count(old) == 1, old
            path = tmp_path / path.name
            path.write_text(text.replace(old, new), encoding="utf-8")
        paths.append(path)
    return PolicyEngine.from_paths(paths, overlays=())


def test_a_ministerial_determination_lets_public_interest_through(tmp_path: Path) -> None:
    given = {"purpose": "public_interest", "types": ["person_name", "email"],
             "destination": "CN"}  # fmt: skip
    shipped, _ = decide_given(PolicyEngine.default(), "MY", given)
    assert (shipped.outcome, shipped.rule_ids) == ("hold", ("my.public-interest.undetermined",))
    edited = engine_with(tmp_path, "my", "ministerial_public_interest_purposes: []",
                         "ministerial_public_interest_purposes: [public_interest]")  # fmt: skip
    decision, _ = decide_given(edited, "MY", given)
    assert (decision.outcome, decision.rule_ids) == ("allow", ("my.public-interest",))
    assert [d["id"] for d in decision.facts["duties"]] == ["my.ground-record"]
    # The determination covers the purposes listed, not other ones.
    other, _ = decide_given(edited, "MY", {**given, "purpose": "legal_obligation"})
    assert (other.outcome, other.rule_ids) == ("hold", ("my.hold",))


def test_a_state_agency_still_needs_the_data_laws_procedure_for_important_data(
    tmp_path: Path,
) -> None:
    edited = engine_with(
        tmp_path, "vn", "important_data: []",
        "important_data:\n  - {product: generic.json, path: \"$['core']\"}",
    )  # fmt: skip
    given = {"sector": "state_agency", "types": ["person_name"], "first_transfer_days": 200,
             "destination": "CN", "product": "generic.json"}  # fmt: skip
    plain, _ = decide_given(edited, "VN", given)
    assert (plain.outcome, plain.rule_ids) == ("allow", ("vn.tia.exempt.state-agency",))
    important, _ = decide_given(edited, "VN", {**given, "paths": ["$['core']"]})
    assert (important.outcome, important.rule_ids) == ("hold", ("vn.important.hold",))


NEW_PURPOSES = ("legal_obligation", "legal_claims", "public_interest")
NEW_INSTRUMENTS = ("third_party_contract", "publicly_available")
# Which pack knows which of the new grounds; everywhere else they must change nothing.
KNOWN = {
    "TH": {"legal_obligation", "public_interest", "third_party_contract"},
    "MY": {"legal_claims", "third_party_contract"},  # public_interest: held, never laxer
    "SG": {"publicly_available"},
}


@pytest.mark.parametrize("origin", sorted(PolicyEngine.default().chains))
def test_a_ground_a_pack_does_not_know_changes_nothing(origin: str) -> None:
    engine = PolicyEngine.default()
    for types in (["person_name", "phone"], ["person_name", "health"], ["national_id"]):
        for pi_before in (0, 99_999, 2_000_000):
            base = {"types": types, "pi_before": pi_before, "destination": "CN",
                    "product": "generic.json", "first_transfer_days": 200}  # fmt: skip
            if origin == "CN":
                base["destination"] = "VN"
            plain, _ = decide_given(engine, origin, {**base, "purpose": "other"})
            for purpose in NEW_PURPOSES:
                if purpose in KNOWN.get(origin, ()):
                    continue
                d, _ = decide_given(engine, origin, {**base, "purpose": purpose})
                assert STRICTNESS[d.outcome] >= STRICTNESS[plain.outcome], (purpose, d.rule_ids)
                if origin != "MY" or purpose != "public_interest":
                    assert d.rule_ids == plain.rule_ids, (origin, purpose)
            for instrument in NEW_INSTRUMENTS:
                if instrument in KNOWN.get(origin, ()):
                    continue
                d, _ = decide_given(engine, origin, {**base, "purpose": "other",
                                                     "instrument": instrument})  # fmt: skip
                assert (d.outcome, d.rule_ids) == (plain.outcome, plain.rule_ids), instrument
