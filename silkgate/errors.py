"""One exception hierarchy. Every message says what is wrong and, where it can, what to do."""

from __future__ import annotations


class SilkgateError(Exception):
    """Root of every error silkgate raises on purpose."""


class ConfigError(SilkgateError):
    """A setting, data directory or key file is missing or malformed."""


class InputError(SilkgateError):
    """Input that cannot be processed: malformed JSON, a record failing its schema, ...

    `record` is the index of the offending record in its batch or file (if known),
    `path` an RFC 9535 normalized path inside that record (if known).
    """

    def __init__(self, message: str, *, record: int | None = None, path: str | None = None):
        where = []
        if record is not None:
            where.append(f"record {record}")
        if path is not None:
            where.append(f"at {path}")
        prefix = (", ".join(where) + ": ") if where else ""
        super().__init__(prefix + message)
        self.record = record
        self.path = path
        self.detail = message


class SchemaError(InputError):
    """A record does not match its data product's schema."""


class NotFoundError(SilkgateError):
    """A participant, product, agreement, batch or other object does not exist."""


class ConflictError(SilkgateError):
    """The request conflicts with existing state (e.g. idempotency key reused with another body)."""


class AuthError(SilkgateError):
    """The caller could not be authenticated (bad signature, stale or replayed request)."""


class ForbiddenError(SilkgateError):
    """The caller is authenticated but may not touch this object."""


class PolicyError(SilkgateError):
    """A rule pack is malformed or inconsistent. `source` names file and line when known."""

    def __init__(self, message: str, *, source: str | None = None):
        super().__init__(f"{source}: {message}" if source else message)
        self.source = source


class CryptoError(SilkgateError):
    """Sealing, opening or signing failed (wrong key, tampered data, unsupported suite)."""


class VerificationError(SilkgateError):
    """A signature, receipt, proof or checkpoint did not verify."""


class LedgerVerificationError(VerificationError):
    """A Merkle proof or checkpoint does not verify."""


class StoreError(SilkgateError):
    """The store failed or holds data it cannot read (migration missing, corruption)."""


class TransportError(SilkgateError):
    """The message transport failed to publish or deliver."""
