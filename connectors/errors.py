"""Errors of the connectors, as data (rendered by the one ``LrsError`` handler).

The pure source modules raise these too, so they carry no HTTP machinery: a status, a code,
a message and the paths of the offending fields.
"""

from __future__ import annotations

from lrs.errors import BadRequest, FieldError, NotFound, Unauthorized
from lrs.errors import SecretsUnavailable as SecretsUnavailable  # raised by lrs.sealing


class SignatureInvalid(Unauthorized):
    """The delivery could not be verified: missing or wrong signature or token (401).

    Nothing of an unverifiable request is parsed or stored.
    """

    code = "signature_invalid"


class MalformedPayload(BadRequest):
    """The verified delivery is not a payload of the event it claims to be (400)."""

    code = "malformed_payload"

    @classmethod
    def at(cls, path: str, message: str) -> MalformedPayload:
        """The payload field at ``path`` (e.g. ``review.user.login``) is missing or wrong."""
        return cls(f"{path}: {message}", [FieldError(path, message)])


class ConnectorNotFound(NotFound):
    """No connector with this id and kind (in this store, for the admin API) (404)."""

    code = "connector_not_found"


class RowRejected(Exception):
    """One import row cannot become statements; ``reason`` says why (reported, not raised)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
