"""Every request observed once: its id on the answer, one access line, its figures.

Installed first by the app factory, so that its ``before_request`` runs before any other (the
clock starts before authentication) and its ``after_request`` last (it sees the final status
and headers, error answers included). The access line names the route (the URL rule) and the
path without its query string, the credential key or account id that was authenticated (never
a secret), and the client's address as ``learnloop.proxies`` established it.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request

from connectors.services import SOURCES as CONNECTOR_KINDS
from learnloop.errors import REQUEST_ID_HEADER, request_id
from learnloop.logs import ACCESS, FIELDS, logged_path
from lrs.metrics import safely

access_log = logging.getLogger(ACCESS)

#: The route label of a request no URL rule matched (404, 405 on an unknown path).
UNMATCHED = "(unmatched)"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_STARTED = "learnloop_started"


def route() -> str:
    """The URL rule that matched the request (``/xapi/statements``), never its raw path."""
    rule = request.url_rule
    return rule.rule if rule is not None else UNMATCHED


def _method() -> str:
    return request.method if request.method in _METHODS else "OTHER"


def _who() -> dict:
    """Who the request authenticated as: a credential's key, an account's id; never a secret."""
    who: dict = {}
    principal = g.get("principal")
    if principal is not None:
        who["credential"] = principal.key
        who["store_id"] = principal.store_id
    viewer = g.get("viewer")
    if viewer is not None:
        who["account_id"] = viewer.account_id
        who["store_id"] = viewer.store_id
    return who


def webhook_result(response: Response) -> str:
    """What became of a forge's delivery, from the answer of ``connectors.receive``."""
    status = response.status_code
    if status == 202:
        body = response.get_json(silent=True) or {}
        return "ignored" if body.get("status") == "ignored" else "stored"
    return {
        200: "duplicate",
        401: "unverified",
        403: "unverified",
        404: "unknown_connector",
        409: "conflict",
    }.get(status, "error" if status >= 500 else "rejected")


def install(app: Flask) -> None:
    """Register the hooks; call before any other ``before_request`` is registered."""

    @app.before_request
    def _start() -> None:
        g.setdefault(_STARTED, time.perf_counter())
        request_id()

    @app.after_request
    def _finish(response: Response) -> Response:
        try:
            _observe(response)
        except Exception:  # observing must never cost the client its answer
            logging.getLogger("learnloop.observe").exception("could not observe a request")
        return response


def _observe(response: Response) -> None:
    rid = request_id()
    response.headers[REQUEST_ID_HEADER] = rid
    started = g.get(_STARTED)
    seconds = time.perf_counter() - started if started is not None else 0.0
    method, rule, status = _method(), route(), response.status_code

    def count(m) -> None:
        m.requests.labels(method, rule, str(status)).inc()
        m.request_seconds.labels(method, rule).observe(seconds)
        if request.endpoint == "connectors.receive":
            kind = (request.view_args or {}).get("kind")
            kind = kind if kind in CONNECTOR_KINDS else "unknown"
            m.webhooks.labels(kind, webhook_result(response)).inc()

    safely(count)
    fields = {
        "request_id": rid,
        "method": request.method[:16],
        "route": rule,
        "path": logged_path(),
        "status": status,
        "duration_ms": round(seconds * 1000, 2),
        "remote_addr": request.remote_addr,
        **_who(),
    }
    access_log.info("%s %s %s", method, rule, status, extra={FIELDS: fields})
