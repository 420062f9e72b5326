"""The notifications page (admins only): e-mail set up or not, its log, the teams' chat hooks.

A team opts in to Slack or Microsoft Teams; its events go through the queue and the outbound
guard, each attempt in the delivery log.
"""

from __future__ import annotations

from flask import render_template, request
from sqlalchemy import select

from lrs import deliveries
from lrs.db import read_transaction, write_transaction
from lrs.errors import BadRequest, LrsError
from lrs.forwarding.settings import forwarding_config
from lrs.people.models import Person
from lrs.runtime import lrs_runtime
from notifications import chat, services, tasks
from notifications.settings import mail_config
from objectives.models import ReportingLine
from web.admin_forwarding import when
from web.blueprint import pages, signed_in_admin
from web.security import check_csrf

LOG = 15


def _int(name: str) -> int:
    try:
        return int(request.form.get(name, ""))
    except ValueError:
        raise BadRequest(f"{name}: pick one") from None


@pages.route("/admin/notifications", methods=["GET", "POST"])
def admin_notifications():
    """E-mail status and log; add or remove a team's chat hook. Admins only (403)."""
    runtime = lrs_runtime()
    error = done = None
    status = 200
    if request.method == "POST":
        check_csrf()
        action = request.form.get("action", "")
        try:
            with write_transaction(runtime.sessions) as db:
                viewer = signed_in_admin(db)
                if action == "add":
                    hook = services.add_chat_hook(
                        db,
                        viewer.store_id,
                        _int("manager_id"),
                        request.form.get("flavor", ""),
                        request.form.get("url", "").strip(),
                        forwarding_config().outbound_guard(),
                        services.chat_box(runtime.instance_secret()),
                        runtime.clock(),
                    )
                    done = f"{services.FLAVORS[hook.flavor]} hook added ({hook.url_host})."
                elif action == "remove":
                    services.remove_chat_hook(db, viewer.store_id, _int("hook_id"))
                    done = "Hook removed."
                else:
                    raise BadRequest("action: unknown")
        except LrsError as exc:
            if exc.status in (401, 403):
                raise
            error, status = exc.message, 404 if exc.status == 404 else 400
    with read_transaction(runtime.sessions) as db:
        viewer = signed_in_admin(db)
        managers = db.execute(
            select(Person.id, Person.name)
            .where(
                Person.id.in_(
                    select(ReportingLine.manager_id).where(
                        ReportingLine.store_id == viewer.store_id
                    )
                )
            )
            .order_by(Person.name)
        ).all()
        hooks = [
            {
                "hook": hook,
                "team": name,
                "log": deliveries.recent(db, viewer.store_id, chat.CHANNEL, hook.id, LOG),
            }
            for hook, name in services.chat_hooks(db, viewer.store_id)
        ]
        emails = deliveries.recent(db, viewer.store_id, tasks.CHANNEL, None, LOG)
        people = dict(
            db.execute(
                select(Person.id, Person.name).where(Person.id.in_({e.target_id for e in emails}))
            ).all()
        )
        page = render_template(
            "admin_notifications.html",
            mail=mail_config(),
            hooks=hooks,
            managers=managers,
            flavors=services.FLAVORS,
            emails=emails,
            people=people,
            error=error,
            done=done,
            when=when,
        )
    return page, status
