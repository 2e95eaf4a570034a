"""`batches list|show`, `counters`, `product list|show`, `check`'s summary and `inbox --out`
with provenance, on a real data dir."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from pipeline.test_cli_flow import SEND_WAYBILLS, WAYBILL_AGREEMENT, run, write_ndjson
from typer.testing import CliRunner

from silkgate.cli import app
from silkgate.flow.thresholds import category_counter, counter_report
from silkgate.hub import open_hub
from silkgate.products import all_products, describe

runner = CliRunner()


def _send(hub_dir: Path, file: Path, *extra: str) -> dict[str, Any]:
    result = run("send", str(file), *SEND_WAYBILLS, "--data-dir", str(hub_dir), *extra)
    assert isinstance(result, dict)
    return result


# -- batches ----------------------------------------------------------------------------
def test_batches_list_and_show_by_prefix(hub_dir: Path, tmp_path: Path) -> None:
    file = tmp_path / "w.ndjson"
    write_ndjson(file, "logistics.waybill", "VN", 4)
    denied = _send(hub_dir, file)  # no agreement yet: the gate denies
    run(*WAYBILL_AGREEMENT, "--data-dir", str(hub_dir))
    allowed = _send(hub_dir, file, "--fresh")
    listed = run("batches", "list", "--data-dir", str(hub_dir))
    ids = [b["batch_id"] for b in listed["batches"]]
    assert set(ids) == {denied["batches"][0]["batch_id"], allowed["batches"][0]["batch_id"]}
    gate_id = denied["batches"][0]["batch_id"]
    shown = run("batches", "show", gate_id[:12], "--data-dir", str(hub_dir))
    assert shown["batch_id"] == gate_id and shown["gate_denied"] is True
    assert shown["reasons"]["deny"] == [
        "gate.no-agreement: No active agreement between exporter and importer (deny by default)"
    ]
    [rule] = shown["rules"]
    assert rule["records"] == 4 and rule["citations"] and rule["outcomes"] == {"deny": 4}
    assert shown["envelopes"] == [] and shown["ledger_index"] is not None
    ok = run("batches", "show", allowed["batches"][0]["batch_id"], "--data-dir", str(hub_dir))
    assert ok["gate_denied"] is False
    delivered = [e for e in ok["envelopes"] if e["part"] == "delivered"]
    assert [e["state"] for e in delivered] == ["pending"]
    for fired in ok["rules"]:  # titles and citations come from the pack
        assert fired["title"] != fired["rule_id"] and fired["citations"]
    # The text form prints whole ids even in a narrow terminal.
    text = runner.invoke(app, ["batches", "list", "--data-dir", str(hub_dir)], terminal_width=60)
    assert all(i in text.stdout for i in ids), text.stdout


def test_batches_show_refuses_an_ambiguous_or_unknown_prefix(hub_dir: Path, tmp_path: Path) -> None:
    file = tmp_path / "w.ndjson"
    write_ndjson(file, "logistics.waybill", "VN", 4)
    _send(hub_dir, file, "--batch-size", "1")
    for prefix, message in (("b", "4 batches"), ("nope", "no batch")):
        result = runner.invoke(app, ["batches", "show", prefix, "--data-dir", str(hub_dir)])
        assert result.exit_code != 0
        assert message in str(result.exception)


# -- counters ---------------------------------------------------------------------------
def test_counters_match_the_store_and_the_live_settings(hub_dir: Path, tmp_path: Path) -> None:
    run(*WAYBILL_AGREEMENT, "--data-dir", str(hub_dir))
    file = tmp_path / "orders.ndjson"
    write_ndjson(file, "logistics.waybill", "VN", 20)
    _send(hub_dir, file)
    report = run("counters", "--data-dir", str(hub_dir))
    hub = open_hub(hub_dir)
    try:
        settings = hub.live_engine().chains["CN"].settings
        year = hub.pipeline.clock().year
        [entry] = report["counters"]  # the one exporter; the importer is not listed
        assert entry["exporter"] == "cn-freight" and report["year"] == year
        for category in entry["categories"]:
            stored = hub.store.subject_count("cn-freight", year, category["category"])
            assert category["individuals"] == stored
            for threshold in category["thresholds"]:
                assert threshold["at"] == settings[threshold["setting"]]
    finally:
        hub.close()
    other_year = run("counters", "--year", "2001", "--exporter", "cn-freight", "--data-dir",
                     str(hub_dir))  # fmt: skip
    assert all(c["individuals"] == 0 for c in other_year["counters"][0]["categories"])


def test_next_threshold_and_distance() -> None:
    settings = {"pi_contract_from": 100_000, "pi_assessment_from": 1_000_000}
    below = category_counter("pi", 99_999, settings)
    assert (below.next_threshold, below.remaining) == (100_000, 1)
    at = category_counter("pi", 100_000, settings)  # "fewer than 100,000": 100,000 reaches it
    assert [t.reached for t in at.thresholds] == [True, False]
    assert (at.next_threshold, at.remaining) == (1_000_000, 900_000)
    over = category_counter("pi", 1_200_000, settings)
    assert (over.next_threshold, over.remaining) == (None, None)
    none = counter_report({}, {"x": {}}, 2026, ["x"])
    assert all(c.thresholds == [] for c in none.counters[0].categories)


# -- products ---------------------------------------------------------------------------
def test_product_list_and_show() -> None:
    listed = run("product", "list")
    assert [p["id"] for p in listed["products"]] == [p.id for p in all_products()]
    shown = run("product", "show", "logistics.waybill")
    assert shown["personal_data"]["$['consignee']['phone']"] == "phone"
    schema = shown["json_schema"]
    root = schema["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
    assert "waybill_no" in root["required"] and "consignee" in root["required"]
    unknown = runner.invoke(app, ["product", "show", "logistics.nope"])
    assert unknown.exit_code != 0 and "known:" in str(unknown.exception)


def _doc_examples() -> dict[str, dict[str, object]]:
    """`docs/products.md`: each product's example is the JSON block after its heading."""
    text = (Path(__file__).parents[2] / "docs" / "products.md").read_text("utf-8")
    examples: dict[str, dict[str, object]] = {}
    for section in text.split("\n## ")[1:]:
        product_id = section.split("\n", 1)[0].strip().strip("`")
        block = section.split("```json\n", 1)[1].split("```", 1)[0]
        examples[product_id] = orjson.loads(block)
    return examples


@pytest.mark.parametrize("product", all_products(), ids=lambda p: p.id)
def test_each_product_has_a_documented_example_that_validates(product: object) -> None:
    from silkgate.products import Product

    assert isinstance(product, Product)
    example = _doc_examples()[product.id]
    product.validate(example)  # raises SchemaError naming the path if it does not fit
    info = describe(product)
    if info.personal_data:  # the example shows where personal data goes
        assert any(isinstance(_at(example, path), str) for path in info.personal_data)


def _at(record: object, path: str) -> object:
    """The value at a normalized path without wildcards (None if absent)."""
    node = record
    for key in path.removeprefix("$['").removesuffix("']").split("']['"):
        node = node.get(key) if isinstance(node, dict) else None
    return node


# -- check ------------------------------------------------------------------------------
def test_check_prints_a_summary_and_details_on_demand(tmp_path: Path) -> None:
    file = tmp_path / "w.ndjson"
    write_ndjson(file, "logistics.waybill", "VN", 30)
    args = ["check", str(file), "--product", "logistics.waybill", "--origin", "CN",
            "--destination", "VN", "--purpose", "logistics_operations"]  # fmt: skip
    summary = runner.invoke(app, args, terminal_width=200)
    assert summary.exit_code == 0, summary.output
    assert "30 records: outcomes x rules" in summary.stdout
    assert "all records" in summary.stdout
    assert len(summary.stdout.splitlines()) < 30  # no line per record
    details = runner.invoke(app, [*args, "--details"], terminal_width=200)
    assert len(details.stdout.splitlines()) > 30
    lines = runner.invoke(app, [*args, "--json"]).stdout.splitlines()
    assert [orjson.loads(x)["index"] for x in lines] == list(range(30))


# -- inbox ------------------------------------------------------------------------------
def test_inbox_out_replaces_or_appends_with_provenance(hub_dir: Path, tmp_path: Path) -> None:
    run(*WAYBILL_AGREEMENT, "--data-dir", str(hub_dir))
    file = tmp_path / "w.ndjson"
    sent_records = write_ndjson(file, "logistics.waybill", "VN", 5)
    sent = _send(hub_dir, file)
    out = tmp_path / "in.ndjson"
    out.write_bytes(b'{"stale": true}\n')
    key = str(tmp_path / "vn-carrier.key")
    got = run("inbox", "--key-file", key, "--out", str(out), "--data-dir", str(hub_dir))
    lines = [orjson.loads(x) for x in out.read_bytes().splitlines()]
    assert len(lines) == got["records"] > 0 and "stale" not in lines[0]  # replaced
    batch = sent["batches"][0]
    for index, line in enumerate(lines):
        prov = line["_silkgate"]
        assert prov["batch"] == batch["batch_id"] and prov["envelope"] == batch["envelope_id"]
        assert (prov["exporter"], prov["product"], prov["purpose"]) == (
            "cn-freight", "logistics.waybill", "logistics_operations",
        )  # fmt: skip
        assert prov["index"] == index and prov["outcome"] in ("allow", "allow_transformed")
        assert isinstance(prov["obligations"], list)
    # the obligations recorded are the ones applied: the decisions of the delivered records
    delivered = [d for d in batch["decisions"] if d["outcome"] in ("allow", "allow_transformed")]
    assert [x["_silkgate"]["rules"] for x in lines] == [d["rule_ids"] for d in delivered]
    assert {x["waybill_no"] for x in lines} <= {r["waybill_no"] for r in sent_records}
    _send(hub_dir, file, "--fresh")
    run("inbox", "--key-file", key, "--out", str(out), "--append", "--data-dir", str(hub_dir))
    assert len(out.read_bytes().splitlines()) == 2 * len(lines)
