"""Regulator approvals: every sandbox change is signed with a registered regulator's
Ed25519 key over a canonical message, and verified against the registry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from silkgate.canonical import canonical_json
from silkgate.errors import AuthError, ForbiddenError, NotFoundError, VerificationError
from silkgate.registry.keys import request_key
from silkgate.seal.keys import ed25519_key_id
from silkgate.store.ports import RegistryPort


class Approval(msgspec.Struct, frozen=True, kw_only=True):
    """A regulator's signature over one sandbox action's canonical message."""

    by: str
    key_id: str
    signature: bytes


def action_message(action: str, body: dict[str, Any]) -> bytes:
    """The exact bytes a regulator signs for `action` (canonical JSON)."""
    return canonical_json({"action": f"silkgate.sandbox.{action}", **body})


def sign_action(key: Ed25519PrivateKey, by: str, message: bytes) -> Approval:
    return Approval(by=by, key_id=ed25519_key_id(key), signature=key.sign(message))


def verify_approval(store: RegistryPort, approval: Approval, message: bytes, now: datetime) -> None:
    """Raises ForbiddenError unless `approval.by` is an active regulator, VerificationError
    unless `approval.key_id` is one of its keys valid at `now` and the signature verifies."""
    try:
        regulator = store.get_participant(approval.by)
    except NotFoundError:
        raise ForbiddenError(
            f"{approval.by!r} is not a registered participant; register the regulator with "
            "`silkgate participant add --role regulator`"
        ) from None
    if "regulator" not in regulator.roles or not regulator.active:
        raise ForbiddenError(f"{approval.by!r} is not an active regulator; only regulators may "
                             "change sandbox policy or cohorts")  # fmt: skip
    try:  # any of the regulator's keys valid now and not revoked (rotation overlaps)
        key = request_key(regulator, approval.key_id, now)
    except AuthError as exc:
        raise VerificationError(f"{exc}; sign with the key registered for the regulator") from None
    try:
        key.verify(approval.signature, message)
    except InvalidSignature:
        raise VerificationError(
            f"the signature of {approval.by} does not verify over this action; "
            "it was made for other content or with another key"
        ) from None
