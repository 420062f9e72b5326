"""SCIM's errors: ``LrsError`` subclasses that carry RFC 7644 §3.12's ``scimType``.

Services raise these (or the shared ``LrsError`` subclasses, such as a refused reporting-line
cycle); the SCIM blueprint renders every ``LrsError`` as a SCIM Error message
(``urn:ietf:params:scim:api:messages:2.0:Error``, ``status`` as a string).
"""

from __future__ import annotations

from schemas.errors import LrsError


class ScimError(LrsError):
    """A SCIM request refused with a status and, for 400s, a ``scimType`` keyword."""

    code = "scim_error"

    def __init__(self, message: str, status: int = 400, scim_type: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.scim_type = scim_type


def invalid_value(message: str) -> ScimError:
    """400 invalidValue: a value that does not fit its attribute (an unknown manager, a cycle)."""
    return ScimError(message, 400, "invalidValue")


def uniqueness(message: str) -> ScimError:
    """409 uniqueness: a userName already provisioned in this store."""
    return ScimError(message, 409, "uniqueness")


def not_found(resource: str, scim_id: str) -> ScimError:
    """404: no such resource in this store (another store's ids are unknown here too)."""
    return ScimError(f"{resource} {scim_id} not found", 404)


def unauthorized(message: str) -> ScimError:
    """401: no bearer token, or an unknown or revoked one."""
    return ScimError(message, 401)
