"""Routes of the Statement Resource (Communication 2.1): parse, call the write/read path, render."""

from __future__ import annotations

import datetime as dt
import json

from flask import Response, g, request

from lrs.auth import READ_STATEMENTS, WRITE_STATEMENTS, require
from lrs.core import multipart, signatures
from lrs.core.attachments import AttachmentData, match_parts, require_file_urls
from lrs.core.formats import parse_accept_language
from lrs.core.query import decode_more, parse_statement_query
from lrs.core.timefmt import http_date
from lrs.core.versions import V103
from lrs.db import read_transaction, write_transaction
from lrs.errors import (
    BadRequest,
    Conflict,
    FieldError,
    NotFound,
    invalid,
    unknown_parameters,
    uuid_parameter,
)
from lrs.replica import applied_through_ms, primary_position
from lrs.runtime import lrs_runtime
from lrs.statements.read import attachment_parts, get_statement, query_statements
from lrs.statements.write import ConcurrentWrite, prepare_batch, store_prepared
from lrs.xapi import xapi
from schemas.jsoninput import read_json

JSON = "application/json"


def _parse_json(raw: bytes | memoryview):
    """The statements of a body, read strictly (``schemas.jsoninput``).

    Duplicate keys are refused under 2.0.0 and, for conformance, accepted under 1.0.3 (the
    last one wins).
    """
    if not raw:
        raise BadRequest("the request body is empty; it must be a statement or an array of them")
    return read_json(
        raw, root="statement", list_root="statements", unique_keys=g.xapi_version != V103
    )


def _read_statements(
    single_id: str | None,
) -> tuple[list[dict], list[str], dict[str, AttachmentData], bool]:
    """The statements of a PUT or POST body, validated, with their attachment data.

    ``application/json`` bodies may only carry attachments with a fileUrl;
    ``multipart/mixed`` bodies carry the statements first and then one part per attachment
    (Communication 1.5). Other content types are a 400.
    """
    from schemas.xapi import StatementValidationError, validate_statements

    mimetype = request.mimetype
    body = request.get_data(cache=False)
    parts: list[multipart.Part] | None = None
    if mimetype == "multipart/mixed":
        all_parts = multipart.parse(body, multipart.boundary_of(request.content_type or ""))
        first, parts = all_parts[0], all_parts[1:]
        if first.content_type != JSON:
            raise BadRequest("the first part of a multipart/mixed request must be application/json")
        data = _parse_json(first.content)
    elif mimetype in ("", JSON) or mimetype.endswith("+json"):
        data = _parse_json(body)
    else:
        raise BadRequest(
            f"Content-Type {mimetype} is not accepted here; use application/json or multipart/mixed"
        )
    single = isinstance(data, dict)
    if single_id is not None:
        if not single:
            raise BadRequest("the body of a PUT must be a single statement object")
        given = data.get("id")
        if isinstance(given, str) and given.lower() != single_id.lower():
            raise BadRequest(
                "statement.id: does not match the statementId parameter",
                [FieldError("statement.id", "does not match the statementId parameter")],
            )
    try:
        statements = validate_statements(data, g.xapi_version)
    except StatementValidationError as exc:
        raise invalid(exc.errors) from None
    if single_id is not None and "id" not in data:
        data["id"] = single_id
    paths = ["statement"] if single else [f"statements[{i}]" for i in range(len(statements))]
    if parts is None:
        require_file_urls(statements, paths)
        attachments: dict[str, AttachmentData] = {}
    else:
        attachments = match_parts(statements, paths, parts)
    for statement, path in zip(statements, paths, strict=True):
        for j, attachment in signatures.signature_attachments(statement):
            data_part = attachments.get(attachment["sha2"].lower())
            where = f"{path}.attachments[{j}]"
            if data_part is None:
                raise BadRequest(f"{where}: the signature must be sent as an attachment part")
            signatures.verify(statement, data_part.content, g.xapi_version, where)
    return statements, paths, attachments, single


def _store(statements: list[dict], paths: list[str], attachments: dict[str, AttachmentData]):
    """Run the write path in its own transaction; retry once if a concurrent writer won a race."""
    container = lrs_runtime()
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
                    attachments=attachments,
                )
        except ConcurrentWrite:
            if attempt == 2:
                raise Conflict("a concurrent request stored the same statement id; retry") from None
    raise AssertionError("unreachable")


@xapi.route("/statements", methods=["PUT"])
def put_statement():
    """Store one statement under ``statementId`` (Communication 2.1.1); 204 on success."""
    require(g.principal, *WRITE_STATEMENTS)
    unknown_parameters(request.args, {"statementId"})
    statement_id = request.args.get("statementId")
    if not statement_id:
        raise BadRequest(
            "statementId: a PUT needs the statementId parameter",
            [FieldError("statementId", "required")],
        )
    # Checked here: a body without an id gets this one after the body's validation.
    statement_id = uuid_parameter(statement_id, "statementId")
    statements, paths, attachments, _ = _read_statements(statement_id)
    _store(statements, paths, attachments)
    return Response(status=204)


@xapi.route("/statements", methods=["POST"])
def post_statements():
    """Store one statement or a batch (Communication 2.1.2); 200 with the ids in order."""
    require(g.principal, *WRITE_STATEMENTS)
    unknown_parameters(request.args, ())
    statements, paths, attachments, _ = _read_statements(None)
    if not statements:
        return Response("[]", mimetype=JSON)
    batch = _store(statements, paths, attachments)
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
        repeated = [k for k, v in request.args.to_dict(flat=False).items() if len(v) > 1]
        if repeated:
            raise BadRequest(f"{repeated[0]}: given more than once")
        query = parse_statement_query(params, version)
    languages = parse_accept_language(request.headers.get("Accept-Language"))
    container = lrs_runtime()
    store_id = g.principal.store_id

    def answer(sessions, on_replica: bool = False):
        with read_transaction(sessions) as session:
            if on_replica:
                g.consistent_through_ms = applied_through_ms(session, *primary_at)
            if query.single:
                body, last_modified = get_statement(session, g.principal, query, languages)
                payloads = [body]
            else:
                page = query_statements(session, g.principal, query, languages)
                payloads, last_modified = page.statements, page.last_modified_ms
                more = (
                    f"{request.script_root}/xapi/statements?more={page.more}" if page.more else ""
                )
                body = '{"statements":[' + ",".join(payloads) + '],"more":' + json.dumps(more) + "}"
            parts = attachment_parts(session, store_id, payloads) if query.attachments else None
            return body, last_modified, parts

    replica = container.replica_sessions
    if replica is None:
        body, last_modified, parts = answer(container.sessions)
    else:
        asked_ms = container.clock()
        with read_transaction(container.sessions) as session:
            primary_at = (primary_position(session), asked_ms)
        try:
            body, last_modified, parts = answer(replica, on_replica=True)
        except NotFound:  # not replayed yet: read your writes from the primary
            if not query.single:
                raise
            g.consistent_through_ms = container.clock()
            body, last_modified, parts = answer(container.sessions)
    if parts is None:
        response = Response(body, mimetype=JSON)
    else:
        content, content_type = multipart.build(body, parts)
        response = Response(content, content_type=content_type)
    if last_modified is not None:
        response.headers["Last-Modified"] = http_date(last_modified)
    return response


def export_download(store_id: int, store_name: str, parsed, languages: list[str]) -> Response:
    """The streamed download of an export (``lrs.statements.export``), for the page and /api.

    Called once the role and the parameters are checked: from here on the body streams a chunk
    at a time in its own read transaction, named for the store and the day.
    """
    from flask import stream_with_context

    from lrs.statements import export

    sessions = lrs_runtime().sessions

    def body():
        with read_transaction(sessions) as db:
            yield from export.export_chunks(db, store_id, parsed, languages)

    name = export.download_name(store_name, parsed.kind, dt.datetime.now(dt.UTC).date())
    response = Response(stream_with_context(body()), mimetype=export.MEDIA_TYPES[parsed.kind])
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response
