"""Errors of the objectives API."""

from __future__ import annotations

from lrs.errors import Forbidden, LrsError, NotFound, Unauthorized


class NotSignedIn(Unauthorized):
    """No valid API token or session."""

    code = "not_signed_in"
    #: /api takes bearer tokens (RFC 6750), not the LRS's Basic credentials.
    challenge = 'Bearer realm="Learnloop API"'


class NotAllowed(Forbidden):
    """The account's role does not allow this on this resource."""

    code = "not_allowed"


class Hidden(NotFound):
    """Not found, or not visible to this account: the two are not told apart."""


class InvalidPayload(LrsError):
    """The JSON body does not match the schema (400 with the path of each defect)."""

    code = "invalid_payload"
