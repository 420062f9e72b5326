"""The directory's pages: people, reporting lines, identities, the CSV import, accounts.

Thin, like the other pages: each form calls the ``directory`` service the CLI calls. A refused
form comes back with its values and each error next to its field (``refused``); services say
which field in their message (``"email: …"``). Admins see everyone; managers their reports;
only admins add, deactivate and import people and manage accounts.
"""

from __future__ import annotations

import datetime as dt

from flask import abort, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from directory import admin_accounts, importing
from directory import people as directory
from lrs.db import read_transaction, write_transaction
from lrs.errors import LrsError
from lrs.runtime import lrs_runtime
from objectives import services as svc
from objectives.models import Account
from schemas.fields import id_parameter
from web.blueprint import base_url, pages, signed_in, signed_in_admin
from web.i18n import field_and_words, say
from web.security import check_csrf, sign_in_session

IDENTITY_NAMES = {
    "github": _l("GitHub login"),
    "gitlab": _l("GitLab login"),
    "gerrit": _l("Gerrit account"),
    "account": _l("LMS account"),
    "email": _l("Another e-mail address"),
}
#: What a form that names no choice is told, by the field it left empty.
PICK = {
    "manager_id": _l("Pick a manager."),
    "template_id": _l("Pick a template."),
    "person_id": _l("Pick a person."),
}


def now() -> dt.datetime:
    return dt.datetime.fromtimestamp(lrs_runtime().clock() / 1000, dt.UTC)


def signed_in_manager(db):
    """Admins and managers (someone with reports); others get the 403 page in words."""
    viewer = signed_in(db)
    svc.require_manager_role(db, viewer)
    return viewer


def refused(exc: LrsError, fields: tuple[str, ...], form=None) -> None:
    """Keep a refused form's values and its error, on its field when the message names one."""
    field, words = field_and_words(exc.message)
    if field and field in fields:
        errors = {field: words}
    else:  # "cycle: … is closed" is said at the top of the page, in words
        errors = {
            "form": words[:1].upper() + words[1:] if field.isidentifier() else say(exc.message)
        }
    session["admin_errors"] = errors
    if form is not None:
        session["admin_values"] = {k: v for k, v in form.items() if k != "csrf_token"}


def shown_form() -> tuple[dict, dict]:
    """The refused form's errors and values, once."""
    return session.pop("admin_errors", None) or {}, session.pop("admin_values", None) or {}


def form_id(name: str) -> int:
    try:
        return id_parameter(request.form.get(name, ""))
    except ValueError:
        abort(400, description=str(PICK.get(name) or _("Pick one of the choices.")))


# --- people ------------------------------------------------------------------------------------


@pages.get("/admin/people")
def people():
    with read_transaction(lrs_runtime().sessions) as db:
        viewer = signed_in_manager(db)
        rows = directory.list_people(db, viewer)
        choices = directory.manager_choices(db, viewer, None) if viewer.is_admin else []
        errors, values = shown_form()
        return render_template(
            "admin_people.html",
            rows=rows,
            choices=choices,
            errors=errors,
            values=values,
            done=session.pop("admin_done", None),
        )


@pages.post("/admin/people")
def create_person():
    check_csrf()
    form = request.form
    manager = form.get("manager_id") or None
    try:
        with write_transaction(lrs_runtime().sessions) as db:
            viewer = signed_in_manager(db)
            manager_id = form_id("manager_id") if manager else None
            person = directory.create_person(
                db, viewer, form.get("name", ""), form.get("email", ""), manager_id
            )
            session["admin_done"] = _("%(name)s added.", name=person.name)
    except LrsError as exc:
        if exc.status in (401, 403, 404):
            raise
        refused(exc, ("name", "email", "manager"), form)
        return redirect(url_for("web.people") + "#add")
    return redirect(url_for("web.people"))


@pages.get("/admin/people/<int:person_id>")
def person_admin(person_id: int):
    with read_transaction(lrs_runtime().sessions) as db:
        viewer = signed_in_manager(db)
        view = directory.person_view(db, viewer, person_id)
        errors, values = shown_form()
        return render_template(
            "admin_person.html",
            identity_names=IDENTITY_NAMES,
            errors=errors,
            values=values,
            done=session.pop("admin_done", None),
            **view,
        )


def _person_change(person_id: int, change, fields: tuple[str, ...], done: str, anchor: str):
    check_csrf()
    try:
        with write_transaction(lrs_runtime().sessions) as db:
            change(db, signed_in_manager(db))
        session["admin_done"] = done
    except LrsError as exc:
        if exc.status in (401, 403, 404):
            raise
        refused(exc, fields, request.form)
    return redirect(url_for("web.person_admin", person_id=person_id) + anchor)


@pages.post("/admin/people/<int:person_id>")
def update_person(person_id: int):
    form = request.form
    return _person_change(
        person_id,
        lambda db, viewer: directory.update_person(
            db, viewer, person_id, name=form.get("name", ""), email=form.get("email", "")
        ),
        ("name", "email"),
        _("Saved."),
        "#details",
    )


@pages.post("/admin/people/<int:person_id>/manager")
def set_manager(person_id: int):
    chosen = request.form.get("manager_id") or None
    return _person_change(
        person_id,
        lambda db, viewer: directory.set_manager(
            db, viewer, person_id, form_id("manager_id") if chosen else None
        ),
        ("manager",),
        _("Manager saved."),
        "#manager",
    )


@pages.post("/admin/people/<int:person_id>/identities")
def add_identity(person_id: int):
    form = request.form
    return _person_change(
        person_id,
        lambda db, viewer: directory.link(
            db,
            viewer,
            person_id,
            form.get("kind", ""),
            form.get("login", ""),
            form.get("home_page", "").strip() or None,
        ),
        ("kind", "login", "home_page"),
        _("Identity linked."),
        "#identities",
    )


@pages.post("/admin/people/<int:person_id>/deactivate")
def deactivate_person(person_id: int):
    return _person_change(
        person_id,
        lambda db, viewer: directory.deactivate(db, viewer, person_id, now()),
        (),
        _("Deactivated: their accounts are disabled and their sign-ins ended."),
        "#state",
    )


@pages.post("/admin/people/<int:person_id>/reactivate")
def reactivate_person(person_id: int):
    return _person_change(
        person_id,
        lambda db, viewer: directory.reactivate(db, viewer, person_id),
        (),
        _("Reactivated. Enable their account on the accounts page if they should sign in."),
        "#state",
    )


# --- import ------------------------------------------------------------------------------------


@pages.get("/admin/people/import")
def import_people():
    with read_transaction(lrs_runtime().sessions) as db:
        signed_in_admin(db)
    return render_template("admin_import.html", plan=None, csv_text="", error=None, applied=False)


@pages.post("/admin/people/import")
def import_people_post():
    """Upload → preview (nothing written); Apply → the same file, imported.

    The preview carries the file's text in the form, so applying imports exactly what was
    previewed, with no state kept between the two requests.
    """
    check_csrf()
    apply = request.form.get("apply") == "1"
    upload = request.files.get("file")
    data: bytes | str = (
        upload.read() if upload and upload.filename else request.form.get("csv_text", "")
    )
    error, plan, text = None, None, ""
    try:
        if not data:
            raise LrsError("file: " + _("choose a CSV file"))
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
        transaction = write_transaction if apply else read_transaction
        with transaction(lrs_runtime().sessions) as db:
            viewer = signed_in_admin(db)
            plan = importing.plan_import(db, viewer, data)
            if apply:
                importing.apply_import(db, viewer, plan)
    except UnicodeDecodeError:
        error = "file: " + _("the file is not UTF-8 text; save it as CSV UTF-8")
    except LrsError as exc:
        if exc.status in (401, 403):
            raise
        field, words = field_and_words(exc.message)
        error = "file: " + (words if field == "file" else say(exc.message))
    page = render_template(
        "admin_import.html",
        plan=plan,
        csv_text=text if not apply else "",
        error=error.removeprefix("file: ") if error else None,
        applied=apply and plan is not None,
    )
    return page, 400 if error else 200


# --- accounts ----------------------------------------------------------------------------------


@pages.get("/admin/accounts")
def accounts():
    with read_transaction(lrs_runtime().sessions) as db:
        viewer = signed_in_admin(db)
        rows = admin_accounts.list_accounts(db, viewer, now())
        errors, values = shown_form()
        return render_template(
            "admin_accounts.html",
            rows=rows,
            me=viewer.account_id,
            errors=errors,
            values=values,
            link=session.pop("account_link", None),
            done=session.pop("admin_done", None),
        )


def _welcome_url(token: str) -> str:
    return f"{base_url()}/welcome/{token}"


@pages.post("/admin/accounts")
def invite_account():
    check_csrf()
    form = request.form
    try:
        with write_transaction(lrs_runtime().sessions) as db:
            viewer = signed_in_admin(db)
            account, token = admin_accounts.invite(
                db,
                viewer,
                form.get("email", ""),
                now(),
                name=form.get("name", ""),
                is_admin=form.get("is_admin") == "1",
            )
            session["account_link"] = {
                "email": account.email,
                "url": _welcome_url(token),
                "why": "invitation",
            }
    except LrsError as exc:
        if exc.status in (401, 403):
            raise
        refused(exc, ("email", "name"), form)
        return redirect(url_for("web.accounts") + "#invite")
    return redirect(url_for("web.accounts") + "#link")


def _account_change(change, done: str):
    check_csrf()
    try:
        with write_transaction(lrs_runtime().sessions) as db:
            change(db, signed_in_admin(db))
        if done:
            session["admin_done"] = done
    except LrsError as exc:
        if exc.status in (401, 403, 404):
            raise
        refused(exc, ())
    return redirect(url_for("web.accounts"))


@pages.post("/admin/accounts/<int:account_id>/disable")
def disable_account(account_id: int):
    return _account_change(
        lambda db, viewer: admin_accounts.disable(db, viewer, account_id, now()),
        _("Disabled: every sign-in of the account has ended."),
    )


@pages.post("/admin/accounts/<int:account_id>/enable")
def enable_account(account_id: int):
    return _account_change(
        lambda db, viewer: admin_accounts.enable(db, viewer, account_id), _("Enabled.")
    )


@pages.post("/admin/accounts/<int:account_id>/role")
def account_role(account_id: int):
    admin = request.form.get("is_admin") == "1"
    return _account_change(
        lambda db, viewer: admin_accounts.set_admin(db, viewer, account_id, admin),
        _("Role saved."),
    )


@pages.post("/admin/accounts/<int:account_id>/reset")
def reset_account(account_id: int):
    def reset(db, viewer):
        account, token = admin_accounts.reset_password(db, viewer, account_id, now())
        session["account_link"] = {
            "email": account.email,
            "url": _welcome_url(token),
            "why": "password reset",
        }

    return _account_change(reset, "")


@pages.route("/welcome/<token>", methods=["GET", "POST"])
def welcome(token: str):
    """An invitation or reset link: choose a password, then you are signed in."""
    errors: dict[str, str] = {}
    with write_transaction(lrs_runtime().sessions) as db:
        try:
            _link, account = admin_accounts.link_account(db, token, now())
        except LrsError as exc:
            page = render_template(
                "error.html", title=_("Link not valid"), message=say(exc.message)
            )
            return page, 404
        if request.method == "POST":
            check_csrf()
            try:
                account = admin_accounts.redeem(
                    db,
                    token,
                    request.form.get("password", ""),
                    request.form.get("confirm", ""),
                    now(),
                )
            except LrsError as exc:
                field, words = field_and_words(exc.message)
                errors = {field: words}
            else:
                sign_in_session(db.get(Account, account.id))
                return redirect(url_for("web.home"))
        email = account.email
    page = render_template("welcome.html", email=email, errors=errors)
    return page, 400 if errors else 200, {"Referrer-Policy": "no-referrer"}
