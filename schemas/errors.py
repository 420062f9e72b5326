"""Errors as data, shared by every package: a status, a message and the paths of the defects.

Services raise these; one Flask error handler renders them (see ``lrs.http``). Nothing in the
services knows about HTTP responses, so the same errors serve the CLI and every package. They
live at the bottom of the house, beside the schemas that find most defects.
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
    """Base of every error Learnloop reports to a client (LRS, LTI, connectors, objectives)."""

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
