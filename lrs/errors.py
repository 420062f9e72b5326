"""The LRS's errors: the shared base (``schemas.errors``) and what only the LRS raises."""

from __future__ import annotations

from schemas.errors import (
    BadRequest,
    ConfigError,
    Conflict,
    FieldError,
    Forbidden,
    LrsError,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    Unauthorized,
    invalid,
)

__all__ = [
    "BadRequest",
    "ConfigError",
    "Conflict",
    "FieldError",
    "Forbidden",
    "LrsError",
    "NotFound",
    "OutboundFailed",
    "PayloadTooLarge",
    "PreconditionFailed",
    "SecretsUnavailable",
    "StatementConflict",
    "Unauthorized",
    "UnsafeUrl",
    "invalid",
    "required_parameter",
    "unknown_parameters",
    "uuid_parameter",
]


class StatementConflict(Conflict):
    """A statement id is already stored with different content (xAPI Communication 2.1.1)."""

    code = "statement_conflict"

    def __init__(self, statement_id: str, path: str = "") -> None:
        super().__init__(
            f"statement {statement_id} is already stored with different content",
            [FieldError(path, "differs from the stored statement with this id")] if path else [],
        )
        self.statement_id = statement_id


class UnsafeUrl(BadRequest):
    """A URL Learnloop would call points inside: loopback, private, link-local, ... (400).

    Raised where the URL is given (naming the field) and again when the call connects
    (``lrs.outbound``); the message says which address and why, never a secret.
    """

    code = "unsafe_url"


class OutboundFailed(LrsError):
    """An outbound HTTP call failed: unreachable, too slow, too large (502).

    ``upstream_status`` is the peer's HTTP status, 0 when it did not answer.
    """

    status = 502
    code = "outbound_failed"

    def __init__(self, message: str, upstream_status: int = 0) -> None:
        super().__init__(message)
        self.upstream_status = upstream_status


class SecretsUnavailable(LrsError):
    """Sealed secrets cannot be sealed or opened with the configured key (503).

    Raised when ``LEARNLOOP_SECRET_KEY`` is unset, or differs from the key that sealed what is
    stored. An operator's problem, not the client's, so never a 4xx; the message names the
    setting and never a value.
    """

    status = 503
    code = "secrets_unavailable"


def unknown_parameters(given, allowed) -> None:
    """Raise 400 naming each query parameter that is not in ``allowed`` (Communication 3.2)."""
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise BadRequest(
            f"unknown parameter {unknown[0]!r}",
            [FieldError(n, "unknown parameter") for n in unknown],
        )


def required_parameter(given, name: str) -> str:
    """The value of a required query parameter; 400 naming it when it is missing."""
    if name not in given:
        raise BadRequest(f"{name}: required", [FieldError(name, "required")])
    return given[name]


def uuid_parameter(value: str, name: str) -> str:
    """A UUID parameter in its standard form, lower-cased; 400 naming it otherwise."""
    from schemas.fields import is_uuid

    if not is_uuid(value):
        raise BadRequest(f"{name}: must be a UUID", [FieldError(name, "must be a UUID")])
    return value.lower()
