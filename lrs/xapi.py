"""The xAPI blueprint: version negotiation and authentication for every resource under /xapi."""

from __future__ import annotations

from flask import Blueprint, g, request

from lrs import http
from lrs.db import read_transaction
from lrs.services import services

xapi = Blueprint("xapi", __name__, url_prefix="/xapi")

PUBLIC_ENDPOINTS = {"xapi.about"}


@xapi.before_request
def _negotiate_and_authenticate():
    """Version first (400 without it), then credentials (401), except for /about and preflights."""
    if request.method == "OPTIONS":
        return http.preflight_response()
    if request.endpoint in PUBLIC_ENDPOINTS:
        g.xapi_version = None
        return None
    http.negotiate_version()
    container = services()
    header = request.headers.get("Authorization")
    authenticator = container.authenticator
    with read_transaction(container.sessions) as session:
        g.principal = authenticator.authenticate(session, header)
    return None


from lrs import about  # noqa: E402,F401  (routes register on import)
from lrs.statements import views  # noqa: E402,F401
