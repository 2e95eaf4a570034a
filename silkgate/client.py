"""The Python SDK: a client for the hub's HTTP API that signs every request (RFC 9421,
Ed25519, with Content-Digest) with the participant's own key file.

    client = SilkgateClient("https://hub.example", Path("my-keys.json"))
    result = client.submit_batch("vn-carrier", "logistics.waybill", records,
                                 purpose="logistics_operations", idempotency_key="2026-11-28-1")

`purpose` has no default: it must match the agreement, or the agreement gate denies every
record. A batch denied whole by the gate raises GateDeniedWarning (a UserWarning; turn it
into an error with ``warnings.simplefilter("error", GateDeniedWarning)``) or, with
``on_gate_deny="raise"``, GateDeniedError; the batch is committed (denied) either way.

`HttpMailbox(client)` implements silkgate.mailbox.inbox.Mailbox, so ``drain_inbox`` works over HTTP.
Errors come back as the same exception classes the library raises (silkgate.errors).
"""

from __future__ import annotations

import base64
import secrets
import warnings
from collections.abc import Generator, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import httpx
import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from silkgate.api.wire import (
    AgreementBody,
    BatchList,
    BatchReceipts,
    CheckBody,
    CheckResult,
    DryRunBody,
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
    TransportError,
)
from silkgate.flow.batch_report import BatchReport, is_gate_denied
from silkgate.flow.holds import HeldBatch, HoldAction, RecheckReport, sign_hold
from silkgate.flow.thresholds import CounterReport
from silkgate.ledger.bundle import ProofBundle
from silkgate.model import Agreement, BatchResult, Filing, Participant, Receipt
from silkgate.products import ProductInfo, ProductList
from silkgate.sandbox.cohorts import CohortSpec, cohort_message
from silkgate.sandbox.lifecycle import transition_message
from silkgate.sandbox.packs import pack_from_text, text_digest
from silkgate.seal.httpsig import DEFAULT_COMPONENTS, sign_request
from silkgate.seal.keys import (
    KeyRing,
    ed25519_key_id,
    ed25519_public_bytes,
    ed25519_public_from_bytes,
    hpke_public_bytes,
    load_keyring,
    rotate_keyring,
    save_keyring,
)
from silkgate.store.base import PushEndpoint, StoredEnvelope

T = TypeVar("T")
SIGNATURE_TTL = 60  # seconds a signed request stays valid


class GateDeniedWarning(UserWarning):
    """Every record of a batch was denied by the agreement gate (`gate.*` rules): usually
    no agreement covers this exporter, importer, product and purpose."""


class GateDeniedError(ForbiddenError):
    """`submit_batch(..., on_gate_deny="raise")`: the agreement gate denied the whole batch
    (committed and recorded in the ledger as denied; `result` holds it)."""

    def __init__(self, message: str, result: BatchResult) -> None:
        super().__init__(message)
        self.result = result


def gate_message(result: BatchResult) -> str:
    """Why the gate denied `result`, in one line a person can act on."""
    reasons = sorted({c for d in result.decisions for c in d.citations})
    rules = sorted({r for d in result.decisions for r in d.rule_ids})
    return (
        f"batch {result.batch_id}: all {result.records} records denied by the agreement gate "
        f"({', '.join(rules)}): {'; '.join(reasons)}; check the agreement for "
        f"{result.exporter} -> {result.importer}, product {result.product}, "
        f"purpose {result.purpose} (silkgate agreement list)"
    )


_ERRORS: dict[str, type[SilkgateError]] = {
    "not_found": NotFoundError,
    "conflict": ConflictError,
    "auth": AuthError,
    "forbidden": ForbiddenError,
}


class HeldList(msgspec.Struct, frozen=True, kw_only=True):
    """GET /v1/holds."""

    holds: list[HeldBatch]


class RequestSigner(httpx.Auth):
    """httpx auth that signs each request with the key ring's current signing key."""

    requires_request_body = True

    def __init__(
        self,
        keys: KeyRing,
        clock: Clock = system_clock,
        ttl: int = SIGNATURE_TTL,
        *,
        key_id: str | None = None,
    ):
        """`key_id` pins one signing key of the ring (e.g. the old one while registering
        rotated keys); by default the ring's current key signs."""
        self.keys, self.clock, self.ttl, self.key_id = keys, clock, ttl, key_id

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        now = self.clock()
        key_id, key = self._key(now)
        components = DEFAULT_COMPONENTS
        if "idempotency-key" in request.headers:  # the hub requires it covered when present
            components = (*DEFAULT_COMPONENTS, "idempotency-key")
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
            components=components,
        )
        request.headers.update(signed)
        yield request

    def _key(self, now: datetime) -> tuple[str, Ed25519PrivateKey]:
        if self.key_id is None:
            return self.keys.current_signing(now)
        for entry in self.keys.signing:
            if entry.key_id == self.key_id:
                return entry.key_id, Ed25519PrivateKey.from_private_bytes(entry.private)
        raise ConfigError(f"key {self.key_id} is not in the key ring of {self.keys.participant}")


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
        self._clock = clock
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
        auth: httpx.Auth | None = None,
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
                auth=(auth or self._auth) if signed else None,
                timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.HTTPError as exc:
            raise TransportError(
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
        purpose: str,
        idempotency_key: str | None = None,
        on_gate_deny: Literal["warn", "raise", "ignore"] = "warn",
    ) -> BatchResult:
        """Submit one batch. `purpose` must be the agreement's (no default: a wrong one is
        denied by the agreement gate). A batch denied whole by the gate warns
        (GateDeniedWarning), raises GateDeniedError or is returned silently, per
        `on_gate_deny`. Retrying with the same `idempotency_key` commits nothing new."""
        body = msgspec.convert(
            {"importer": importer, "product": product, "purpose": purpose, "records": records},
            SubmitBody,
        )
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        result = self._json(BatchResult, "POST", "/v1/batches", body=body, headers=headers)
        if on_gate_deny != "ignore" and is_gate_denied(result):
            if on_gate_deny == "raise":
                raise GateDeniedError(gate_message(result), result)
            warnings.warn(gate_message(result), GateDeniedWarning, stacklevel=2)
        return result

    def dry_run(
        self,
        importer: str,
        product: str,
        records: Sequence[Any],
        *,
        purpose: str,
        transit: bool = False,
        batch_size: int = 500,
    ) -> CheckResult:
        """What `submit_batch` would decide for these records now (split into batches of
        `batch_size`, in order, as `silkgate send` does); nothing is committed."""
        body = msgspec.convert(
            {"importer": importer, "product": product, "purpose": purpose,
             "records": list(records), "transit": transit, "batch_size": batch_size},
            DryRunBody,
        )  # fmt: skip
        return self._json(CheckResult, "POST", "/v1/batches/check", body=body)

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

    def batch_by_key(self, idempotency_key: str) -> BatchResult | None:
        """This exporter's batch committed under `idempotency_key` (marked replayed), or
        None if the hub has none: what a resumed upload may skip."""
        response = self.request(
            "GET", f"/v1/batches/idempotency/{quote(idempotency_key, safe='')}", check=False
        )
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise _error(response)
        return msgspec.json.decode(response.content, type=BatchResult)

    def batch_report(self, batch_id: str) -> BatchReport:
        """One batch explained: rules fired with citations, hold/deny reasons, envelope and
        receipt state, ledger index. A unique prefix of the id is accepted."""
        return self._json(BatchReport, "GET", f"/v1/batches/{batch_id}/report")

    # -- counters and products ------------------------------------------------------------
    def counters(self, *, exporter: str | None = None, year: int | None = None) -> CounterReport:
        """Distinct individuals against each threshold: an exporter's own, or (regulator)
        every exporter's."""
        params = {"exporter": exporter, "year": year}
        return self._json(CounterReport, "GET", "/v1/counters", params=params)

    def products(self) -> list[ProductInfo]:
        """Every data product with its JSON Schema and personal-data paths (public)."""
        return self._json(ProductList, "GET", "/v1/products", signed=False).products

    def product(self, product_id: str) -> ProductInfo:
        return self._json(ProductInfo, "GET", f"/v1/products/{product_id}", signed=False)

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

    # -- push delivery --------------------------------------------------------------------
    def register_push(self, url: str) -> PushEndpoint:
        """Have the hub POST envelopes to `url` (https, or http to a loopback host); replaces
        any earlier registration. Envelopes already waiting are queued for pushing."""
        return self._json(PushEndpoint, "POST", "/v1/mailbox/push", body={"url": url})

    def push_registration(self) -> PushEndpoint:
        """This importer's push endpoint; NotFoundError if it has none."""
        return self._json(PushEndpoint, "GET", "/v1/mailbox/push")

    def unregister_push(self) -> None:
        """Stop pushing; envelopes stay in the mailbox for pull."""
        self.request("DELETE", "/v1/mailbox/push")

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
        """Every participant this caller may see, in order of id (all pages)."""
        return self._all_pages(list[Participant], "/v1/participants")

    def register_participant(self, participant: Participant) -> Participant:
        return self._json(Participant, "POST", "/v1/participants", body=participant)

    def register_participant_fields(self, fields: Mapping[str, Any]) -> Participant:
        """Register a participant from its fields (the operator): id, name, jurisdiction,
        roles, signing_key and hpke_key (raw public keys, e.g. from a `silkgate keygen`
        public key document), and optionally ciio, sector, free_trade_zone,
        corporate_group, enterprise_size, foreign_authority."""
        return self._json(Participant, "POST", "/v1/participants", body=dict(fields))

    def rotate_keys(
        self, *, key_file: Path | str | None = None, overlap_days: float = 30.0
    ) -> Participant:
        """Rotate this participant's keys: fresh keys into the key ring (saved to `key_file`
        first, if given, so no registered key is ever lost), then registered with the hub in
        a request signed with the old key; from then on this client signs with the new one.
        The old keys keep verifying what they signed and stay accepted `overlap_days`."""
        now = self._clock()
        old_key_id, _ = self.keys.current_signing(now)
        rotated = rotate_keyring(self.keys, now, overlap=timedelta(days=overlap_days))
        if key_file is not None:
            save_keyring(rotated, key_file)
        participant = self.register_keys(rotated, overlap_days=overlap_days, sign_with=old_key_id)
        self._use(rotated)
        return participant

    def register_keys(
        self, ring: KeyRing, *, overlap_days: float = 30.0, sign_with: str | None = None
    ) -> Participant:
        """Register `ring`'s current public keys for its participant (POST .../keys); the
        request is signed with key `sign_with` of this client's ring (default: its current
        one). Registering the current keys again changes nothing, so a retry is safe."""
        now = self._clock()
        _, signing = ring.current_signing(now)
        _, hpke = ring.current_hpke(now)
        body = {
            "signing_key": ed25519_public_bytes(signing),
            "hpke_key": hpke_public_bytes(hpke),
            "overlap_days": overlap_days,
        }
        path = f"/v1/participants/{ring.participant}/keys"
        auth = RequestSigner(self.keys, self._clock, key_id=sign_with)
        return self._json(Participant, "POST", path, body=body, auth=auth)

    def register_public_keys(
        self, participant: str, signing_key: bytes, hpke_key: bytes, overlap_days: float = 30.0
    ) -> Participant:
        """Register new public keys for `participant` (the operator, or the participant with
        its current key): e.g. from a `silkgate keygen` public key document."""
        body = {"signing_key": signing_key, "hpke_key": hpke_key, "overlap_days": overlap_days}
        return self._json(Participant, "POST", f"/v1/participants/{participant}/keys", body=body)

    def revoke_key(self, key_id: str, *, participant: str | None = None) -> Participant:
        """Revoke one of this participant's keys at the hub (an operator may name another
        `participant`). Revoke it in the key ring too (silkgate.seal.keys.revoke_key)."""
        path = f"/v1/participants/{participant or self.participant_id}/keys/{key_id}/revoke"
        return self._json(Participant, "POST", path)

    def _use(self, ring: KeyRing) -> None:
        self.keys = ring
        self._auth = RequestSigner(ring, self._clock)

    def agreements(
        self, *, exporter: str | None = None, importer: str | None = None
    ) -> list[Agreement]:
        """Every agreement this caller may see (optionally only one exporter's or
        importer's), in order of id (all pages)."""
        params = {"exporter": exporter, "importer": importer}
        return self._all_pages(list[Agreement], "/v1/agreements", params)

    def add_agreement(self, agreement: AgreementBody | Mapping[str, Any]) -> Agreement:
        """Record an agreement (the operator); a mapping is checked by the hub only."""
        body = agreement if isinstance(agreement, AgreementBody) else dict(agreement)
        return self._json(Agreement, "POST", "/v1/agreements", body=body)

    def filings(self, *, exporter: str | None = None) -> list[Filing]:
        """Every filing this caller may see (optionally only one exporter's), in order of
        id (all pages)."""
        return self._all_pages(list[Filing], "/v1/filings", {"exporter": exporter})

    def _all_pages(
        self, kind: type[list[T]], path: str, params: Mapping[str, Any] | None = None
    ) -> list[T]:
        """GET `path` and every page its `Link: rel="next"` headers name (RFC 8288). A next
        link must stay on the same hub and path (the request is signed for where it goes),
        and must not repeat a page."""
        query = {**(params or {}), "limit": PAGE_LIMIT}
        response = self.request("GET", path, params=query)
        rows = msgspec.json.decode(response.content, type=kind)
        seen = {str(response.request.url)}
        while (link := next_link(response)) is not None:
            target = response.request.url.join(link)
            here = response.request.url
            if (target.scheme, target.netloc, target.path) != (here.scheme, here.netloc, here.path):
                raise TransportError(
                    f"the hub's next page {link!r} leaves {here.copy_with(query=None)}; "
                    "refusing to follow it"
                )
            if str(target) in seen:
                raise TransportError(f"the hub's next page {link!r} repeats a page")
            seen.add(str(target))
            # httpx drops a URL's own query when `params` are given: pass them as params.
            query = dict(target.params.multi_items())
            response = self.request("GET", str(target.copy_with(query=None)), params=query)
            rows.extend(msgspec.json.decode(response.content, type=kind))
        return rows

    def add_filing(self, filing: FilingBody | Mapping[str, Any]) -> Filing:
        """Record a filing (the operator); the hub re-checks the exporter's held batches.
        A mapping is checked by the hub only."""
        body = filing if isinstance(filing, FilingBody) else dict(filing)
        return self._json(Filing, "POST", "/v1/filings", body=body)

    def end_agreement(self, agreement_id: str, *, reason: str, on: str | None = None) -> Agreement:
        """End an agreement (the operator): `on` (YYYY-MM-DD, default today on the hub's
        clock) becomes its last day in force."""
        body = {"reason": reason, **({"on": on} if on else {})}
        return self._json(Agreement, "POST", f"/v1/agreements/{agreement_id}/end", body=body)

    def withdraw_filing(self, filing_id: str, *, reason: str, on: str | None = None) -> Filing:
        """Withdraw a filing (the operator): `on` (YYYY-MM-DD, default today on the hub's
        clock) becomes its last valid day."""
        body = {"reason": reason, **({"on": on} if on else {})}
        return self._json(Filing, "POST", f"/v1/filings/{filing_id}/withdraw", body=body)

    def update_participant(self, participant_id: str, **changes: Any) -> Participant:
        """Change a participant's registration (PATCH; the operator): name, jurisdiction,
        roles, ciio, sector, active, free_trade_zone, corporate_group, enterprise_size,
        foreign_authority. Never its id or keys."""
        return self._json(Participant, "PATCH", f"/v1/participants/{participant_id}", body=changes)

    # -- held batches ---------------------------------------------------------------------
    def holds(self, *, exporter: str | None = None) -> list[HeldBatch]:
        """Held batches the caller may see (a regulator all, an exporter its own)."""
        page = self._json(HeldList, "GET", "/v1/holds", params={"exporter": exporter})
        return page.holds

    def hold(self, envelope_id: str) -> HeldBatch:
        return self._json(HeldBatch, "GET", f"/v1/holds/{envelope_id}")

    def hold_decision_body(self, action: str, envelope_id: str, reason: str) -> dict[str, Any]:
        """The body of a release or rejection: the reason and this participant's signature
        over silkgate.flow.holds.hold_message, with its current signing key."""
        key_id, key = self.keys.current_signing(self._clock())
        approval = sign_hold(key, self.participant_id, action, envelope_id, reason)
        return {"reason": reason, "key_id": key_id, "signature": approval.signature}

    def release_hold(self, envelope_id: str, reason: str) -> HoldAction:
        """Release a held envelope for delivery (a regulator; signed with its key)."""
        body = self.hold_decision_body("release", envelope_id, reason)
        return self._json(HoldAction, "POST", f"/v1/holds/{envelope_id}/release", body=body)

    def reject_hold(self, envelope_id: str, reason: str) -> HoldAction:
        """Reject a held envelope; its sealed data is dropped (a regulator; signed)."""
        body = self.hold_decision_body("reject", envelope_id, reason)
        return self._json(HoldAction, "POST", f"/v1/holds/{envelope_id}/reject", body=body)

    def recheck_holds(self, *, exporter: str | None = None) -> RecheckReport:
        """Re-decide held batches against today's filings; those now allowed are released."""
        body = {"exporter": exporter} if exporter else {}
        return self._json(RecheckReport, "POST", "/v1/holds/recheck", body=body)

    # -- sandbox (regulators; reads also operators) ---------------------------------------
    def policies(self) -> list[dict[str, Any]]:
        """Pack versions with their lifecycle state and history."""
        return self._json(list[dict[str, Any]], "GET", "/v1/sandbox/policies")

    def propose_policy(self, yaml_text: str) -> dict[str, Any]:
        """Store a pack version as a draft, signed by this regulator."""
        pack = pack_from_text(yaml_text, "proposal")
        message = transition_message(
            pack.id, pack.version, text_digest(yaml_text), "", "draft", self.participant_id
        )
        body = {"yaml": yaml_text, **self._approval(message)}
        return self._json(dict[str, Any], "POST", "/v1/sandbox/policies", body=body)

    def transition_policy(self, pack: str, version: str, to: str) -> dict[str, Any]:
        """Move `pack@version` to state `to` (shadow, active, retired), signed."""
        current = next(
            (v for v in self.policies() if (v["pack"], v["version"]) == (pack, version)), None
        )
        if current is None:
            raise NotFoundError(f"no policy version {pack}@{version} on the hub")
        message = transition_message(
            pack, version, current["sha256"], current["state"], to, self.participant_id
        )
        path = f"/v1/sandbox/policies/{pack}/{version}/transition"
        return self._json(dict[str, Any], "POST", path, body={"to": to, **self._approval(message)})

    def shadow_report(self) -> list[dict[str, Any]]:
        return self._json(list[dict[str, Any]], "GET", "/v1/sandbox/shadow")

    def replay(
        self,
        candidates: Sequence[str],
        *,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> dict[str, Any]:
        """What candidate packs (YAML texts) would have changed over past decision facts."""
        body = {"candidates": list(candidates), "since": since, "until": until}
        return self._json(dict[str, Any], "POST", "/v1/sandbox/replay", body=body)

    def cohorts(self) -> list[dict[str, Any]]:
        return self._json(list[dict[str, Any]], "GET", "/v1/sandbox/cohorts")

    def create_cohort(self, spec: CohortSpec) -> dict[str, Any]:
        """Admit members to a capped, time-boxed experiment (signed)."""
        message = cohort_message("create", spec.id, spec.message_body(), self.participant_id)
        body = {"spec": spec, **self._approval(message)}
        return self._json(dict[str, Any], "POST", "/v1/sandbox/cohorts", body=body)

    def suspend_cohort(self, cohort_id: str, reason: str = "") -> dict[str, Any]:
        """Kill switch (signed)."""
        message = cohort_message("suspend", cohort_id, {"reason": reason}, self.participant_id)
        path = f"/v1/sandbox/cohorts/{cohort_id}/suspend"
        return self._json(
            dict[str, Any], "POST", path, body={"reason": reason, **self._approval(message)}
        )

    def cohort_report(self, cohort_id: str) -> dict[str, Any]:
        return self._json(dict[str, Any], "GET", f"/v1/sandbox/cohorts/{cohort_id}/report")

    def _approval(self, message: bytes) -> dict[str, Any]:
        key_id, key = self.keys.current_signing(self._clock())
        return {"key_id": key_id, "signature": key.sign(message)}

    # -- classifier ---------------------------------------------------------------------
    def classify(self, records: Sequence[Any], *, product: str | None = None) -> dict[str, Any]:
        """The findings of each record (POST /v1/classify; nothing stored or counted)."""
        body: dict[str, Any] = {"records": list(records)}
        if product is not None:
            body["product"] = product
        return self._json(dict[str, Any], "POST", "/v1/classify", body=body)

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

    def entry_tile(self, path: str) -> bytes:
        """GET /v1/ledger/tile/entries/<path> (signed: the caller must be a party of every
        entry in the tile, or a regulator); the raw entry bundle (C2SP tlog-tiles)."""
        return self.request("GET", f"/v1/ledger/tile/entries/{path.lstrip('/')}").content

    def proof_bundle(self, index: int) -> ProofBundle:
        """An inclusion proof bundle for ledger entry `index` (verify with verify_bundle).
        Signed: an entry's contents are served to its parties and regulators only."""
        answer = self.request("GET", "/v1/ledger/proof/bundle", params={"index": index})
        return ProofBundle.from_json(answer.content)


class HttpMailbox:
    """silkgate.mailbox.inbox.Mailbox over the HTTP API. The hub's envelope key comes from
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
        """The pinned key, or every envelope key /v1/hub publishes (current and retired)."""
        if self._hub_key is not None:
            return {ed25519_key_id(self._hub_key): ed25519_public_from_bytes(self._hub_key)}
        identity = self.client.hub_identity()
        raws = [k.public for k in identity.signing_keys] or [identity.signing_key]
        return {ed25519_key_id(raw): ed25519_public_from_bytes(raw) for raw in raws}


PAGE_LIMIT = 500  # rows per page the SDK asks for when it follows all pages


def next_link(response: httpx.Response) -> str | None:
    """The target of the response's `Link` header with `rel="next"` (RFC 8288), as given
    (resolve it against the request URL), or None on the last page. httpx splits the
    header; a relation is matched as RFC 8288 says: parameter names and relation types
    case-insensitively, among the space-separated types of one `rel`."""
    for link in response.links.values():
        rel = next((v for k, v in link.items() if k.lower() == "rel"), "")
        if "next" in rel.lower().split():
            return link["url"]
    return None


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


TRANSIENT = frozenset({429, 500, 502, 503, 504})  # worth retrying (TransportError)


def _error(response: httpx.Response) -> SilkgateError:
    if response.status_code in TRANSIENT:
        return TransportError(
            f"HTTP {response.status_code} from the hub (transient; retry): {response.text[:300]}"
        )
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
