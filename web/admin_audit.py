"""The audit trail page (admins only): who did what, when, from where; CSV and JSON Lines.

Newest first, 50 a page with a ``before`` keyset link; filters by action (a family such as
``credential`` or an exact ``credential.revoked``) and by words of the actor. The exports carry
the same filters and stream the whole filtered trail a keyset batch at a time, never building
it in memory; they are checked for the admin role before the first byte is sent.
"""

from __future__ import annotations

import datetime as dt

from flask import Response, abort, render_template, request, stream_with_context
from flask_babel import gettext as _

from lrs import audit
from lrs.db import read_transaction
from lrs.models import Store
from lrs.runtime import lrs_runtime
from schemas.fields import id_parameter
from web.blueprint import pages, signed_in_admin

PAGE = 50


def _filters(store_id: int) -> audit.AuditFilter:
    return audit.filter_of(store_id, request.args.get("action", ""), request.args.get("actor", ""))


def _before() -> int | None:
    text = request.args.get("before", "")
    if not text:
        return None
    try:
        return id_parameter(text)
    except ValueError:
        abort(400, description=_("before: must be the id of an audit event"))


@pages.get("/admin/audit")
def audit_trail():
    before = _before()
    with read_transaction(lrs_runtime().sessions) as db:
        viewer = signed_in_admin(db)
        where = _filters(viewer.store_id)
        events, more = audit.list_events(db, where, before_id=before, limit=PAGE)
        rows = [audit.event_json(e) for e in events]
        return render_template(
            "admin_audit.html",
            rows=rows,
            more=more,
            filters={"action": where.action, "actor": where.actor},
            actions=audit.known_actions(db, viewer.store_id),
            store=db.get(Store, viewer.store_id),
        )


def _export(kind: str, lines, mimetype: str) -> Response:
    runtime = lrs_runtime()
    with read_transaction(runtime.sessions) as db:
        viewer = signed_in_admin(db)  # refused before anything streams
        where = _filters(viewer.store_id)
        store_name = db.get(Store, viewer.store_id).name

    def body():
        with read_transaction(runtime.sessions) as db:
            yield from lines(audit.iter_events(db, where))

    day = dt.datetime.now(dt.UTC).date().isoformat()
    response = Response(stream_with_context(body()), mimetype=mimetype)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="audit-{store_name}-{day}.{kind}"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@pages.get("/admin/audit.csv")
def audit_csv():
    return _export("csv", audit.csv_lines, "text/csv")


@pages.get("/admin/audit.jsonl")
def audit_jsonl():
    return _export("jsonl", audit.jsonl_lines, "application/jsonl")
