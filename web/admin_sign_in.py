"""The sign-in settings page of a store (admins only): passwords, single sign-on, domains."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for

from directory.sign_in import services as sign_ins
from directory.sign_in.oidc import relying_party
from lrs.db import read_transaction, write_transaction
from lrs.errors import LrsError
from lrs.models import Store
from lrs.runtime import lrs_runtime
from web.blueprint import base_url, pages, signed_in_admin
from web.i18n import say
from web.security import check_csrf


@pages.route("/admin/sign-in", methods=["GET", "POST"])
def admin_sign_in():
    """Show and change how the store's people sign in. Only the store's admins (403 else)."""
    errors: dict[str, str] = {}
    saved = request.args.get("saved") == "1"
    runtime = lrs_runtime()
    if request.method == "POST":
        check_csrf()
        form = request.form
        try:
            with write_transaction(runtime.sessions) as db:
                viewer = signed_in_admin(db)
                secret = form.get("client_secret", "").strip()
                sign_ins.save_settings(
                    db,
                    db.get(Store, viewer.store_id),
                    password_enabled=bool(form.get("password_enabled")),
                    issuer=form.get("issuer", ""),
                    client_id=form.get("client_id", ""),
                    new_client_secret=secret or None,
                    domains=sign_ins.parse_domains(form.get("domains", "")),
                    box=sign_ins.SecretBox(runtime.instance_secret()) if secret else None,
                    guard=relying_party().guard,
                )
        except LrsError as exc:
            errors = {e.path: say(e.message) for e in exc.errors} or {"form": say(exc.message)}
        else:
            return redirect(url_for("web.admin_sign_in", saved=1))
    with read_transaction(runtime.sessions) as db:
        viewer = signed_in_admin(db)
        settings = sign_ins.settings_of(db, db.get(Store, viewer.store_id))
    return render_template(
        "admin_sign_in.html",
        settings=settings,
        form=request.form if errors else None,
        errors=errors,
        saved=saved,
        redirect_uri=base_url() + url_for("web.sso_callback"),
        store_url=base_url() + url_for("web.store_sign_in", store_name=settings.store_name),
    ), 400 if errors else 200
