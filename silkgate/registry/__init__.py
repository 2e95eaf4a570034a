"""The registry: who may take part, with which keys, under which agreements and filings.

It owns one rule set, used by the CLI and the API alike:

- `service` — `RegistryService`: add a participant, rotate its keys, revoke a key, add an
  agreement, add a filing (which re-checks the exporter's held batches), end an agreement
  or withdraw a filing (its last day recorded, never extended, the row kept), list them. Every
  refusal (id syntax, roles, jurisdictions, products, purposes, instruments, dates, key
  uniqueness, taken ids, a retired or revoked key asking for a change) is raised here,
  with one message for both edges. Adding never replaces keys; rotation is explicit, and
  only a participant's current key (or the operator on the hub) changes the registry.
- `keys` — the key history, pure: rotation windows, revocation, which key verifies what,
  which key authenticates a request now, what new envelopes are sealed to; and the
  participant's own key file (create, load, rotate) on its side.

The edges (silkgate/cli/registry.py, silkgate/api/registry.py) only parse, authorize by
role, call the service and print; the store keeps the rows (``Store`` registry methods).
"""
