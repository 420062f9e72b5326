"""The inbox (the bell on every page), e-mail preferences, and the one-click unsubscribe.

``/unsubscribe/<token>`` needs no session: the token is signed by Learnloop for one person and
one kind. A GET shows a button; a POST (the button, or a mail client's RFC 8058 one-click
``List-Unsubscribe=One-Click``) turns that kind off.
"""

from __future__ import annotations

import json

from flask import g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from lrs.db import read_transaction, write_transaction
from lrs.errors import BadRequest, LrsError
from lrs.runtime import lrs_runtime
from notifications import services
from notifications.kinds import KINDS, title_in
from notifications.settings import mail_config
from web.blueprint import pages, signed_in
from web.i18n import date_filter, say
from web.security import check_csrf


@pages.app_context_processor
def _bell():
    def unread_count() -> int:
        viewer = g.get("viewer")
        if viewer is None or not viewer.person_id:
            return 0
        with read_transaction(lrs_runtime().sessions) as db:
            return services.unread(db, viewer.store_id, viewer.person_id)

    return {"unread_count": unread_count}


@pages.get("/notifications")
def inbox():
    """The signed-in person's notifications, newest first (50 at a time, ``?before=<id>``)."""
    runtime = lrs_runtime()
    before = request.args.get("before", type=int)
    with read_transaction(runtime.sessions) as db:
        viewer = signed_in(db)
        rows = (
            services.inbox(db, viewer.store_id, viewer.person_id, before)
            if viewer.person_id
            else []
        )
        titles = {n.id: title_in(n.title, json.loads(n.data), _, date_filter) for n in rows}
        return render_template(
            "inbox.html",
            rows=rows,
            titles=titles,
            more=rows[-1].id if len(rows) == services.INBOX_PAGE else None,
            email_on=mail_config().configured,
        )


@pages.post("/notifications/read")
def mark_read():
    """Mark one notification (``id``) or all of them read; back to where the form was."""
    check_csrf()
    runtime = lrs_runtime()
    raw = request.form.get("id")
    with write_transaction(runtime.sessions) as db:
        viewer = signed_in(db)
        if viewer.person_id:
            ids = [int(raw)] if raw and raw.isdigit() else None
            services.mark_read(db, viewer.store_id, viewer.person_id, runtime.clock(), ids)
    return redirect(url_for("web.inbox"), 303)


@pages.route("/notifications/preferences", methods=["GET", "POST"])
def preferences():
    """How the signed-in person hears of each kind by e-mail: immediately, digest, off."""
    runtime = lrs_runtime()
    done = error = None
    status = 200
    if request.method == "POST":
        check_csrf()
        try:
            with write_transaction(runtime.sessions) as db:
                viewer = signed_in(db)
                if not viewer.person_id:
                    raise BadRequest("this account is not a person of the organisation")
                for kind in KINDS:
                    if kind in request.form:
                        services.set_mode(
                            db,
                            viewer.store_id,
                            viewer.person_id,
                            kind,
                            request.form[kind],
                            runtime.clock(),
                        )
            done = _("Saved.")
        except LrsError as exc:
            if exc.status in (401, 403):
                raise
            error, status = say(exc.message), 400
    with read_transaction(runtime.sessions) as db:
        viewer = signed_in(db)
        modes = services.modes_of(db, viewer.person_id) if viewer.person_id else {}
        page = render_template(
            "preferences.html",
            kinds=KINDS,
            modes=modes,
            allowed=services.allowed_modes,
            done=done,
            error=error,
            email_on=mail_config().configured,
        )
    return page, status


@pages.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    """Turn one kind of e-mail off for the token's person, without signing in (RFC 8058)."""
    runtime = lrs_runtime()
    found = services.read_unsubscribe(runtime.instance_secret(), token)
    kind = KINDS[found.kind]
    if request.method == "GET":
        return render_template("unsubscribe.html", kind=kind, done=False)
    with write_transaction(runtime.sessions) as db:
        services.unsubscribe(db, found, runtime.clock())
    return render_template("unsubscribe.html", kind=kind, done=True)
