"""The forwarding page (admins only): destinations, rules, delivery log, resume, pause, replay.

Plain forms, no JavaScript: each action is one POST with the CSRF token and an ``action``
field; a refused value comes back as the page with the message (400), nothing changed. The
destination's secret is a password field, sealed at once and never shown again.
"""

from __future__ import annotations

import datetime as dt

from flask import render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lrs import deliveries
from lrs.db import read_transaction, write_transaction
from lrs.errors import BadRequest, LrsError
from lrs.forwarding import services
from lrs.forwarding.models import BASIC, OAUTH
from lrs.forwarding.rules import SOURCES, RuleSpec
from lrs.forwarding.settings import forwarding_config
from lrs.runtime import lrs_runtime
from web.blueprint import pages, signed_in_admin
from web.i18n import moment_filter, say
from web.security import check_csrf

LOG = 15
#: A destination's state, in words.
STATES = {"active": _l("active"), "paused": _l("paused"), "dead": _l("dead-lettered")}
#: A delivery attempt's outcome, in words (the forwarding, webhook and notification logs).
OUTCOMES = {
    "delivered": _l("delivered"),
    "retrying": _l("retrying"),
    "dead": _l("dead-lettered"),
    "failed": _l("not delivered"),
}


def _int(name: str) -> int:
    try:
        return int(request.form.get(name, ""))
    except ValueError:
        raise BadRequest(_("%(field)s: must be a number", field=name)) from None


def _since_ms(text: str) -> int:
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(
            _("since: must be a date (2026-12-01) or a UTC time (2026-12-01T09:00)")
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)


def _act(db, store_id: int, now_ms: int) -> str:
    """Do the form's action; returns what happened, in words."""
    action = request.form.get("action", "")
    form = request.form
    if action == "create":
        runtime = lrs_runtime()
        token_url = form.get("token_url", "").strip()
        made = services.create_destination(
            db,
            store_id,
            services.NewDestination(
                form.get("name", ""),
                form.get("endpoint", "").strip(),
                form.get("username", ""),
                form.get("secret", ""),
                OAUTH if form.get("auth") == OAUTH else BASIC,
                token_url,
                form.get("scope", ""),
                form.get("version", "2.0.0"),
            ),
            forwarding_config(),
            services.secret_box(runtime.instance_secret()),
            now_ms,
        )
        return _(
            "Destination %(name)s added; it receives statements stored from now on.",
            name=made.name,
        )
    destination = services.get_destination(db, store_id, _int("destination_id"))
    if action == "add_rule":
        spec = RuleSpec(
            form.get("verb", "").strip(),
            form.get("activity_prefix", "").strip(),
            form.get("source", ""),
            form.get("actor_domain", "").strip(),
        )
        rule = services.add_rule(db, destination, spec)
        return _(
            "Rule added to %(name)s: %(rule)s.",
            name=destination.name,
            rule=services.spec_of(rule).describe(),
        )
    if action == "remove_rule":
        services.remove_rule(db, destination, _int("rule_id"))
        return _("Rule removed from %(name)s.", name=destination.name)
    if action == "resume":
        services.resume(db, destination, now_ms)
        return _("%(name)s resumed; the worker sends what is waiting.", name=destination.name)
    if action == "pause":
        services.pause(db, destination)
        return _("%(name)s paused; statements wait for it.", name=destination.name)
    if action == "replay":
        since = _since_ms(form.get("since", ""))
        services.replay(db, destination, since, now_ms)
        return _(
            "%(name)s replays the statements stored since %(since)s.",
            name=destination.name,
            since=moment_filter(since),
        )
    if action == "delete":
        name = destination.name
        services.delete_destination(db, destination)
        return _("Destination %(name)s removed.", name=name)
    raise BadRequest(_("action: unknown"))


@pages.route("/admin/forwarding", methods=["GET", "POST"])
def admin_forwarding():
    """Show the store's forwarding destinations; change them. Admins only (403)."""
    runtime = lrs_runtime()
    error = done = None
    status = 200
    if request.method == "POST":
        check_csrf()
        try:
            with write_transaction(runtime.sessions) as db:
                viewer = signed_in_admin(db)
                done = _act(db, viewer.store_id, runtime.clock())
        except LrsError as exc:
            if exc.status in (401, 403):
                raise
            error, status = say(exc.message), 400 if exc.status != 404 else 404
    with read_transaction(runtime.sessions) as db:
        viewer = signed_in_admin(db)
        rows = []
        for d in services.list_destinations(db, viewer.store_id):
            rows.append(
                {
                    "destination": d,
                    "rules": [
                        (r.id, services.spec_of(r).describe()) for r in services.rules_of(db, d.id)
                    ],
                    "backlog": services.backlog(db, d),
                    "log": deliveries.recent(db, viewer.store_id, deliveries.FORWARD, d.id, LOG),
                }
            )
        page = render_template(
            "admin_forwarding.html",
            rows=rows,
            error=error,
            done=done,
            when=moment_filter,
            sources=SOURCES,
            states=STATES,
            outcomes=OUTCOMES,
        )
    return page, status
