"""The forwarding page (admins only): destinations, rules, delivery log, resume, pause, replay.

Plain forms, no JavaScript: each action is one POST with the CSRF token and an ``action``
field; a refused value comes back as the page with the message (400), nothing changed. The
destination's secret is a password field, sealed at once and never shown again.
"""

from __future__ import annotations

import datetime as dt

from flask import render_template, request

from lrs import deliveries
from lrs.db import read_transaction, write_transaction
from lrs.errors import BadRequest, LrsError
from lrs.forwarding import services
from lrs.forwarding.models import BASIC, OAUTH
from lrs.forwarding.rules import SOURCES, RuleSpec
from lrs.forwarding.settings import forwarding_config
from lrs.runtime import lrs_runtime
from web.blueprint import pages, signed_in_admin
from web.security import check_csrf

LOG = 15


def _int(name: str) -> int:
    try:
        return int(request.form.get(name, ""))
    except ValueError:
        raise BadRequest(f"{name}: must be a number") from None


def _since_ms(text: str) -> int:
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(
            "since: must be a date (2026-12-01) or a UTC time (2026-12-01T09:00)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)


def when(ms: int | None) -> str:
    if not ms:
        return "—"
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


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
        return f"Destination {made.name} added; it receives statements stored from now on."
    destination = services.get_destination(db, store_id, _int("destination_id"))
    if action == "add_rule":
        spec = RuleSpec(
            form.get("verb", "").strip(),
            form.get("activity_prefix", "").strip(),
            form.get("source", ""),
            form.get("actor_domain", "").strip(),
        )
        rule = services.add_rule(db, destination, spec)
        return f"Rule added to {destination.name}: {services.spec_of(rule).describe()}."
    if action == "remove_rule":
        services.remove_rule(db, destination, _int("rule_id"))
        return f"Rule removed from {destination.name}."
    if action == "resume":
        services.resume(db, destination, now_ms)
        return f"{destination.name} resumed; the worker sends what is waiting."
    if action == "pause":
        services.pause(db, destination)
        return f"{destination.name} paused; statements wait for it."
    if action == "replay":
        since = _since_ms(form.get("since", ""))
        services.replay(db, destination, since, now_ms)
        return f"{destination.name} replays the statements stored since {when(since)}."
    if action == "delete":
        name = destination.name
        services.delete_destination(db, destination)
        return f"Destination {name} removed."
    raise BadRequest("action: unknown")


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
            error, status = exc.message, 400 if exc.status != 404 else 404
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
            when=when,
            sources=SOURCES,
        )
    return page, status
