"""Findings 1 and 7 of issue #11, and rate limits: limits at the edge, before any work.

1. An unsigned 400 MiB upload was read whole into memory (~940 MB) and answered 422.
7. Deeply nested JSON, integers over 64 bits and query integers >= 2^63 gave 500s with a
   traceback logged each time, one of them unauthenticated (/v1/ledger/proof/bundle?index=).
Each must now be a 4xx naming the limit, refused before the body is read further or the
signature verified, and nothing logged as a traceback."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from api.cast import PRODUCT, PURPOSE, Env, serve_cast, waybill

from security.helpers import app_state, send, signed
from silkgate.api.limits import Limits, RateLimited, RateLimiter, check_json, check_query

MiB = 1024 * 1024


def _asgi(
    app: Any, path: str, headers: list[tuple[bytes, bytes]], chunks: Iterator[bytes]
) -> tuple[int, int, bytes]:
    """Call the app as a server would, feeding the body chunk by chunk; returns the status,
    how many chunks the app pulled, and the response body."""
    pulled = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled += 1
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send_(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": [(b"host", b"testserver"), *headers],
        "client": ("198.51.100.7", 5000), "server": ("testserver", 80),
    }  # fmt: skip
    asyncio.run(app(scope, receive, send_))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], pulled, body


def _endless(chunks: int = 48, chunk_size: int = MiB) -> Iterator[bytes]:
    """48 MiB in 1 MiB chunks: more than the 32 MiB cap (bounded so that a hub without the
    cap finishes reading it, and fails the test instead of filling memory)."""
    chunk = b"[" + b"1," * (chunk_size // 2 - 1) + b"1"
    for _ in range(chunks):
        yield chunk


def test_a_declared_oversized_body_is_refused_413_without_reading_it(env: Env) -> None:
    app = env.http.app
    declared = str(400 * MiB).encode()
    status, pulled, body = _asgi(app, "/v1/batches", [(b"content-length", declared)], _endless())
    assert status == 413
    assert pulled == 0  # not one byte read
    message = msgspec.json.decode(body)["message"]
    assert "max_body_bytes" in message and str(32 * MiB) in message
    assert app_state(env).metrics.auth_failures.value() == 0  # never verified


def test_a_streamed_oversized_body_is_refused_413_as_soon_as_it_passes_the_cap(env: Env) -> None:
    status, pulled, _ = _asgi(env.http.app, "/v1/batches", [], _endless())
    assert status == 413
    assert pulled <= 32 + 1  # 1 MiB chunks: stops right after the 32 MiB cap, not at 400 MiB
    assert app_state(env).metrics.auth_failures.value() == 0


def _nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


def _batch(record: Any) -> bytes:
    return msgspec.json.encode(
        {"importer": "vn-importer", "product": PRODUCT, "purpose": PURPOSE, "records": [record]}
    )


def _no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


@pytest.mark.parametrize("depth", [70, 300, 1500, 100_000])
def test_deeply_nested_records_are_a_422_naming_the_limit(
    env: Env, depth: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    inner = b'{"a":' * depth + b"1" + b"}" * depth
    body = b'{"importer":"vn-importer","product":"%s","purpose":"%s","records":[%s]}' % (
        PRODUCT.encode(), PURPOSE.encode(), inner,
    )  # fmt: skip
    response = send(env, signed(env, "POST", "/v1/batches", body))
    assert response.status_code == 422, response.text
    assert "max_json_depth" in response.json()["message"]
    _no_traceback(caplog)


@pytest.mark.parametrize(
    "path", ["/v1/check", "/v1/batches", "/v1/participants", "/v1/mailbox/push"]
)
def test_deep_json_on_any_route_signed_or_not_is_a_422(
    env: Env, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    unsigned = env.http.post(path, content=b"[" * 1500 + b"]" * 1500)
    assert unsigned.status_code == 422, unsigned.text
    response = send(env, signed(env, "POST", path, _nested(1500)))
    assert response.status_code == 422, response.text
    _no_traceback(caplog)


@pytest.mark.parametrize("number", [2**64, 2**63, -(2**63) - 1, 10**400])
def test_integers_over_64_bits_are_a_422(
    env: Env, number: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    record = {**waybill(1), "weight_g": number}
    response = send(env, signed(env, "POST", "/v1/batches", _batch(record)))
    assert response.status_code == 422, response.text
    assert "64 bits" in response.json()["message"]
    _no_traceback(caplog)


def test_an_integer_in_64_bits_still_passes(env: Env) -> None:
    record = {**waybill(1), "weight_g": 2**63 - 1}
    response = send(env, signed(env, "POST", "/v1/batches", _batch(record)))
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "target",
    ["/v1/ledger/proof/bundle?index=9223372036854775808",
     "/v1/ledger/proof/bundle?index=99999999999999999999999",
     "/v1/ledger/proof/inclusion?index=0&size=9223372036854775808",
     "/v1/ledger/proof/consistency?from=1&to=18446744073709551616",
     "/v1/batches?offset=9223372036854775808"],
)  # fmt: skip
def test_query_integers_of_2_63_or_more_are_a_422(
    env: Env, target: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    response = env.http.get(target)  # unauthenticated: refused before anything else
    assert response.status_code == 422, response.text
    assert "64 bits" in response.json()["message"]
    signed_response = send(env, signed(env, "GET", target))
    assert signed_response.status_code == 422, signed_response.text
    _no_traceback(caplog)


def test_the_largest_64_bit_index_is_a_4xx_not_a_500(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    for target in (f"/v1/ledger/proof/bundle?index={2**63 - 1}",
                   f"/v1/ledger/proof/inclusion?index={2**63 - 2}&size={2**63 - 1}"):  # fmt: skip
        response = env.http.get(target)
        assert response.status_code in (404, 422), response.text
    _no_traceback(caplog)


def test_strings_records_and_arrays_over_their_limits(tmp_path: Path) -> None:
    settings = "max_string_length = 100\nmax_batch_records = 3\nmax_array_items = 50\n"
    with serve_cast(tmp_path, settings) as env:
        long = {**waybill(1), "remark": "x" * 101}
        response = send(env, signed(env, "POST", "/v1/batches", _batch(long)))
        assert response.status_code == 422 and "max_string_length" in response.json()["message"]
        body = msgspec.json.encode(
            {"importer": "vn-importer", "product": PRODUCT, "purpose": PURPOSE,
             "records": [waybill(i) for i in range(4)]}
        )  # fmt: skip
        response = send(env, signed(env, "POST", "/v1/batches", body))
        assert response.status_code == 422 and "max_batch_records" in response.json()["message"]
        wide = {**waybill(1), "items": list(range(51))}
        response = send(env, signed(env, "POST", "/v1/batches", _batch(wide)))
        assert response.status_code == 422 and "max_array_items" in response.json()["message"]
        body = msgspec.json.encode(
            {"importer": "vn-importer", "product": PRODUCT, "purpose": PURPOSE,
             "records": [waybill(i) for i in range(3)]}
        )  # fmt: skip
        assert send(env, signed(env, "POST", "/v1/batches", body)).status_code == 201


def test_per_address_rate_limit_is_a_429_with_retry_after(tmp_path: Path) -> None:
    settings = "rate_limit_ip_per_second = 0.5\nrate_limit_ip_burst = 3\n"
    with serve_cast(tmp_path, settings) as env:
        statuses = [env.http.get("/v1/health").status_code for _ in range(3)]
        assert statuses == [200, 200, 200]
        refused = env.http.get("/v1/health")
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "2"  # one token at 0.5/s
        assert "rate_limit_ip_per_second" in refused.json()["message"]


def test_per_participant_rate_limit_is_a_429_and_spares_other_participants(
    tmp_path: Path,
) -> None:
    settings = "rate_limit_participant_per_second = 0.1\nrate_limit_participant_burst = 2\n"
    with serve_cast(tmp_path, settings) as env:
        exporter = env.clients["cn-exporter"]
        for _ in range(2):
            assert exporter.request("GET", "/v1/whoami").status_code == 200
        refused = exporter.request("GET", "/v1/whoami", check=False)
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) >= 1
        assert refused.json()["error"] == "rate_limited"
        assert env.clients["vn-importer"].request("GET", "/v1/whoami").status_code == 200


def test_rate_limiter_refills_with_time() -> None:
    now = [0.0]
    limiter = RateLimiter(2.0, 2, "address", "rate_limit_ip_per_second", monotonic=lambda: now[0])
    limiter.take("a")
    limiter.take("a")
    with pytest.raises(RateLimited) as refused:
        limiter.take("a")
    assert refused.value.retry_after == 1
    limiter.take("b")  # buckets are per key
    now[0] += 0.5
    limiter.take("a")  # one token back after 1/rate seconds


def test_check_functions_refuse_only_what_is_over_the_limits() -> None:
    limits = Limits()
    check_json(msgspec.json.encode({"records": [waybill(1)] * 10}), limits)
    check_json(b"not json at all", limits)  # left to the route
    check_query(b"index=9223372036854775807&limit=10&exporter=12345678901234567890123x")
    with pytest.raises(Exception, match="64 bits"):
        check_query(b"offset=-9223372036854775809")
    with pytest.raises(Exception, match="finite"):
        check_json(b"[1e400]", limits)


@pytest.mark.parametrize("body", [b'{"records":["\x80"]}', b'"\xc3"', b"\xff\xfe"])
def test_bodies_that_are_not_utf_8_are_a_422(
    env: Env, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    for path, who in (("/v1/batches", "cn-exporter"), ("/v1/check", "cn-exporter"),
                      ("/v1/participants", "operator")):  # fmt: skip
        response = send(env, signed(env, "POST", path, body, who=who))
        assert response.status_code == 422, response.text
    _no_traceback(caplog)
