"""Routes of the Document Resources (Communication 2.2-2.7, 3.1; 9274.1.1 §4.1.4, §4.1.6.2/5/6).

Parse the parameters, check the scope, call a service in one transaction, render. HEAD is served
by the GET handler; Werkzeug drops the body and keeps every header (Communication 1.1).
"""

from __future__ import annotations

import json

from flask import Response, g, request

from lrs.auth import require
from lrs.core import documents as rules
from lrs.core.documents import (
    ACTIVITY_PROFILE_RESOURCE,
    AGENT_PROFILE_RESOURCE,
    STATE_RESOURCE,
    Conditions,
    Outcome,
    Resource,
)
from lrs.core.timefmt import http_date
from lrs.db import read_transaction, write_transaction
from lrs.documents import services as documents
from lrs.errors import Conflict
from lrs.runtime import lrs_runtime
from lrs.xapi import xapi

METHODS = ["GET", "PUT", "POST", "DELETE"]
READ_SCOPES = {"state": ("state", "all/read"), "profile": ("profile", "all/read")}
WRITE_SCOPES = {"state": ("state",), "profile": ("profile",)}


@xapi.route("/activities/state", methods=METHODS)
def state():
    """The State Resource (Communication 2.3; 9274.1.1 §4.1.6.2)."""
    return _serve(STATE_RESOURCE, "state")


@xapi.route("/activities/profile", methods=METHODS)
def activity_profile():
    """The Activity Profile Resource (Communication 2.7; 9274.1.1 §4.1.6.6)."""
    return _serve(ACTIVITY_PROFILE_RESOURCE, "profile")


@xapi.route("/agents/profile", methods=METHODS)
def agent_profile():
    """The Agent Profile Resource (Communication 2.6; 9274.1.1 §4.1.6.5)."""
    return _serve(AGENT_PROFILE_RESOURCE, "profile")


def _serve(resource: Resource, scope: str) -> Response:
    method = "GET" if request.method == "HEAD" else request.method
    reading = method == "GET"
    require(g.principal, *(READ_SCOPES if reading else WRITE_SCOPES)[scope])
    parsed = rules.parse_request(resource, method, request.args.to_dict(flat=False), g.xapi_version)
    conditions = Conditions(request.headers.get("If-Match"), request.headers.get("If-None-Match"))
    if reading:
        return _get(parsed, conditions)
    if method == "DELETE":
        return _delete(parsed, conditions)
    return _write(parsed, method, conditions)


def _get(parsed: rules.DocumentRequest, conditions: Conditions) -> Response:
    """One document with its ETag and Last-Modified, or the id list (Communication 2.2-2.7)."""
    store_id = g.principal.store_id
    with read_transaction(lrs_runtime().sessions) as session:
        if parsed.document_id is not None:
            document, outcome = documents.get_document(session, store_id, parsed, conditions)
            return _render(
                outcome, document.content, document.content_type, document.etag, document.updated_ms
            )
        listing = documents.list_document_ids(session, store_id, parsed)
    body = json.dumps(listing.ids, ensure_ascii=False, separators=(",", ":")).encode()
    etag = rules.etag_of(body)
    outcome = rules.evaluate("GET", etag, conditions)
    return _render(outcome, body, rules.JSON_MEDIA_TYPE, etag, listing.last_modified_ms)


def _render(
    outcome: Outcome, content: bytes, content_type: str, etag: str, updated_ms: int | None
) -> Response:
    if outcome is Outcome.NOT_MODIFIED:
        response = Response(status=304)
    else:
        response = Response(content, content_type=content_type)
    response.headers["ETag"] = etag
    if updated_ms is not None:
        response.headers["Last-Modified"] = http_date(updated_ms)
    return response


def _write(parsed: rules.DocumentRequest, method: str, conditions: Conditions) -> Response:
    content = request.get_data(cache=False)
    content_type = request.headers.get("Content-Type") or rules.DEFAULT_CONTENT_TYPE
    container = lrs_runtime()
    for attempt in (1, 2):
        try:
            with write_transaction(container.sessions) as session:
                documents.write_document(
                    session,
                    g.principal.store_id,
                    parsed,
                    version=g.xapi_version,
                    method=method,
                    content=content,
                    content_type=content_type,
                    conditions=conditions,
                    clock=container.clock,
                )
            return Response(status=204)
        except documents.ConcurrentWrite:
            if attempt == 2:
                raise Conflict("a concurrent request wrote the same document; retry") from None
    raise AssertionError("unreachable")


def _delete(parsed: rules.DocumentRequest, conditions: Conditions) -> Response:
    container = lrs_runtime()
    with write_transaction(container.sessions) as session:
        if parsed.document_id is None:
            documents.delete_documents(session, g.principal.store_id, parsed)
        else:
            documents.delete_document(
                session,
                g.principal.store_id,
                parsed,
                version=g.xapi_version,
                conditions=conditions,
            )
    return Response(status=204)
