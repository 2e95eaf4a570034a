"""Sharp edges: --version, JSON errors, serve on a directory that is not a hub's, the
OpenAPI document, `witness add-checkpoint --hub <hub URL>`, the SDK's purpose and gate
warning, retries of transient failures."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from api.cast import NOW, PRODUCT, PURPOSE, Env, serve_cast, waybill
from ledger.helpers import fixed_clock, key

import silkgate
from silkgate._native import STATUS, describe
from silkgate.api.cli_http import send_over_http
from silkgate.cli.ledger import cosign_remote
from silkgate.cli.main import main
from silkgate.client import GateDeniedError, GateDeniedWarning, SilkgateClient
from silkgate.errors import TransportError
from silkgate.ledger import parse_note, verify_cosignatures
from silkgate.ledger.witness import FileWitnessState, Witness
from silkgate.model import BatchResult


def _main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
        raise SystemExit(0)
    out = capsys.readouterr()
    return int(exited.value.code or 0), out.out, out.err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _main(capsys, "--version")
    assert code == 0
    assert out.splitlines() == [f"silkgate {silkgate.__version__}", describe(STATUS)]


def test_errors_with_json_are_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    code, out, err = _main(capsys, "batches", "list", "--data-dir", str(missing), "--json")
    assert code == 1 and out == ""
    body = orjson.loads(err)
    assert body["error"] == "config" and "silkgate init" in body["message"]
    code, _, err = _main(capsys, "product", "show", "nope", "--json")
    assert code == 1 and orjson.loads(err)["error"] == "not_found"
    code, _, err = _main(capsys, "counters", "--year", "1999", "--json")  # a usage error
    assert code == 2 and orjson.loads(err)["error"] == "usage"
    code, _, err = _main(capsys, "product", "show", "nope")  # without --json: one line
    assert code == 1 and err.startswith("error: ") and err.count("\n") == 1


def test_serve_refuses_a_directory_that_is_not_a_hub(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    typo = tmp_path / "silkgate-dta"
    code, _, err = _main(capsys, "serve", "--data-dir", str(typo), "--port", "1")
    assert code == 1 and "not a silkgate data directory" in err
    assert not typo.exists()  # no new hub, no new identity


def test_openapi_declares_security_bodies_and_media_types(tmp_path: Path) -> None:
    with serve_cast(tmp_path) as env:
        doc = env.http.get("/openapi.json").json()
    scheme = doc["components"]["securitySchemes"]["httpMessageSignature"]
    assert "RFC 9421" in scheme["description"] and scheme["name"] == "Signature"
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            public = path in (
                "/v1/health",
                "/v1/hub",
                "/metrics",
                "/v1/console/checkpoint",
                "/v1/console/ledger-history",
            ) or path.startswith("/v1/products")
            if public:
                assert operation["security"] == []
            elif not path.startswith("/v1/ledger/"):
                assert operation["security"] == [{"httpMessageSignature": []}], path
            if method == "post" and not path.endswith("/revoke"):  # revoke takes no body
                assert operation["requestBody"]["content"]["application/json"]["schema"], path
    schemas = doc["components"]["schemas"]
    assert all(ref.rsplit("/", 1)[-1] in schemas for ref in _refs(doc)), "a dangling $ref"
    metrics = doc["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
    assert list(metrics) == ["text/plain"]


def _refs(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                yield v
            else:
                yield from _refs(v)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_witness_add_checkpoint_takes_the_hubs_url(tmp_path: Path) -> None:
    with serve_cast(tmp_path) as env:
        env.clients["cn-exporter"].submit_batch(
            "vn-importer", PRODUCT, [waybill(1)], purpose=PURPOSE
        )
        env.hub.log.checkpoint()
        witness = Witness(
            "w.example/h14b", key("w"), [env.hub.log.verifier],
            FileWitnessState(tmp_path / "w.json"), fixed_clock,
        )  # fmt: skip
        cosigned = cosign_remote(witness, "http://testserver", env.http)
    assert verify_cosignatures(parse_note(cosigned), [witness.verifier])


# -- the SDK ----------------------------------------------------------------------------
@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    with serve_cast(tmp_path) as made:
        yield made


def test_submit_batch_has_no_default_purpose() -> None:
    purpose = inspect.signature(SilkgateClient.submit_batch).parameters["purpose"]
    assert purpose.default is inspect.Parameter.empty


def test_a_batch_denied_whole_by_the_gate_warns_or_raises(env: Env) -> None:
    client = env.clients["cn-exporter"]
    other = "customs_clearance"  # the cast's agreement is for another purpose
    with pytest.warns(GateDeniedWarning, match="gate.no-agreement.*purpose customs_clearance"):
        result = client.submit_batch("vn-importer", PRODUCT, [waybill(3)], purpose=other)
    assert result.outcomes["deny"] == 1
    with pytest.raises(GateDeniedError) as raised:
        client.submit_batch(
            "vn-importer", PRODUCT, [waybill(4)], purpose=other, on_gate_deny="raise"
        )
    assert raised.value.result.batch_id
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an allowed batch does not warn
        client.submit_batch("vn-importer", PRODUCT, [waybill(5)], purpose=PURPOSE)


class Flaky(httpx.BaseTransport):
    """Fails the first `failures` batch submissions before they reach the hub."""

    def __init__(self, inner: httpx.BaseTransport, failures: int) -> None:
        self.inner, self.failures, self.attempts = inner, failures, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/v1/batches":
            self.attempts += 1
            if self.failures:
                self.failures -= 1
                raise httpx.ConnectError("connection refused", request=request)
        return self.inner.handle_request(request)


def test_send_over_http_retries_transient_failures_with_backoff(env: Env) -> None:
    flaky = Flaky(env.http._transport, failures=2)
    http = httpx.Client(transport=flaky, base_url="http://testserver")
    client = SilkgateClient("http://testserver", env.rings["cn-exporter"], http=http,
                            clock=env.clock)  # fmt: skip
    waits: list[float] = []
    results: list[BatchResult] = []
    chunks: Iterator[tuple[str | None, list[Any]]] = iter([("h14b-retry:0", [waybill(7)])])
    send_over_http("http://testserver", None, exporter="", importer="vn-importer",
                   product=PRODUCT, purpose=PURPOSE, chunks=chunks, advance=lambda n: None,
                   on_result=results.append, sleep=waits.append, client=client)  # fmt: skip
    assert waits == [0.5, 1.0] and flaky.attempts == 3
    assert len(results) == 1 and not results[0].replayed
    # Out of retries: the error says so; without an idempotency key nothing is retried.
    for key_, retries in (("h14b-retry:1", 1), (None, 5)):
        flaky.failures, flaky.attempts = 5, 0
        with pytest.raises(TransportError, match="cannot reach the hub"):
            send_over_http("http://testserver", None, exporter="", importer="vn-importer",
                           product=PRODUCT, purpose=PURPOSE, chunks=iter([(key_, [waybill(8)])]),
                           advance=lambda n: None, on_result=results.append, retries=retries,
                           sleep=waits.append, client=client)  # fmt: skip
        assert flaky.attempts == (retries + 1 if key_ else 1)
    assert NOW  # the cast's clock


def test_a_resumed_send_over_http_does_not_upload_what_the_hub_has(env: Env) -> None:
    from silkgate.cli.flow import _keyed

    counting = Flaky(env.http._transport, failures=0)
    http = httpx.Client(transport=counting, base_url="http://testserver")
    client = SilkgateClient("http://testserver", env.rings["cn-exporter"], http=http,
                            clock=env.clock)  # fmt: skip
    records = [waybill(n) for n in range(20, 26)]

    def send(upto: int) -> list[BatchResult]:
        got: list[BatchResult] = []
        chunks = _keyed("cn-exporter", "vn-importer", PRODUCT, PURPOSE, records[:upto], 2, "",
                        False)  # fmt: skip
        send_over_http("http://testserver", None, exporter="", importer="vn-importer",
                       product=PRODUCT, purpose=PURPOSE, chunks=chunks, advance=lambda n: None,
                       on_result=got.append, client=client)  # fmt: skip
        return got

    first = send(4)  # "killed" after two of three batches
    assert counting.attempts == 2 and not any(r.replayed for r in first)
    counting.attempts = 0
    resumed = send(6)
    assert counting.attempts == 1  # only the third batch is uploaded
    assert [r.replayed for r in resumed] == [True, True, False]
    assert [r.batch_id for r in resumed[:2]] == [r.batch_id for r in first]
