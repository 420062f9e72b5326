"""The xAPI blueprint: version negotiation and authentication for every resource under /xapi."""

from __future__ import annotations

from flask import Blueprint, g, request

from lrs import http
from lrs.alternate import ALTERNATE, ALTERNATE_ERROR
from lrs.auth import is_bearer
from lrs.core.versions import V103
from lrs.db import read_transaction
from lrs.errors import BadRequest
from lrs.runtime import lrs_runtime

xapi = Blueprint("xapi", __name__, url_prefix="/xapi")

PUBLIC_ENDPOINTS = {"xapi.about", "xapi.openapi"}


@xapi.before_request
def _negotiate_and_authenticate():
    """Version first (400 without it), then credentials (401): HTTP Basic or a Bearer token.

    Not for the public resources (/about, /openapi.json) nor for CORS preflights.
    """
    if request.method == "OPTIONS":
        return http.preflight_response()
    if request.endpoint in PUBLIC_ENDPOINTS:
        g.xapi_version = None
        return None
    if request.environ.get(ALTERNATE_ERROR):
        raise BadRequest(request.environ[ALTERNATE_ERROR])
    version = http.negotiate_version()
    if request.environ.get(ALTERNATE) and version != V103:
        raise BadRequest(
            "the alternate request syntax is not part of xAPI 2.0; use 1.0.3 or send "
            "a plain request"
        )
    container = lrs_runtime()
    header = request.headers.get("Authorization")
    authenticator = container.authenticator
    with read_transaction(container.sessions) as session:
        if is_bearer(header):  # an OAuth 2.0 access token from POST /oauth/token (lrs.oauth)
            g.principal = authenticator.authenticate_bearer(session, header, container.clock())
        else:
            g.principal = authenticator.authenticate(session, header, version, request.remote_addr)
    return None
