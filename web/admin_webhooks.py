"""The webhooks page (admins only): endpoints, their secret shown once, test-send, delivery log.

Plain forms, no JavaScript. The test-send button posts a signed ``webhook.test`` event at once
(not queued) and the page shows the endpoint's answer; it is in the delivery log too.
"""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lrs import deliveries, webhooks
from lrs.db import read_transaction, write_transaction
from lrs.errors import BadRequest, LrsError
from lrs.forwarding.settings import forwarding_config
from lrs.runtime import lrs_runtime
from web.admin_forwarding import OUTCOMES
from web.blueprint import pages, signed_in_admin
from web.i18n import moment_filter, say
from web.security import check_csrf

LOG = 15
#: The events in words, next to their type (the type is what the JSON says).
EVENT_NAMES = {
    webhooks.OBJECTIVE_MET: _l("An objective is met"),
    webhooks.REVIEW_SUBMITTED: _l("A review is submitted"),
    webhooks.TEST: _l("Test event"),
}


def _endpoint_id() -> int:
    try:
        return int(request.form.get("endpoint_id", ""))
    except ValueError:
        raise BadRequest(_("endpoint_id: must be an endpoint's id")) from None


@pages.route("/admin/webhooks", methods=["GET", "POST"])
def admin_webhooks():
    """Show the store's webhook endpoints; add, test, disable, remove. Admins only (403)."""
    runtime = lrs_runtime()
    config = forwarding_config()
    error = done = issued = None
    status = 200
    if request.method == "POST":
        check_csrf()
        action = request.form.get("action", "")
        try:
            if action == "test":
                with read_transaction(runtime.sessions) as db:
                    store_id = signed_in_admin(db).store_id
                sent = webhooks.test_send(
                    runtime.sessions,
                    _endpoint_id(),
                    store_id,
                    runtime.instance_secret(),
                    config.outbound_guard(),
                    config.limits(),
                    runtime.clock,
                )
                if sent.ok:
                    done = _("Test event delivered: %(answer)s.", answer=sent.message)
                else:
                    error = _("Test event not delivered: %(answer)s.", answer=sent.message)
            else:
                with write_transaction(runtime.sessions) as db:
                    viewer = signed_in_admin(db)
                    if action == "create":
                        endpoint, secret = webhooks.create_endpoint(
                            db,
                            viewer.store_id,
                            request.form.get("url", "").strip(),
                            request.form.getlist("events"),
                            request.form.get("description", ""),
                            config.outbound_guard(),
                            webhooks.secret_box(runtime.instance_secret()),
                            runtime.clock(),
                        )
                        issued = {"url": endpoint.url, "secret": secret}
                    else:
                        endpoint = webhooks.get_endpoint(db, viewer.store_id, _endpoint_id())
                        if action in ("enable", "disable"):
                            webhooks.set_active(db, endpoint, action == "enable")
                            done = (
                                _("%(url)s activated.", url=endpoint.url)
                                if action == "enable"
                                else _("%(url)s deactivated.", url=endpoint.url)
                            )
                        elif action == "delete":
                            webhooks.delete_endpoint(db, endpoint)
                            done = _("%(url)s removed.", url=endpoint.url)
                        else:
                            raise BadRequest(_("action: unknown"))
        except LrsError as exc:
            if exc.status in (401, 403):
                raise
            error, status = say(exc.message), 404 if exc.status == 404 else 400
    with read_transaction(runtime.sessions) as db:
        viewer = signed_in_admin(db)
        rows = [
            {
                "endpoint": e,
                "log": deliveries.recent(db, viewer.store_id, deliveries.WEBHOOK, e.id, LOG),
            }
            for e in webhooks.list_endpoints(db, viewer.store_id)
        ]
        page = render_template(
            "admin_webhooks.html",
            rows=rows,
            error=error,
            done=done,
            issued=issued,
            when=moment_filter,
            event_types=webhooks.EVENT_TYPES,
            event_names=EVENT_NAMES,
            outcomes=OUTCOMES,
        )
    return page, status
