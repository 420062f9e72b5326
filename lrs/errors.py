"""Errors of the LRS as data: a status, a message and the paths of the offending fields.

Services raise these; one Flask error handler renders them (see ``lrs.http``). Nothing in the
services knows about HTTP responses, so the same errors serve the CLI and the other packages.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One defect in a request, located by a JSON path such as ``statements[2].actor.mbox``."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class LrsError(Exception):
    """Base of every error the LRS reports to a client."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = list(errors or [])

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "status": self.status,
            "message": self.message,
            "errors": [{"path": e.path, "message": e.message} for e in self.errors],
        }


class BadRequest(LrsError):
    """The request is malformed: unknown parameters, bad JSON, invalid statements (400)."""


class Unauthorized(LrsError):
    """Missing or wrong credentials (401)."""

    status = 401
    code = "unauthorized"


class Forbidden(LrsError):
    """The credential lacks the scope this resource needs (403)."""

    status = 403
    code = "forbidden"


class NotFound(LrsError):
    """The statement or document does not exist in this store (404)."""

    status = 404
    code = "not_found"


class Conflict(LrsError):
    """A write contradicts what is stored (409)."""

    status = 409
    code = "conflict"


class StatementConflict(Conflict):
    """A statement id is already stored with different content (xAPI Communication 2.1.1)."""

    code = "statement_conflict"

    def __init__(self, statement_id: str, path: str = "") -> None:
        super().__init__(
            f"statement {statement_id} is already stored with different content",
            [FieldError(path, "differs from the stored statement with this id")] if path else [],
        )
        self.statement_id = statement_id


class PreconditionFailed(LrsError):
    """If-Match / If-None-Match did not hold (412)."""

    status = 412
    code = "precondition_failed"


class PayloadTooLarge(LrsError):
    """The request body exceeds the configured maximum (413)."""

    status = 413
    code = "payload_too_large"


class ConfigError(Exception):
    """A configuration value is missing or invalid at startup; names the key, never the value."""


def invalid(errors: list[tuple[str, str]], shown: int = 5) -> BadRequest:
    """A 400 listing validation defects, ``(path, message)`` pairs such as schemas report."""
    fields = [FieldError(path, message) for path, message in errors]
    return BadRequest("; ".join(str(f) for f in fields[:shown]) or "invalid request", fields)


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
