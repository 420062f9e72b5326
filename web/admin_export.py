"""The statement export download (admins only): the statement browser's filters as CSV or NDJSON.

The statements page (``/admin/statements``) carries a plain GET form to here with the filters
it shows, so the download works without JavaScript. The role is checked and the filters parsed
before the first byte is sent (a bad filter is an error page naming it); the body is then
streamed a chunk at a time by ``lrs.statements.export``, as ``GET /api/statements/export`` and
``learnloop statements export`` do.
"""

from __future__ import annotations

import json

from flask import request

from lrs.core.formats import parse_accept_language
from lrs.db import read_transaction
from lrs.models import Store
from lrs.runtime import lrs_runtime
from lrs.statements import export
from lrs.statements.views import export_download
from web.blueprint import pages, signed_in_admin

#: The form's fields: the browser's filters plus the export's own choices.
FIELDS = (*export.FILTERS, "format", "statement_format")


def export_params(args) -> dict[str, str]:
    """Export parameters from the form: empty fields dropped, an email made an Agent."""
    params = {k: v.strip() for k, v in args.items() if k in FIELDS and v.strip()}
    agent = params.get("agent")
    if agent and not agent.startswith("{"):
        mbox = agent if agent.startswith("mailto:") else "mailto:" + agent
        params["agent"] = json.dumps({"mbox": mbox})
    return params


@pages.get("/admin/statements/export")
def export_statements():
    runtime = lrs_runtime()
    with read_transaction(runtime.sessions) as db:
        viewer = signed_in_admin(db)  # refused before anything streams
        store_name = db.get(Store, viewer.store_id).name
    parsed = export.parse_export(export_params(request.args))
    languages = parse_accept_language(request.headers.get("Accept-Language"))
    return export_download(viewer.store_id, store_name, parsed, languages)
