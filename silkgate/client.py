"""The Python SDK: a client for the hub's HTTP API that signs every request (RFC 9421,
Ed25519, with Content-Digest) with the participant's own key file.

    client = SilkgateClient("https://hub.example", Path("my-keys.json"))
    result = client.submit_batch("vn-carrier", "logistics.waybill", records,
                                 purpose="contract_performance", idempotency_key="2026-11-28-1")

`HttpMailbox(client)` implements silkgate.inbox.Mailbox, so ``drain_inbox`` works over HTTP.
Errors come back as the same exception classes the library raises (silkgate.errors).
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Generator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from silkgate.api.wire import (
    AgreementBody,
    BatchList,
    BatchReceipts,
    CheckBody,
    CheckResult,
    ErrorBody,
    FilingBody,
    HubIdentity,
    MailboxPage,
    SubmitBody,
)
from silkgate.clock import Clock, system_clock
from silkgate.errors import (
    AuthError,
    ConfigError,
    ConflictError,
    ForbiddenError,
    InputError,
    NotFoundError,
    SchemaError,
    SilkgateError,
)
from silkgate.ledger.bundle import ProofBundle
from silkgate.model import Agreement, BatchResult, Filing, Participant, Receipt
from silkgate.seal.httpsig import sign_request
from silkgate.seal.keys import KeyRing, ed25519_key_id, ed25519_public_from_bytes, load_keyring
from silkgate.store.base import StoredEnvelope

T = TypeVar("T")
SIGNATURE_TTL = 60  # seconds a signed request stays valid

_ERRORS: dict[str, type[SilkgateError]] = {
    "not_found": NotFoundError,
    "conflict": ConflictError,
    "auth": AuthError,
    "forbidden": ForbiddenError,
}


class RequestSigner(httpx.Auth):
    """httpx auth that signs each request with the key ring's current signing key."""

    requires_request_body = True

    def __init__(self, keys: KeyRing, clock: Clock = system_clock, ttl: int = SIGNATURE_TTL):
        self.keys, self.clock, self.ttl = keys, clock, ttl

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        now = self.clock()
        key_id, key = self.keys.current_signing(now)
        signed = sign_request(
            request.method,
            str(request.url),
            dict(request.headers),
            request.content,
            key,
            key_id,
            now,
            secrets.token_urlsafe(18),
            self.ttl,
        )
        request.headers.update(signed)
        yield request


class SilkgateClient:
    def __init__(
        self,
        base_url: str,
        key_file: Path | str | KeyRing,
        *,
        http: httpx.Client | None = None,
        clock: Clock = system_clock,
        timeout: float = 60.0,
    ) -> None:
        """`http` lets you bring your own httpx.Client (proxies, TLS, a test transport);
        its base URL is then used as is."""
        self.keys = key_file if isinstance(key_file, KeyRing) else load_keyring(key_file)
        self.participant_id = self.keys.participant
        self._auth = RequestSigner(self.keys, clock)
        self._http = http or httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout)
        self._owns_http = http is None

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> SilkgateClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing -------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        signed: bool = True,
        timeout: float | None = None,
        check: bool = True,
    ) -> httpx.Response:
        """One API call; raises the silkgate error the hub reported on a non-2xx status
        (unless `check` is false)."""
        content = msgspec.json.encode(body) if body is not None else b""
        all_headers = {"Accept": "application/json", **(headers or {})}
        if body is not None:
            all_headers["Content-Type"] = "application/json"
        query = {k: _param(v) for k, v in (params or {}).items() if v is not None}
        try:
            response = self._http.request(
                method,
                path,
                content=content,
                params=query,
                headers=all_headers,
                auth=self._auth if signed else None,
                timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.HTTPError as exc:
            raise SilkgateError(
                f"cannot reach the hub at {self._http.base_url}: {exc}; is `silkgate serve` "
                "running and the URL right?"
            ) from exc
        if check and response.status_code >= 400:
            raise _error(response)
        return response

    def _json(self, kind: type[T], method: str, path: str, **kwargs: Any) -> T:
        return msgspec.json.decode(self.request(method, path, **kwargs).content, type=kind)

    # -- batches --------------------------------------------------------------------------
    def submit_batch(
        self,
        importer: str,
        product: str,
        records: Sequence[Any],
        *,
        purpose: str = "contract_performance",
        idempotency_key: str | None = None,
    ) -> BatchResult:
        body = msgspec.convert(
            {"importer": importer, "product": product, "purpose": purpose, "records": records},
            SubmitBody,
        )
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return self._json(BatchResult, "POST", "/v1/batches", body=body, headers=headers)

    def list_batches(
        self,
        *,
        limit: int = 100,
        offset: int = 0,
        exporter: str | None = None,
        importer: str | None = None,
    ) -> BatchList:
        params = {"limit": limit, "offset": offset, "exporter": exporter, "importer": importer}
        return self._json(BatchList, "GET", "/v1/batches", params=params)

    def get_batch(self, batch_id: str) -> BatchResult:
        return self._json(BatchResult, "GET", f"/v1/batches/{batch_id}")

    def receipts(self, batch_id: str) -> BatchReceipts:
        """The batch's receipts, each with an inclusion proof bundle (docs/ledger.md)."""
        return self._json(BatchReceipts, "GET", f"/v1/batches/{batch_id}/receipts")

    # -- mailbox --------------------------------------------------------------------------
    def mailbox(
        self,
        *,
        after: str | None = None,
        limit: int = 100,
        wait: float = 0,
        data: bool = False,
    ) -> MailboxPage:
        """Pending envelopes, oldest first; `wait` (≤ 30 s) long-polls an empty mailbox."""
        params = {"after": after, "limit": limit, "wait": wait, "data": data}
        return self._json(MailboxPage, "GET", "/v1/mailbox", params=params, timeout=wait + 30)

    def fetch_envelope(self, envelope_id: str) -> bytes:
        return self.request("GET", f"/v1/envelopes/{envelope_id}").content

    def acknowledge(self, receipt: Receipt) -> Receipt:
        path = f"/v1/envelopes/{receipt.envelope_id}/receipt"
        return self._json(Receipt, "POST", path, body=receipt)

    # -- dry run --------------------------------------------------------------------------
    def check(
        self, origin: str, destination: str, product: str, records: Sequence[Any], **options: Any
    ) -> CheckResult:
        """Dry run (nothing committed): the decision each record would get. `options` are
        the other fields of CheckBody (purpose, prior_pi, filings, instrument, on, ...)."""
        body = msgspec.convert(
            {"origin": origin, "destination": destination, "product": product,
             "records": list(records), **options},
            CheckBody,
        )  # fmt: skip
        return self._json(CheckResult, "POST", "/v1/check", body=body)

    # -- registry -------------------------------------------------------------------------
    def participants(self) -> list[Participant]:
        return self._json(list[Participant], "GET", "/v1/participants")

    def register_participant(self, participant: Participant) -> Participant:
        return self._json(Participant, "POST", "/v1/participants", body=participant)

    def agreements(self) -> list[Agreement]:
        return self._json(list[Agreement], "GET", "/v1/agreements")

    def add_agreement(self, agreement: AgreementBody) -> Agreement:
        return self._json(Agreement, "POST", "/v1/agreements", body=agreement)

    def filings(self) -> list[Filing]:
        return self._json(list[Filing], "GET", "/v1/filings")

    def add_filing(self, filing: FilingBody) -> Filing:
        return self._json(Filing, "POST", "/v1/filings", body=filing)

    # -- hub and ledger (public) ----------------------------------------------------------
    def health(self) -> dict[str, Any]:
        return self._json(dict[str, Any], "GET", "/v1/health", signed=False)

    def whoami(self) -> dict[str, Any]:
        return self._json(dict[str, Any], "GET", "/v1/whoami")

    def hub_identity(self) -> HubIdentity:
        return self._json(HubIdentity, "GET", "/v1/hub", signed=False)

    def ledger(self, path: str, **params: Any) -> httpx.Response:
        """GET /v1/ledger/<path> (checkpoints, proofs, tiles: see docs/ledger.md)."""
        return self.request("GET", f"/v1/ledger/{path.lstrip('/')}", params=params, signed=False)

    def checkpoint(self) -> str:
        """The latest signed checkpoint note (C2SP tlog-checkpoint)."""
        return self.ledger("checkpoint").text

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        body = self.ledger("proof/inclusion", index=index, size=size).json()
        return [base64.b64decode(h) for h in body["proof"]]

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        body = self.ledger("proof/consistency", **{"from": size1, "to": size2}).json()
        return [base64.b64decode(h) for h in body["proof"]]

    def proof_bundle(self, index: int) -> ProofBundle:
        """An inclusion proof bundle for ledger entry `index` (verify with verify_bundle)."""
        return ProofBundle.from_json(self.ledger("proof/bundle", index=index).content)


class HttpMailbox:
    """silkgate.inbox.Mailbox over the HTTP API. The hub's envelope key comes from
    /v1/hub unless pinned with `hub_key` (raw Ed25519 public key): pin it in production."""

    def __init__(self, client: SilkgateClient, *, hub_key: bytes | None = None) -> None:
        self.client = client
        self._hub_key = hub_key

    def pending(self, importer: str, *, limit: int, after: str | None) -> list[StoredEnvelope]:
        if importer != self.client.participant_id:
            raise ConfigError(
                f"this client signs as {self.client.participant_id}; it cannot read the "
                f"mailbox of {importer}"
            )
        page = self.client.mailbox(after=after, limit=limit, data=True)
        return [
            StoredEnvelope(
                id=e.id,
                batch_id=e.batch_id,
                exporter=e.exporter,
                importer=e.importer,
                state="pending",
                created_at=e.created_at,
                expires_at=e.expires_at,
                data=e.data if e.data is not None else self.client.fetch_envelope(e.id),
                attempts=e.attempts,
            )
            for e in page.envelopes
        ]

    def acknowledge(self, receipt: Receipt) -> Receipt:
        return self.client.acknowledge(receipt)

    def hub_public_keys(self) -> Mapping[str, Ed25519PublicKey]:
        raw = self._hub_key if self._hub_key is not None else self.client.hub_identity().signing_key
        return {ed25519_key_id(raw): ed25519_public_from_bytes(raw)}


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _error(response: httpx.Response) -> SilkgateError:
    try:
        body = msgspec.json.decode(response.content, type=ErrorBody)
    except msgspec.MsgspecError:
        text = response.text[:500]
        return SilkgateError(f"HTTP {response.status_code} from the hub: {text}")
    if body.error in ("input", "schema"):
        cls = SchemaError if body.error == "schema" else InputError
        return cls(_strip_where(body), record=body.record, path=body.path)
    return _ERRORS.get(body.error, SilkgateError)(body.message)


def _strip_where(body: ErrorBody) -> str:
    """InputError prefixes its message with the record and path; don't repeat them."""
    message = body.message
    where = ", ".join(
        part
        for part in (
            f"record {body.record}" if body.record is not None else "",
            f"at {body.path}" if body.path is not None else "",
        )
        if part
    )
    prefix = f"{where}: " if where else ""
    return message.removeprefix(prefix)
