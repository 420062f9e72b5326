"""HTTP concerns shared by every xAPI resource: version negotiation, errors as JSON, CORS.

Every response carries ``X-Experience-API-Version`` (errors included); every 4xx is a JSON body
naming what was wrong and where; nothing a 4xx could describe reaches the client as a 500.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from lrs.core import versions
from lrs.core.timefmt import format_ms
from lrs.errors import BadRequest, LrsError, PayloadTooLarge

log = logging.getLogger("learnloop.http")

VERSION_HEADER = "X-Experience-API-Version"
CONSISTENT_THROUGH = "X-Experience-API-Consistent-Through"
CORS_ALLOW_HEADERS = (
    "Authorization, X-Experience-API-Version, Content-Type, If-Match, If-None-Match, "
    "Accept-Language, X-Requested-With"
)
CORS_EXPOSE_HEADERS = (
    "ETag, Last-Modified, X-Experience-API-Version, X-Experience-API-Consistent-Through, "
    "Content-Type"
)
CORS_ALLOW_METHODS = "GET, HEAD, PUT, POST, DELETE, OPTIONS"


def negotiate_version() -> str:
    """The request's xAPI version; BadRequest (400) if the header is absent or unsupported."""
    try:
        version = versions.negotiate(request.headers.get(VERSION_HEADER))
    except versions.UnsupportedVersion as exc:
        raise BadRequest(str(exc)) from None
    g.xapi_version = version
    return version


def error_response(error: LrsError) -> Response:
    body = error.to_dict()
    if error.errors and error.message == "":
        body["message"] = "; ".join(str(e) for e in error.errors)
    response = jsonify(body)
    response.status_code = error.status
    if error.status == 401:
        response.headers["WWW-Authenticate"] = getattr(
            error, "challenge", 'Basic realm="Learnloop xAPI"'
        )
    if getattr(error, "retry_after", None):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def install(app: Flask, clock) -> None:
    """Register the error handlers and the header hooks on the app."""

    @app.errorhandler(LrsError)
    def _lrs_error(error: LrsError):
        if error.status >= 500:
            log.error("request failed: %s", error.message)
        return error_response(error)

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(_error):
        limit = app.config.get("MAX_CONTENT_LENGTH")
        return error_response(PayloadTooLarge(f"the request body exceeds {limit} bytes"))

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        response = jsonify(
            {
                "code": (error.name or "error").lower().replace(" ", "_"),
                "status": error.code,
                "message": error.description,
                "errors": [],
            }
        )
        response.status_code = error.code or 500
        if error.code == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.after_request
    def _headers(response: Response) -> Response:
        if request.path.startswith("/xapi"):
            response.headers[VERSION_HEADER] = g.get("xapi_version") or _unnegotiated_version(app)
            if request.path.rstrip("/").endswith("/statements"):
                # A replica's answer says what the replica has applied (lrs.replica).
                through = g.get("consistent_through_ms") or clock()
                response.headers[CONSISTENT_THROUGH] = format_ms(through)
            origin = request.headers.get("Origin")
            if origin:
                response.headers["Access-Control-Allow-Origin"] = origin
                response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSE_HEADERS
                response.headers.add("Vary", "Origin")
        return response


def _unnegotiated_version(app: Flask) -> str:
    """The version to name on a response to a request that negotiated none (400s, /about)."""
    authenticator = app.extensions["lrs"].authenticator
    return authenticator.version_last_used(request.headers.get("Authorization")) or versions.V200


def preflight_response() -> Response:
    """The answer to a CORS preflight: any origin may call with the xAPI headers."""
    response = Response(status=204)
    response.headers["Access-Control-Allow-Methods"] = CORS_ALLOW_METHODS
    response.headers["Access-Control-Allow-Headers"] = CORS_ALLOW_HEADERS
    response.headers["Access-Control-Max-Age"] = "86400"
    return response
