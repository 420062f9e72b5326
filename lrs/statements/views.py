"""Routes of the Statement Resource (Communication 2.1): parse, call the write/read path, render."""

from __future__ import annotations

import json

from flask import Response, g, request

from lrs.auth import READ_STATEMENTS, WRITE_STATEMENTS, require
from lrs.core.formats import parse_accept_language
from lrs.core.query import decode_more, parse_statement_query
from lrs.core.timefmt import http_date
from lrs.db import read_transaction, write_transaction
from lrs.errors import BadRequest, Conflict, FieldError
from lrs.services import services
from lrs.statements.read import get_statement, query_statements
from lrs.statements.write import ConcurrentWrite, prepare_batch, store_prepared
from lrs.xapi import xapi

JSON = "application/json"


def _validation_error(exc) -> BadRequest:
    errors = [FieldError(path, message) for path, message in exc.errors]
    return BadRequest("; ".join(str(e) for e in errors[:5]), errors)


def _json_body():
    raw = request.get_data(cache=False)
    if not raw:
        raise BadRequest("the request body is empty; it must be a statement or an array of them")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"the request body is not valid JSON: {exc}") from None


def _store(statements: list[dict], single: bool):
    """Run the write path in its own transaction; retry once if a concurrent writer won a race."""
    container = services()
    paths = ["statement"] if single else None
    batch = prepare_batch(g.principal, statements, g.xapi_version, paths=paths)
    for attempt in (1, 2):
        try:
            with write_transaction(container.sessions) as session:
                return store_prepared(
                    session,
                    g.principal,
                    batch,
                    clock=container.clock,
                    seen_definitions=container.seen_definitions,
                )
        except ConcurrentWrite:
            if attempt == 2:
                raise Conflict("a concurrent request stored the same statement id; retry") from None
    raise AssertionError("unreachable")


@xapi.route("/statements", methods=["PUT"])
def put_statement():
    """Store one statement under ``statementId`` (Communication 2.1.1); 204 on success."""
    from schemas.xapi import StatementValidationError, validate_statement

    require(g.principal, *WRITE_STATEMENTS)
    unknown = sorted(set(request.args) - {"statementId"})
    if unknown:
        raise BadRequest(
            f"unknown parameter {unknown[0]!r}", [FieldError(unknown[0], "unknown parameter")]
        )
    statement_id = request.args.get("statementId")
    if not statement_id:
        raise BadRequest(
            "statementId: a PUT needs the statementId parameter",
            [FieldError("statementId", "required")],
        )
    body = _json_body()
    if not isinstance(body, dict):
        raise BadRequest("the body of a PUT must be a single statement object")
    if "id" in body and isinstance(body["id"], str) and body["id"].lower() != statement_id.lower():
        raise BadRequest(
            "statement.id: does not match the statementId parameter",
            [FieldError("statement.id", "does not match the statementId parameter")],
        )
    body.setdefault("id", statement_id)
    try:
        validate_statement(body, g.xapi_version, path="statement")
    except StatementValidationError as exc:
        raise _validation_error(exc) from None
    _store([body], single=True)
    return Response(status=204)


@xapi.route("/statements", methods=["POST"])
def post_statements():
    """Store one statement or a batch (Communication 2.1.2); 200 with the ids in order."""
    from schemas.xapi import StatementValidationError, validate_statements

    require(g.principal, *WRITE_STATEMENTS)
    if request.args:
        name = next(iter(request.args))
        raise BadRequest(f"unknown parameter {name!r}", [FieldError(name, "unknown parameter")])
    body = _json_body()
    try:
        statements = validate_statements(body, g.xapi_version)
    except StatementValidationError as exc:
        raise _validation_error(exc) from None
    if not statements:
        return Response("[]", mimetype=JSON)
    batch = _store(statements, single=isinstance(body, dict))
    return Response(json.dumps(batch.ids), mimetype=JSON)


@xapi.route("/statements", methods=["GET"])
def get_statements():
    """A single statement by id, or a StatementResult page (Communication 2.1.3)."""
    require(g.principal, *READ_STATEMENTS)
    params = request.args.to_dict()
    version = g.xapi_version
    if "more" in params:
        if len(params) > 1:
            raise BadRequest("more: may not be combined with other parameters")
        query = decode_more(params["more"], version)
    else:
        multi = request.args.to_dict(flat=False)
        repeated = [k for k, v in multi.items() if len(v) > 1]
        if repeated:
            raise BadRequest(f"{repeated[0]}: given more than once")
        query = parse_statement_query(params, version)
    languages = parse_accept_language(request.headers.get("Accept-Language"))
    container = services()
    with read_transaction(container.sessions) as session:
        if query.single:
            payload, stored_ms = get_statement(session, g.principal, query, languages)
            response = Response(payload, mimetype=JSON)
            response.headers["Last-Modified"] = http_date(stored_ms)
            return response
        page = query_statements(session, g.principal, query, languages)
    more = f"{request.script_root}/xapi/statements?more={page.more}" if page.more else ""
    body = '{"statements":[' + ",".join(page.statements) + '],"more":' + json.dumps(more) + "}"
    response = Response(body, mimetype=JSON)
    if page.last_modified_ms is not None:
        response.headers["Last-Modified"] = http_date(page.last_modified_ms)
    return response
