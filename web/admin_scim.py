"""The SCIM provisioning page (admins only): base URL; tokens made, shown once, revoked."""

from __future__ import annotations

import datetime as dt

from flask import render_template, request
from flask_babel import gettext as _

from directory.scim.tokens import create_token, list_tokens, revoke_token
from lrs.db import read_transaction, write_transaction
from lrs.errors import BadRequest, LrsError
from lrs.models import Store
from lrs.runtime import lrs_runtime
from web.blueprint import base_url, pages, signed_in_admin
from web.i18n import say
from web.security import check_csrf


def _now() -> dt.datetime:
    return dt.datetime.fromtimestamp(lrs_runtime().clock() / 1000, dt.UTC)


@pages.route("/admin/scim", methods=["GET", "POST"])
def admin_scim():
    """Show the store's SCIM tokens; make one (shown once) or revoke one. Admins only (403)."""
    runtime = lrs_runtime()
    issued = None
    error = None
    status = 200
    if request.method == "POST":
        check_csrf()
        try:
            with write_transaction(runtime.sessions) as db:
                viewer = signed_in_admin(db)
                if request.form.get("action") == "revoke":
                    try:
                        token_id = int(request.form.get("token_id", ""))
                    except ValueError:
                        raise BadRequest(_("token_id: must be a token's id")) from None
                    revoke_token(db, viewer.store_id, token_id, _now())
                else:
                    store = db.get(Store, viewer.store_id)
                    issued = create_token(db, store.name, request.form.get("name", ""))
        except LrsError as exc:
            if exc.status in (401, 403):
                raise
            error, status = say(exc.message), 400
    with read_transaction(runtime.sessions) as db:
        viewer = signed_in_admin(db)
        page = render_template(
            "admin_scim.html",
            tokens=list_tokens(db, viewer.store_id),
            issued=issued,
            error=error,
            scim_url=base_url() + "/scim/v2",
        )
    return page, status
