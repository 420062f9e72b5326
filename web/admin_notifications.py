"""The notifications page (admins only): e-mail set up or not, its log, the teams' chat hooks.

A team opts in to Slack or Microsoft Teams; its events go through the queue and the outbound
guard, each attempt in the delivery log.
"""

from __future__ import annotations

from babel.dates import get_day_names
from flask import render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from lrs import deliveries
from lrs.db import read_transaction, write_transaction
from lrs.errors import BadRequest, LrsError
from lrs.forwarding.settings import forwarding_config
from lrs.people.models import Person
from lrs.runtime import lrs_runtime
from notifications import chat, services, tasks
from notifications.settings import DAYS, mail_config
from objectives.models import ReportingLine
from web.admin_forwarding import OUTCOMES
from web.blueprint import pages, signed_in_admin
from web.i18n import moment_filter, say
from web.security import check_csrf

LOG = 15


def _int(name: str) -> int:
    try:
        return int(request.form.get(name, ""))
    except ValueError:
        raise BadRequest(_("%(field)s: pick one", field=name)) from None


def _day_name(day: str) -> str:
    """The digest's weekday in the page's language ("Monday", "Montag", "lundi")."""
    if day.lower() not in DAYS:
        return day
    return get_day_names("wide", locale=get_locale() or "en")[DAYS.index(day.lower())]


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
                    done = _(
                        "%(chat)s hook added (%(host)s).",
                        chat=services.FLAVORS[hook.flavor],
                        host=hook.url_host,
                    )
                elif action == "remove":
                    services.remove_chat_hook(db, viewer.store_id, _int("hook_id"))
                    done = _("Hook removed.")
                else:
                    raise BadRequest(_("action: unknown"))
        except LrsError as exc:
            if exc.status in (401, 403):
                raise
            error, status = say(exc.message), 404 if exc.status == 404 else 400
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
        mail = mail_config()
        page = render_template(
            "admin_notifications.html",
            mail=mail,
            digest_day=_day_name(mail.digest_day),
            hooks=hooks,
            managers=managers,
            flavors=services.FLAVORS,
            emails=emails,
            people=people,
            error=error,
            done=done,
            when=moment_filter,
            outcomes=OUTCOMES,
        )
    return page, status
