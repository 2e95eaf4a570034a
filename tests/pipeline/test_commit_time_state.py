"""A batch is decided with the state current when it commits, not when it was classified.

Each test commits one change through the real service (the sandbox lifecycle, the registry
service, the store for what no service offers: an agreement deactivated) in another thread
while a submitted batch waits between its classification and its transaction: the moment
where, before, the parties, the live engine and the decision context had already been read.
The committed result must then be what the dry run (`Pipeline.check`, the same path)
decides for the same batch after the change; the change must matter to that batch (the dry
run before it decides otherwise), and the ledger leaf, the stored result, the decision
facts and the envelopes must agree with the committed result. A participant deactivated or
an importer key revoked meanwhile gets the batch refused, with nothing committed.

Every test runs on the memory store, SQLite and PostgreSQL (a throwaway cluster: skipped
where PostgreSQL is not installed, a failure with CI=true).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from copy import deepcopy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from sandbox.helpers import World, cn_variant
from scale.servers import fresh_database

from silkgate.demo.runner import register_cast
from silkgate.demo.synth import generate
from silkgate.errors import InputError, NotFoundError, SilkgateError
from silkgate.flow.pipeline import StageTimings
from silkgate.hub import Hub, init_hub, open_hub
from silkgate.ledger.leaves import BatchLeaf, decode_leaf
from silkgate.model import OUTCOMES, Batch, BatchResult, Decision
from silkgate.policy.engine import PACKS_DIR
from silkgate.registry.service import LOCAL_OPERATOR, FilingRequest, RegistryService
from silkgate.sandbox.lifecycle import PolicyVersion, transition_message
from silkgate.sandbox.packs import engine_with, pack_from_text, text_digest
from silkgate.seal.envelope import read_header
from silkgate.seal.keys import hpke_key_id, hpke_public_bytes, new_hpke_key, new_signing_key

T0 = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
FREIGHT, BROKER = "cn-nanning-freight", "cn-pingxiang-broker"
VN, TH, MY = "vn-hanoi-carrier", "th-bangkok-market", "my-kl-logistics"
STORE_KINDS = ["memory", "sqlite", "postgres"]


class Clock:
    """The hub's clock: one microsecond per reading, moved on by a test."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(microseconds=1)
        return self.now


class AfterClassify(StageTimings):
    """Pipeline timings that, when a batch's classification ends (before its transaction),
    run what a test set in `meanwhile`, once."""

    def __init__(self) -> None:
        super().__init__()
        self.meanwhile: Callable[[], None] | None = None

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        with super().stage(name):
            yield
        if name == "classify" and self.meanwhile is not None:
            run, self.meanwhile = self.meanwhile, None
            run()


@dataclass
class Setup:
    world: World
    clock: Clock
    timings: AfterClassify

    @property
    def hub(self) -> Hub:
        return self.world.hub


@pytest.fixture(params=STORE_KINDS)
def h(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Setup]:
    data = tmp_path / "hub"
    init_hub(data)
    if request.param == "memory":
        (data / "silkgate.toml").write_text('store_url = "memory:"\n')
    elif request.param == "postgres":
        url = fresh_database(request.getfixturevalue("postgres_server"), "commit_state")
        (data / "silkgate.toml").write_text(f'store_url = "{url}"\n')
    clock = Clock()
    hub = open_hub(data, clock=clock)
    timings = AfterClassify()
    hub.pipeline.timings = timings
    register_cast(hub, tmp_path / "keys", T0.date())
    try:
        yield Setup(World(hub, clock, tmp_path / "keys"), clock, timings)  # type: ignore[arg-type]
    finally:
        hub.close()


# ----------------------------------------------------------------------------- helpers
def records(kind: str, destination: str, n: int, seed: int) -> list[Any]:
    out = [
        r.record for r in generate(n * 40, seed=seed, kinds=[kind]) if r.destination == destination
    ]
    assert len(out) >= n
    return out[:n]


def declarations(importer: str, n: int = 6) -> Batch:
    dest = {VN: "VN", TH: "TH", MY: "MY"}[importer]
    return Batch(id=f"b-decl-{dest}", exporter=BROKER, importer=importer,
                 product="customs.declaration", purpose="customs_clearance",
                 records=records("declaration", dest, n, seed=5))  # fmt: skip


def waybills(importer: str, n: int = 8, *, strategic: tuple[int, ...] = ()) -> Batch:
    dest = {VN: "VN", TH: "TH", MY: "MY"}[importer]
    recs = records("waybill", dest, n, seed=6)
    for i in strategic:  # a path the pilot zone's sample catalogue names (no finding there)
        recs[i] = {**deepcopy(recs[i]), "cargo": {"strategic_materials": "none"}}
    return Batch(id=f"b-wb-{dest}", exporter=FREIGHT, importer=importer,
                 product="logistics.waybill", purpose="logistics_operations",
                 records=recs)  # fmt: skip


def in_another_thread(change: Callable[[], object]) -> None:
    """Commit `change` from another thread (as a regulator's or operator's request would),
    and wait for it."""
    failed: list[BaseException] = []

    def run() -> None:
        try:
            change()
        except BaseException as exc:  # handed to the test's thread
            failed.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(60)
    assert not thread.is_alive()
    if failed:
        raise failed[0]


@dataclass
class Race:
    before: list[Decision]  # the dry run before the change
    after: list[Decision] | SilkgateError  # the dry run right after it (or its refusal)
    result: BatchResult | SilkgateError  # what submit did


def submit_across(h: Setup, batch: Batch, change: Callable[[], object]) -> Race:
    """Submit `batch`; `change` commits after its classification, before its transaction."""
    pipeline = h.hub.pipeline
    before = pipeline.check([batch])[0]
    after: list[list[Decision] | SilkgateError] = []

    def meanwhile() -> None:
        in_another_thread(change)
        try:
            after.append(pipeline.check([batch])[0])
        except SilkgateError as exc:
            after.append(exc)

    h.timings.meanwhile = meanwhile
    try:
        result: BatchResult | SilkgateError = pipeline.submit(batch)
    except SilkgateError as exc:
        result = exc
    assert h.timings.meanwhile is None, "the change did not run between classify and commit"
    return Race(before, after[0], result)


def outcomes(decisions: list[Decision] | tuple[Decision, ...]) -> list[str]:
    return [d.outcome for d in decisions]


def assert_decided_after_the_change(h: Setup, race: Race) -> BatchResult:
    """The committed result is the dry run's after the change, which differs from before;
    the stored result, the ledger leaf, the decision facts and the envelopes agree."""
    assert isinstance(race.result, BatchResult), race.result
    assert isinstance(race.after, list), race.after
    result = race.result
    assert outcomes(race.before) != outcomes(race.after), "the change must matter here"
    assert list(result.decisions) == race.after
    store = h.hub.store
    assert store.get_batch_result(result.batch_id) == result
    # The ledger leaf.
    assert result.ledger_index is not None
    leaf = decode_leaf(h.hub.log.entry(result.ledger_index))
    assert isinstance(leaf, BatchLeaf)
    counts = {o: outcomes(race.after).count(o) for o in OUTCOMES}
    assert leaf.batch_id == result.batch_id
    assert leaf.outcomes == counts == result.outcomes
    assert leaf.policy_version == result.policy_version
    assert leaf.time == result.committed_at
    assert leaf.tags == sorted({t for d in race.after for t in d.tags})
    # The decision facts: one per record, as decided.
    facts = sorted(
        (f for f in store.iter_facts(None, None) if f.batch_id == result.batch_id),
        key=lambda f: f.record,
    )
    assert [(f.outcome, f.rule_ids, f.policy_version, f.time) for f in facts] == [
        (d.outcome, d.rule_ids, d.policy_version, result.committed_at) for d in race.after
    ]
    # The envelopes: one for what may cross, one for what is held, none otherwise.
    mine = {
        e.id: e.state
        for e in store.list_envelopes(exporter=result.exporter, limit=1000)
        if e.batch_id == result.batch_id
    }
    wanted = {}
    if counts["allow"] + counts["allow_transformed"]:
        assert result.envelope_id is not None
        wanted[result.envelope_id] = "pending"
    if counts["hold"]:
        assert result.held_id is not None
        wanted[result.held_id] = "held"
    assert mine == wanted
    return result


@dataclass
class Committed:
    ledger_size: int
    subjects: Any
    facts: int
    envelopes: int


def committed(h: Setup) -> Committed:
    store = h.hub.store
    return Committed(
        store.ledger_size(),
        store.subject_counts(year=T0.year),
        sum(1 for _ in store.iter_facts(None, None)),
        len(store.list_envelopes(limit=10_000)),
    )


def assert_refused(h: Setup, batch: Batch, race: Race, was: Committed, message: str) -> None:
    """Refused as the dry run after the change refuses it (the same error), with nothing
    committed: no result, ledger leaf, counted subject, decision fact or envelope."""
    assert isinstance(race.result, InputError), race.result
    assert isinstance(race.after, InputError), race.after
    assert message in str(race.result)
    assert str(race.result) == str(race.after)
    assert committed(h) == was
    with pytest.raises(NotFoundError):
        h.hub.store.get_batch_result(batch.id)


# ----------------------------------------------------------------------------- the sandbox
def lifecycle_move(h: Setup, version: PolicyVersion, to: str) -> PolicyVersion:
    def message(by: str) -> bytes:
        return transition_message(
            version.pack_id, version.version, version.sha256, version.state, to, by
        )

    return h.world.sandbox.lifecycle.transition(
        version.pack_id, version.version, to, h.world.approve(message)
    )


def proposed(h: Setup, text: str) -> PolicyVersion:
    pack = pack_from_text(text, "test pack")
    digest = text_digest(text)
    approval = h.world.approve(
        lambda by: transition_message(pack.id, pack.version, digest, "", "draft", by)
    )
    return h.world.sandbox.lifecycle.propose(text, approval)


# Parcel waybills cross under the cn pack's parcel-delivery exemption (Art. 5(1)); this
# version has no parcel products and a standard-contract threshold of one individual, so
# each waybill crosses only anonymised (allow_transformed, cn.art8.pi.anonymise).
STRICT_CN = cn_variant("2026.9-strict", pi_contract_from=1, parcel_products="[]")


def pilot_zone_sample(version: str) -> str:
    """The shipped pilot-zone overlay (a path-only important-data catalogue) as a version
    the sandbox can activate."""
    text = (PACKS_DIR / "cn-pilot-zone-sample.yaml").read_text(encoding="utf-8")
    text, n = re.subn(r'(?m)^version: "[^"]*"', f'version: "{version}"', text)
    assert n == 1
    return text


def test_a_policy_version_activated_meanwhile_decides(h: Setup) -> None:
    shadow = lifecycle_move(h, proposed(h, STRICT_CN), "shadow")
    race = submit_across(h, waybills(MY), lambda: lifecycle_move(h, shadow, "active"))
    result = assert_decided_after_the_change(h, race)
    assert result.policy_version == h.hub.live_engine().version != h.hub.engine.version
    assert "cn.art5-1.parcel-delivery" in race.before[0].rule_ids
    assert all("cn.art8.pi.anonymise" in d.rule_ids for d in result.decisions)


def test_a_policy_version_retired_meanwhile_no_longer_decides(h: Setup) -> None:
    active = lifecycle_move(h, lifecycle_move(h, proposed(h, STRICT_CN), "shadow"), "active")
    race = submit_across(h, waybills(MY), lambda: lifecycle_move(h, active, "retired"))
    result = assert_decided_after_the_change(h, race)
    assert result.policy_version == h.hub.engine.version
    assert set(outcomes(race.before)) == {"allow_transformed"}
    assert all("cn.art5-1.parcel-delivery" in d.rule_ids for d in result.decisions)


def test_a_path_only_catalogue_entry_activated_meanwhile_is_looked_for(h: Setup) -> None:
    """The record inputs made before the transaction carry no catalogue paths (the engine
    then named none); the engine read inside it does, so they are made again."""
    shadow = lifecycle_move(h, proposed(h, pilot_zone_sample("9.9-test")), "shadow")
    batch = waybills(VN, strategic=(1, 4))
    race = submit_across(h, batch, lambda: lifecycle_move(h, shadow, "active"))
    result = assert_decided_after_the_change(h, race)
    held = [i for i, d in enumerate(result.decisions) if d.outcome == "hold"]
    assert held == [1, 4]
    assert all("cn.important.hold" in result.decisions[i].rule_ids for i in held)


def test_a_shadow_proposed_meanwhile_changes_nothing(h: Setup) -> None:
    """A lifecycle change that leaves the active versions as they were rebuilds the
    sandbox's engines (a new object, the same version): the batch decides as before."""
    race = submit_across(
        h, waybills(MY), lambda: lifecycle_move(h, proposed(h, STRICT_CN), "shadow")
    )
    assert isinstance(race.result, BatchResult)
    assert list(race.result.decisions) == race.before == race.after


# ----------------------------------------------------------------------------- the registry
def agreement_id(batch: Batch) -> str:
    return f"agr-{batch.exporter}-{batch.importer}-{batch.product}"


def put_agreement(h: Setup, batch: Batch, **changes: Any) -> None:
    store = h.hub.store
    with store.transaction():
        agreement = store.get_agreement(agreement_id(batch))
        store.put_agreement(msgspec.structs.replace(agreement, **changes))


def test_an_agreement_revoked_meanwhile_denies(h: Setup) -> None:
    batch = declarations(TH)
    race = submit_across(h, batch, lambda: put_agreement(h, batch, active=False))
    result = assert_decided_after_the_change(h, race)
    assert set(outcomes(result.decisions)) == {"deny"}


def test_an_agreement_that_expires_meanwhile_denies(h: Setup) -> None:
    """The agreement's last day is today; the batch commits after midnight."""
    batch = waybills(VN)
    RegistryService.for_hub(h.hub).end_agreement(
        agreement_id(batch), T0.date().isoformat(), "contract terminated", LOCAL_OPERATOR
    )

    def midnight() -> None:
        h.clock.now = datetime.combine(T0.date() + timedelta(days=1), datetime.min.time(), UTC)

    race = submit_across(h, batch, midnight)
    result = assert_decided_after_the_change(h, race)
    assert set(outcomes(result.decisions)) == {"deny"}
    assert result.committed_at.date() == T0.date() + timedelta(days=1)


def filing_id(batch: Batch) -> str:
    return f"fil-{batch.exporter}-{batch.importer}"


def test_a_filing_withdrawn_meanwhile_holds(h: Setup) -> None:
    batch = declarations(TH)
    registry = RegistryService.for_hub(h.hub)

    def withdraw() -> None:
        ended = T0.date() - timedelta(days=1)
        registry.withdraw_filing(filing_id(batch), ended.isoformat(), "withdrawn", LOCAL_OPERATOR)

    race = submit_across(h, batch, withdraw)
    result = assert_decided_after_the_change(h, race)
    assert set(outcomes(result.decisions)) == {"hold"}


def test_a_filing_recorded_meanwhile_allows(h: Setup) -> None:
    batch = declarations(MY)
    registry = RegistryService.for_hub(h.hub)
    request = FilingRequest(
        exporter=BROKER, kind="standard_contract", recipient=MY, reference="GX-SC-TEST"
    )
    race = submit_across(h, batch, lambda: registry.add_filing(request, LOCAL_OPERATOR))
    result = assert_decided_after_the_change(h, race)
    assert set(outcomes(race.before)) == {"hold"}
    assert set(outcomes(result.decisions)) == {"allow"}


# ----------------------------------------------------------------------------- an attacker's view
def update(h: Setup, participant: str, **changes: Any) -> None:
    RegistryService.for_hub(h.hub).update_participant(participant, changes, LOCAL_OPERATOR)


@pytest.mark.parametrize("who", [BROKER, TH])
def test_a_participant_deactivated_meanwhile_gets_nothing_committed(h: Setup, who: str) -> None:
    """An exporter (or importer) deactivated while its batch is classified (a key known to
    be stolen, a licence withdrawn) does not get the batch through."""
    batch = declarations(TH)
    was = committed(h)
    race = submit_across(h, batch, lambda: update(h, who, active=False))
    assert_refused(h, batch, race, was, f"participant {who!r} is deactivated")


def test_an_exporter_role_withdrawn_meanwhile_gets_nothing_committed(h: Setup) -> None:
    batch = declarations(TH)
    was = committed(h)
    race = submit_across(h, batch, lambda: update(h, BROKER, roles=["importer"]))
    assert_refused(h, batch, race, was, "is not registered as an exporter")


def test_an_importer_key_revoked_meanwhile_is_not_sealed_to(h: Setup) -> None:
    """The importer's only encryption key is revoked (compromised) while the batch is
    classified: nothing is sealed to it, and nothing is committed."""
    batch = declarations(TH)
    key_id = hpke_key_id(h.hub.store.get_participant(TH).hpke_key)
    registry = RegistryService.for_hub(h.hub)
    was = committed(h)
    race = submit_across(h, batch, lambda: registry.revoke_key(TH, key_id, LOCAL_OPERATOR))
    assert isinstance(race.result, InputError), race.result
    assert f"importer {TH} has no valid HPKE key" in str(race.result)
    assert committed(h) == was
    with pytest.raises(NotFoundError):
        h.hub.store.get_batch_result(batch.id)


def test_an_importer_key_rotated_meanwhile_is_the_one_sealed_to(h: Setup) -> None:
    batch = declarations(TH)
    old = h.hub.store.get_participant(TH).hpke_key
    new = hpke_public_bytes(new_hpke_key())
    signing = new_signing_key().public_key().public_bytes_raw()
    registry = RegistryService.for_hub(h.hub)

    def rotate_and_revoke() -> None:
        registry.rotate_keys(TH, signing, new, 0, LOCAL_OPERATOR)
        registry.revoke_key(TH, hpke_key_id(old), LOCAL_OPERATOR)

    race = submit_across(h, batch, rotate_and_revoke)
    assert isinstance(race.result, BatchResult), race.result
    assert list(race.result.decisions) == race.after == race.before
    assert race.result.envelope_id is not None
    envelope = h.hub.store.get_envelope(race.result.envelope_id)
    header = read_header(envelope.data, h.hub.envelope_public_keys())
    assert header.recipient_key == hpke_key_id(new) != hpke_key_id(old)


# ----------------------------------------------------------------------------- record inputs
def test_record_inputs_are_made_again_only_for_another_engine_version(h: Setup) -> None:
    """`inputs_at` reuses the inputs `prepare` made when the engine read at commit has the
    same version (even as another object: the sandbox rebuilds its engines whenever the
    lifecycle moves), and makes them again, with the paths the new engine names, when it
    has another version; or when the day is another (who is a child)."""
    decider = h.hub.pipeline.decider
    batch = waybills(VN, strategic=(2,))
    exporter, importer, product = decider.parties(
        batch.exporter, batch.importer, batch.product, batch.purpose
    )
    base = h.hub.engine
    prepared = decider.prepare(base, exporter, product, batch.records, T0.date())
    assert all(not i.paths for i in prepared.inputs)

    def ctx_on(day: Any) -> Any:
        return decider.context(exporter, importer, product.id, batch.purpose, day)

    same = engine_with(base, [base.packs["cn"]])
    assert same is not base and same.version == base.version
    assert decider.inputs_at(same, ctx_on(T0.date()), prepared) is prepared.inputs

    overlay = pack_from_text(pilot_zone_sample("9.9-test"), "overlay")
    other = engine_with(base, [overlay])
    again = decider.inputs_at(other, ctx_on(T0.date()), prepared)
    assert again is not prepared.inputs
    assert again == decider.inputs(other, ctx_on(T0.date()), batch.records, prepared.classified)
    assert [bool(i.paths) for i in again] == [i == 2 for i in range(len(batch.records))]

    tomorrow = T0.date() + timedelta(days=1)
    remade = decider.inputs_at(base, ctx_on(tomorrow), prepared)
    assert remade is not prepared.inputs
    assert remade == decider.inputs(base, ctx_on(tomorrow), batch.records, prepared.classified)
