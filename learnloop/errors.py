"""The last line: anything no handler expected becomes a 500 with a request id, logged once.

Errors a client can fix are ``LrsError``s and Werkzeug's HTTP exceptions; their handlers
(``lrs.http``, ``web.blueprint``) render them. Everything else lands here: the answer is a JSON
500 (a page for the pages) that names only a request id, the same id is in ``X-Request-Id``
and in the one log record, with the traceback, the method and the path (secrets in it
redacted). Every other answer carries its ``X-Request-Id`` too (``learnloop.observe``), and
the request's access line the same id. The record never holds
the body, the query string or the Authorization header; SQL parameters are kept out of database
errors by the engine (``lrs.db``).
"""

from __future__ import annotations

import logging
import re
import uuid

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException, InternalServerError

from learnloop.logs import logged_path

log = logging.getLogger("learnloop.errors")

REQUEST_ID_HEADER = "X-Request-Id"
# An id a proxy or client sent is reused only when it cannot forge or break a log line.
_SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}\Z")


def request_id() -> str:
    """The request's id: a sane incoming ``X-Request-Id``, else a new random one."""
    rid = g.get("request_id")
    if rid is None:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        rid = given if _SANE_ID.match(given) else uuid.uuid4().hex
        g.request_id = rid
    return rid


def unexpected_response(rid: str) -> Response:
    """The 500 a client sees: the project's error body, with nothing but the request id."""
    if request.blueprint == "web":
        try:
            from web.blueprint import error_page

            body, status = error_page(500, "", request_id=rid)
            response = Response(body, status=status, mimetype="text/html")
        except Exception:  # the page itself failed: fall back to JSON, logged once already
            response = None
        if response is not None:
            response.headers[REQUEST_ID_HEADER] = rid
            return response
    response = jsonify(
        {
            "code": "internal_error",
            "status": 500,
            "message": f"internal error; quote request id {rid} to the operator",
            "errors": [],
            "request_id": rid,
        }
    )
    response.status_code = 500
    response.headers[REQUEST_ID_HEADER] = rid
    return response


def install(app: Flask) -> None:
    """Register the handler of unexpected exceptions (after the LrsError/HTTP handlers)."""

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        if isinstance(error, HTTPException):  # never reached: its own handler is more specific
            return error
        rid = request_id()
        log.error(
            "unexpected %s on %s %s, request %s",
            type(error).__name__,
            request.method,
            logged_path(),
            rid,
            exc_info=error,
        )
        return unexpected_response(rid)

    @app.errorhandler(InternalServerError)
    def _internal(error: InternalServerError):
        # Flask's own last resort (an error in an after-request hook or in a handler): Flask
        # has logged it already, so this only gives the answer its request id.
        return unexpected_response(request_id())
