"""Administration pages for the capture sources: connectors, identity links, LTI platforms.

Thin, like the other pages: each form calls the service the CLI and admin API call.
"""

from __future__ import annotations

from flask import redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from lrs.db import read_transaction, write_transaction
from lrs.errors import LrsError
from lrs.runtime import lrs_runtime
from web.admin_lms import outcome_words
from web.blueprint import base_url, pages, signed_in_admin
from web.i18n import say
from web.security import check_csrf

KINDS = ("github", "gitlab", "gerrit")


@pages.get("/admin/connectors")
def connectors():
    from connectors import services as connector_services

    with read_transaction(lrs_runtime().sessions) as db:
        viewer = signed_in_admin(db)
        rows = [
            connector_services.connector_info(c, base_url())
            for c in connector_services.list_connectors(db, viewer.store_id)
        ]
    return render_template(
        "admin_connectors.html",
        connectors=rows,
        kinds=KINDS,
        created=session.pop("new_connector", None),
        error=session.pop("admin_error", None),
    )


@pages.post("/admin/connectors")
def create_connector():
    from connectors import services as connector_services

    check_csrf()
    kind = request.form.get("kind", "")
    label = request.form.get("label", "").strip()[:200]
    try:
        with write_transaction(lrs_runtime().sessions) as db:
            viewer = signed_in_admin(db)
            box = connector_services.secret_box(lrs_runtime().instance_secret())
            connector, secret = connector_services.create_connector(
                db, viewer.store_id, kind, box, label
            )
            session["new_connector"] = {
                **connector_services.connector_info(connector, base_url()),
                "secret": secret,
            }
    except LrsError as exc:
        session["admin_error"] = say(exc.message)
    return redirect(url_for("web.connectors") + "#created")


@pages.post("/admin/connectors/<int:connector_id>/rotate")
def rotate_connector(connector_id: int):
    from connectors import services as connector_services

    check_csrf()
    with write_transaction(lrs_runtime().sessions) as db:
        viewer = signed_in_admin(db)
        box = connector_services.secret_box(lrs_runtime().instance_secret())
        secret = connector_services.rotate_secret(db, viewer.store_id, connector_id, box)
        connector = connector_services.get_connector(db, viewer.store_id, connector_id)
        session["new_connector"] = {
            **connector_services.connector_info(connector, base_url()),
            "secret": secret,
        }
    return redirect(url_for("web.connectors") + "#created")


@pages.post("/admin/connectors/<int:connector_id>/delete")
def delete_connector(connector_id: int):
    from connectors import services as connector_services

    check_csrf()
    with write_transaction(lrs_runtime().sessions) as db:
        viewer = signed_in_admin(db)
        connector_services.delete_connector(db, viewer.store_id, connector_id)
    return redirect(url_for("web.connectors"))


@pages.get("/admin/lti")
def lti_platforms():
    from lti import registrations as lti_registrations
    from lti import tasks as lti_tasks
    from lti.models import ToolKey, utc

    with read_transaction(lrs_runtime().sessions) as db:
        viewer = signed_in_admin(db)
        deliveries = [
            {**d, "when": utc(d["when_ms"])} for d in lti_tasks.deliveries(db, viewer.store_id)
        ]
        failed = lti_tasks.failed_grades(db, viewer.store_id)
        registrations = [
            lti_registrations.registration_view(db, r)
            for r in lti_registrations.list_registrations(db, viewer.store_id)
        ]
        keys = [
            {
                "kid": k.kid,
                "created": utc(k.created_ms),
                "retired": utc(k.retired_ms) if k.retired_ms else "",
            }
            for k in db.scalars(select(ToolKey).order_by(ToolKey.created_ms.desc()))
        ]
    base = base_url()
    tool = {
        "login": base + "/lti/login",
        "launch": base + "/lti/launch",
        "jwks": base + "/lti/jwks",
    }
    return render_template(
        "admin_lti.html",
        registrations=registrations,
        keys=keys,
        tool=tool,
        deliveries=deliveries,
        failed=failed,
        outcome_words=outcome_words(),
        invite=session.pop("new_invite", None),
        error=session.pop("admin_error", None),
    )


@pages.post("/admin/lti/invites")
def lti_invite():
    from lti import registrations as lti_registrations
    from lti import runtime

    check_csrf()
    rt = runtime()
    with write_transaction(lrs_runtime().sessions) as db:
        viewer = signed_in_admin(db)
        token = lti_registrations.create_invite(
            db, viewer.store_id, rt.now(), rt.config.invite_seconds
        )
    session["new_invite"] = f"{base_url()}/lti/register?invite={token}"
    return redirect(url_for("web.lti_platforms") + "#invite")


@pages.post("/admin/lti/registrations")
def lti_register():
    from lti import registrations as lti_registrations
    from lti import runtime

    check_csrf()
    form = request.form
    data = lti_registrations.RegistrationData(
        issuer=form.get("issuer", "").strip(),
        client_id=form.get("client_id", "").strip(),
        auth_login_url=form.get("auth_login_url", "").strip(),
        auth_token_url=form.get("auth_token_url", "").strip(),
        key_set_url=form.get("key_set_url", "").strip(),
        deployment_ids=[d.strip() for d in form.get("deployment_ids", "").split(",") if d.strip()],
        name=form.get("name", "").strip(),
        # Brightspace names its token endpoint's audience apart from the token URL.
        auth_audience=form.get("auth_audience", "").strip() or None,
    )
    try:
        if not all(
            (
                data.issuer,
                data.client_id,
                data.auth_login_url,
                data.auth_token_url,
                data.key_set_url,
                data.deployment_ids,
            )
        ):
            raise LrsError(_("every field but the name and the audience is required"))
        lti_registrations.check_registration_urls(data, runtime())
        with write_transaction(lrs_runtime().sessions) as db:
            viewer = signed_in_admin(db)
            lti_registrations.create_registration(db, viewer.store_id, data, source="web")
    except LrsError as exc:
        session["admin_error"] = say(exc.message)
    return redirect(url_for("web.lti_platforms"))
