"""Policy lifecycle: versions of each pack move draft → shadow → active → retired.

Every transition is signed by a regulator, appended to the ledger as a `policy` leaf and
stored with the version (pack id, version, YAML text and its SHA-256, state, history).
Activating a version retires the version of the same pack that was active before.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Literal

import msgspec

from silkgate.clock import Clock
from silkgate.errors import ConflictError, NotFoundError
from silkgate.ledger import TransparencyLog
from silkgate.ledger.leaves import PolicyLeaf, append_leaf
from silkgate.policy import Pack
from silkgate.sandbox.auth import Approval, action_message, verify_approval
from silkgate.sandbox.packs import pack_from_text, text_digest
from silkgate.store.base import Store
from silkgate.store.ports import SandboxPort

State = Literal["draft", "shadow", "active", "retired"]
STATES: tuple[State, ...] = ("draft", "shadow", "active", "retired")
ALLOWED: dict[str, tuple[str, ...]] = {
    "": ("draft",),
    "draft": ("shadow", "retired"),
    "shadow": ("active", "draft", "retired"),
    "active": ("retired",),
    "retired": (),
}
DOC_KIND = "policy_version"
META_KIND = "meta"
GENERATION_KEY = "generation"


class Transition(msgspec.Struct, frozen=True, kw_only=True):
    from_state: str
    to_state: str
    by: str
    at: datetime
    key_id: str
    signature: bytes
    ledger_index: int | None
    note: str = ""


class PolicyVersion(msgspec.Struct, frozen=True, kw_only=True):
    pack_id: str
    version: str
    sha256: str  # of the YAML text
    yaml: str
    state: str
    history: tuple[Transition, ...] = ()

    @property
    def key(self) -> str:
        return version_key(self.pack_id, self.version)

    def pack(self) -> Pack:
        return pack_from_text(self.yaml, f"{self.key}.yaml")


def version_key(pack_id: str, version: str) -> str:
    return f"{pack_id}@{version}"


def transition_message(
    pack_id: str, version: str, sha256: str, from_state: str, to_state: str, by: str
) -> bytes:
    """What a regulator signs to move `pack_id@version` (with this YAML digest)."""
    body = {"pack": pack_id, "version": version, "sha256": sha256, "from": from_state,
            "to": to_state, "by": by}  # fmt: skip
    return action_message("policy.transition", body)


def bump_generation(store: SandboxPort) -> None:
    """Tell every process that sandbox engines must be rebuilt (read per batch). Inside a
    transaction, call `hold_generation` first, before anything takes the ledger."""
    raw = store.get_sandbox_doc(META_KIND, GENERATION_KEY)
    store.put_sandbox_doc(META_KIND, GENERATION_KEY, b"%d" % (int(raw or b"0") + 1))


def hold_generation(store: SandboxPort) -> None:
    """First in a transaction that will bump the generation: wait for the batches in flight
    (they read it shared, then take the ledger) and keep new ones out until commit. Taken
    after the ledger, batches and this transaction would wait for each other."""
    store.get_sandbox_doc(META_KIND, GENERATION_KEY)


def generation(store: SandboxPort) -> int:
    """Read by every batch inside its transaction: shared, so that batches do not wait
    for each other here, only for a transition that bumps it."""
    return int(store.get_sandbox_doc(META_KIND, GENERATION_KEY, shared=True) or b"0")


class PolicyLifecycle:
    def __init__(
        self,
        store: Store,
        log: TransparencyLog,
        clock: Clock,
        check: Callable[[Pack], None] = lambda pack: None,
    ) -> None:
        """`check` raises PolicyError if a pack cannot join the engines (compiled with
        the active packs); it runs before a version is proposed, shadowed or activated."""
        self.store, self.log, self.clock, self.check = store, log, clock, check

    # ------------------------------------------------------------------ reading
    def get(self, pack_id: str, version: str) -> PolicyVersion:
        raw = self.store.get_sandbox_doc(DOC_KIND, version_key(pack_id, version))
        if raw is None:
            raise NotFoundError(
                f"no policy version {version_key(pack_id, version)}; "
                "see `silkgate sandbox policy list`"
            )
        return msgspec.msgpack.decode(raw, type=PolicyVersion)

    def versions(self, *, state: str | None = None) -> list[PolicyVersion]:
        versions = [
            msgspec.msgpack.decode(raw, type=PolicyVersion)
            for _, raw in self.store.list_sandbox_docs(DOC_KIND)
        ]
        return [v for v in versions if state is None or v.state == state]

    # ------------------------------------------------------------------ changing
    def propose(self, yaml_text: str, approval: Approval) -> PolicyVersion:
        """Store a new draft version (the pack is parsed and checked first)."""
        pack = pack_from_text(yaml_text, "proposed pack")
        self.check(pack)
        digest = text_digest(yaml_text)
        message = transition_message(pack.id, pack.version, digest, "", "draft", approval.by)
        verify_approval(self.store, approval, message, self.clock())
        draft = PolicyVersion(
            pack_id=pack.id, version=pack.version, sha256=digest, yaml=yaml_text, state=""
        )
        with self.store.transaction():
            hold_generation(self.store)
            if self.store.get_sandbox_doc(DOC_KIND, draft.key) is not None:
                raise ConflictError(
                    f"policy version {draft.key} already exists; give the pack a new "
                    "`version:` to propose a change"
                )
            return self._move(draft, "draft", approval)

    def transition(
        self, pack_id: str, version: str, to_state: str, approval: Approval
    ) -> PolicyVersion:
        """Move a version to `to_state`, signed by a regulator; refuses invalid moves."""
        if to_state not in STATES:
            raise ConflictError(f"unknown state {to_state!r}; one of {', '.join(STATES)}")
        with self.store.transaction():
            hold_generation(self.store)
            current = self.get(pack_id, version)
            _check_move(current, to_state)
            if to_state in ("shadow", "active"):
                self.check(current.pack())
            message = transition_message(
                pack_id, version, current.sha256, current.state, to_state, approval.by
            )
            verify_approval(self.store, approval, message, self.clock())
            if to_state == "active":
                for other in self.versions(state="active"):
                    if other.pack_id == pack_id:
                        self._move(other, "retired", approval, note=f"superseded by {version}")
            return self._move(current, to_state, approval)

    def _move(
        self, version: PolicyVersion, to_state: str, approval: Approval, *, note: str = ""
    ) -> PolicyVersion:
        now = self.clock()
        leaf = PolicyLeaf(
            pack=version.pack_id,
            version=version.version,
            sha256=version.sha256,
            from_state=version.state,
            to_state=to_state,
            by=approval.by,
            key_id=approval.key_id,
            signature=approval.signature.hex(),
            note=note,
            time=now,
        )
        index = append_leaf(self.log, leaf)
        step = Transition(
            from_state=version.state, to_state=to_state, by=approval.by, at=now,
            key_id=approval.key_id, signature=approval.signature, ledger_index=index, note=note,
        )  # fmt: skip
        moved = msgspec.structs.replace(version, state=to_state, history=(*version.history, step))
        self.store.put_sandbox_doc(DOC_KIND, moved.key, msgspec.msgpack.encode(moved))
        bump_generation(self.store)
        return moved


def _check_move(version: PolicyVersion, to_state: str) -> None:
    allowed = ALLOWED[version.state]
    if to_state in allowed:
        return
    hint = {
        ("draft", "active"): "shadow it first, so that its effect on live traffic is seen",
        ("retired", "active"): "a retired version stays retired; propose a new version",
    }.get((version.state, to_state), "")
    moves = ", ".join(allowed) or "none (retired is final)"
    raise ConflictError(
        f"cannot move {version.key} from {version.state} to {to_state}; allowed: {moves}"
        + (f"; {hint}" if hint else "")
    )
