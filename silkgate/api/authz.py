"""Authorization in one place: a table of role x action -> which objects.

For each action, each role maps to ``ALL`` (every object) or to the name of the object's
field that must equal the caller's participant id (``"exporter"``: the caller's own
batches). A participant holding several roles gets the union. Anything not in the table is
refused. The table is printed in docs/api.md and tested cell by cell in tests/api/.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeVar

from silkgate.errors import ForbiddenError
from silkgate.model import Participant

ALL: Final = "*"

Action = Literal[
    "batches.submit",
    "batches.list",
    "batches.read",
    "receipts.read",
    "mailbox.read",
    "envelopes.read",
    "envelopes.ack",
    "check",
    "classify",
    "participants.list",
    "participants.write",
    "participants.keys",
    "participants.revoke_key",
    "agreements.list",
    "agreements.write",
    "filings.list",
    "filings.write",
    "push.read",
    "push.write",
    "sandbox.read",
    "sandbox.write",
    "holds.list",
    "holds.release",
    "holds.reject",
    "holds.recheck",
    "ledger.entries",
    "counters.read",
    "stats.corridors",
    "stats.rules",
]

_BATCH_VIEW: Final = {"exporter": "exporter", "importer": "importer", "regulator": ALL}
_OWN_KEYS: Final = {"exporter": "id", "importer": "id", "regulator": "id", "operator": ALL}

POLICY: Final[Mapping[Action, Mapping[str, str]]] = {
    "batches.submit": {"exporter": "exporter"},
    "batches.list": _BATCH_VIEW,
    "batches.read": _BATCH_VIEW,  # metadata and decisions, never record contents
    "receipts.read": _BATCH_VIEW,
    "mailbox.read": {"importer": "importer"},
    "envelopes.read": {"importer": "importer"},  # sealed payloads: the addressee only
    "envelopes.ack": {"importer": "importer"},
    "check": {"exporter": ALL, "regulator": ALL, "operator": ALL},
    # The classifier alone (POST /v1/classify): nothing stored, so any participant.
    "classify": {"exporter": ALL, "importer": ALL, "regulator": ALL, "operator": ALL},
    "participants.list": {"operator": ALL, "regulator": ALL, "exporter": "id", "importer": "id"},
    "participants.write": {"operator": ALL},
    # Key rotation and revocation: a participant its own keys, the operator anyone's.
    "participants.keys": _OWN_KEYS,
    "participants.revoke_key": _OWN_KEYS,
    "agreements.list": {
        "operator": ALL,
        "regulator": ALL,
        "exporter": "exporter",
        "importer": "importer",
    },
    "agreements.write": {"operator": ALL},
    "filings.list": {
        "operator": ALL,
        "regulator": ALL,
        "exporter": "exporter",
        "importer": "recipient",  # filings that name it
    },
    "filings.write": {"operator": ALL},
    "push.read": {"importer": "importer"},  # its own push registration
    "push.write": {"importer": "importer"},
    # The sandbox belongs to the hub, not to a tenant: reads (including replays, which
    # commit nothing) by regulators and operators; changes, signed, by regulators only.
    "sandbox.read": {"regulator": ALL, "operator": ALL},
    "sandbox.write": {"regulator": ALL},
    # Held batches (silkgate.flow.holds): metadata and reasons, never contents. Releasing or
    # rejecting one is a regulator's decision; an exporter may re-check its own after filing.
    "holds.list": {"exporter": "exporter", "regulator": ALL},
    "holds.release": {"regulator": ALL},
    "holds.reject": {"regulator": ALL},
    "holds.recheck": {"exporter": "exporter", "regulator": ALL},
    # Ledger entry contents (entry tiles, proof bundles): the parties of each entry and
    # regulators. Checkpoints, hash tiles and hash-only proofs stay public.
    "ledger.entries": {"exporter": "exporter", "importer": "importer", "regulator": ALL},
    # Distinct individuals against the thresholds (GET /v1/counters): counts, no identifiers.
    "counters.read": {"exporter": "exporter", "regulator": ALL},
    # Aggregates over batches (the console's corridor overview and rules fired, GET
    # /v1/console/corridors and /rules): counts only; a party sees the batches it is in.
    "stats.corridors": _BATCH_VIEW,
    "stats.rules": _BATCH_VIEW,
}

# How refusals name an action ("may not use the sandbox to change it"); default: its name.
PHRASES: Final[Mapping[Action, str]] = {
    "participants.keys": "register new keys for",
    "participants.revoke_key": "revoke a key of",
    "classify": "classify records",
    "push.read": "read a push registration",
    "push.write": "register or remove a push endpoint",
    "sandbox.read": "use the sandbox to read",
    "sandbox.write": "use the sandbox to change it",
    "holds.list": "list held batches",
    "holds.release": "release held batches",
    "holds.reject": "reject held batches",
    "holds.recheck": "re-check held batches",
    "ledger.entries": "read ledger entries",
    "counters.read": "read the counters",
    "stats.corridors": "read corridor figures",
    "stats.rules": "read the rules fired",
}


@dataclass(frozen=True)
class Caller:
    """An authenticated participant and the key id it signed with."""

    participant: Participant
    key_id: str

    @property
    def id(self) -> str:
        return self.participant.id

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(self.participant.roles)


def scopes(caller: Caller, action: Action) -> frozenset[str]:
    """The object fields the caller must own for `action`, or {ALL}; refuses if none."""
    rules = POLICY[action]
    granted = frozenset(rules[r] for r in caller.roles if r in rules)
    if not granted:
        allowed = " or ".join(sorted(rules)) or "nobody"
        raise ForbiddenError(
            f"{caller.id} ({', '.join(caller.roles)}) may not {phrase(action)}: "
            f"only a participant with role {allowed} may"
        )
    return frozenset({ALL}) if ALL in granted else granted


def phrase(action: Action) -> str:
    return PHRASES.get(action, action.replace(".", " "))


def owns(caller_id: str, fields: frozenset[str], obj: Any) -> bool:
    return ALL in fields or any(getattr(obj, f, None) == caller_id for f in fields)


def authorize(caller: Caller, action: Action, obj: Any, *, what: str, obj_id: str) -> None:
    """Raise ForbiddenError unless `caller` may do `action` on `obj`."""
    if not owns(caller.id, scopes(caller, action), obj):
        raise ForbiddenError(
            f"{what} {obj_id} belongs to another tenant; {caller.id} may not {phrase(action)} it"
        )


T = TypeVar("T")


def visible(caller: Caller, action: Action, objs: Iterable[T]) -> list[T]:
    """The objects of a listing the caller may see."""
    fields = scopes(caller, action)
    return [o for o in objs if owns(caller.id, fields, o)]


def policy_table() -> str:
    """The table as Markdown (docs/api.md embeds it; a test keeps the two identical)."""
    roles = ("exporter", "importer", "regulator", "operator")
    lines = [
        "| action | " + " | ".join(roles) + " |",
        "|---|" + "---|" * len(roles),
    ]
    for action, rules in POLICY.items():
        cells = [_cell(rules.get(role)) for role in roles]
        lines.append(f"| `{action}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(scope: str | None) -> str:
    if scope is None:
        return "—"
    return "all" if scope == ALL else f"own (`{scope}`)"
