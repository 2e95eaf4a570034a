"""HTTP routes of the regulatory sandbox (mounted by the app under /v1/sandbox).

Who may do what is the table in silkgate.api.authz (`sandbox.read`: regulators and
operators; `sandbox.write`: regulators). Changes carry,
besides the request's RFC 9421 signature, the regulator's Ed25519 signature over the
action's canonical message (silkgate.sandbox.auth.action_message), which is ledgered.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from fastapi import APIRouter
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from silkgate.api.authz import Action, Caller, scopes
from silkgate.api.deps import Auth, State, decode_body, json_response
from silkgate.api.openapi import PACK_ERRORS
from silkgate.errors import ConfigError, InputError
from silkgate.hub import Hub
from silkgate.sandbox.auth import Approval
from silkgate.sandbox.cohorts import CohortSpec, exit_report
from silkgate.sandbox.core import Sandbox
from silkgate.sandbox.lifecycle import PolicyVersion
from silkgate.sandbox.packs import engine_with, pack_from_text
from silkgate.sandbox.shadow import DOC_KIND as SHADOW_KIND
from silkgate.sandbox.shadow import ShadowDiff


class Signed(msgspec.Struct, frozen=True, kw_only=True):
    key_id: str
    signature: bytes  # base64 in JSON


class ProposeBody(Signed, frozen=True, kw_only=True):
    yaml: str


class TransitionBody(Signed, frozen=True, kw_only=True):
    to: str


class CohortBody(Signed, frozen=True, kw_only=True):
    spec: CohortSpec


class SuspendBody(Signed, frozen=True, kw_only=True):
    reason: str = ""


class ReplayBody(msgspec.Struct, frozen=True, kw_only=True):
    candidates: list[str]  # YAML texts of the candidate packs
    since: datetime | None = None
    until: datetime | None = None


def _sandbox(hub: Hub) -> Sandbox:
    if hub.sandbox is None:
        raise ConfigError("this hub runs without the sandbox")
    return hub.sandbox


def _require(caller: Caller, action: Action) -> None:
    """Sandbox objects belong to the hub: the role decides (see silkgate.api.authz)."""
    scopes(caller, action)


def _approval(caller: Caller, body: Signed) -> Approval:
    return Approval(by=caller.id, key_id=body.key_id, signature=body.signature)


def _version(v: PolicyVersion) -> dict[str, Any]:
    return {"pack": v.pack_id, "version": v.version, "state": v.state, "sha256": v.sha256,
            "history": [msgspec.to_builtins(t) for t in v.history]}  # fmt: skip


def sandbox_router() -> APIRouter:
    """The sandbox routes, to mount with
    ``app.include_router(sandbox_router(), prefix="/v1/sandbox")``."""
    router = APIRouter(tags=["sandbox"], responses=PACK_ERRORS)

    @router.get("/policies", summary="Pack versions and their lifecycle states")
    def list_policies(auth: Auth, state: State) -> Response:
        _require(auth.caller, "sandbox.read")
        return json_response([_version(v) for v in _sandbox(state.hub).lifecycle.versions()])

    @router.post("/policies", status_code=201, summary="Propose a pack version (draft)")
    def propose(auth: Auth, state: State) -> Response:
        _require(auth.caller, "sandbox.write")
        body = decode_body(auth.body, ProposeBody, "proposal")
        version = _sandbox(state.hub).lifecycle.propose(body.yaml, _approval(auth.caller, body))
        return json_response(_version(version), 201)

    @router.post("/policies/{pack}/{version}/transition", summary="Move a version (signed)")
    def transition(pack: str, version: str, auth: Auth, state: State) -> Response:
        _require(auth.caller, "sandbox.write")
        body = decode_body(auth.body, TransitionBody, "transition")
        lifecycle = _sandbox(state.hub).lifecycle
        moved = lifecycle.transition(pack, version, body.to, _approval(auth.caller, body))
        return json_response(_version(moved))

    @router.get("/shadow", summary="Differences of each shadow version from the active one")
    def shadow_report(auth: Auth, state: State) -> Response:
        _require(auth.caller, "sandbox.read")
        docs = state.hub.store.list_sandbox_docs(SHADOW_KIND)
        return json_response([msgspec.msgpack.decode(raw, type=ShadowDiff) for _, raw in docs])

    @router.post("/replay", summary="Replay candidate packs over the stored decision facts")
    async def replay(auth: Auth, state: State) -> Response:
        _require(auth.caller, "sandbox.read")
        body = decode_body(auth.body, ReplayBody, "replay request")
        if not body.candidates:
            raise InputError("give at least one candidate pack", path="$['candidates']")
        return json_response(await run_in_threadpool(_replay, state.hub, body))

    @router.get("/cohorts", summary="Experiments with their state and use of caps")
    def list_cohorts(auth: Auth, state: State) -> Response:
        _require(auth.caller, "sandbox.read")
        return json_response([exit_report(c) for c in _sandbox(state.hub).cohorts.all()])

    @router.post("/cohorts", status_code=201, summary="Create an experiment (signed)")
    def create_cohort(auth: Auth, state: State) -> Response:
        _require(auth.caller, "sandbox.write")
        body = decode_body(auth.body, CohortBody, "experiment")
        cohort = _sandbox(state.hub).cohorts.create(body.spec, _approval(auth.caller, body))
        return json_response(exit_report(cohort), 201)

    @router.post("/cohorts/{cohort_id}/suspend", summary="Kill switch (signed)")
    def suspend_cohort(cohort_id: str, auth: Auth, state: State) -> Response:
        _require(auth.caller, "sandbox.write")
        body = decode_body(auth.body, SuspendBody, "suspension")
        cohorts = _sandbox(state.hub).cohorts
        cohort = cohorts.suspend(cohort_id, _approval(auth.caller, body), body.reason)
        return json_response(exit_report(cohort))

    @router.get("/cohorts/{cohort_id}/report", summary="Exit report of an experiment")
    def cohort_report(cohort_id: str, auth: Auth, state: State) -> Response:
        _require(auth.caller, "sandbox.read")
        return json_response(exit_report(_sandbox(state.hub).cohorts.get(cohort_id)))

    return router


def _replay(hub: Hub, body: ReplayBody) -> dict[str, Any]:
    sandbox = _sandbox(hub)
    packs = [pack_from_text(text, f"candidate {i}") for i, text in enumerate(body.candidates)]
    engine = engine_with(sandbox.active_engine(), packs)
    from silkgate.sandbox.analytics import facts_table  # analytics load on first replay
    from silkgate.sandbox.replay import replay_engine

    table = facts_table(hub.store.iter_facts(None, body.until))
    return replay_engine(engine, table, body.since, body.until).to_json()
