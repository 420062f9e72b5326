"""Routes of the pages. Thin: parse the form, call ``objectives.services`` or ``lrs``, render."""

from __future__ import annotations

import datetime as dt
import json

from flask import Blueprint, abort, g, redirect, render_template, request, session, url_for
from marshmallow import ValidationError
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from lrs.auth import SCOPES, create_credential
from lrs.db import read_transaction, write_transaction
from lrs.errors import LrsError
from lrs.models import Credential, Store
from lrs.people.models import Person
from lrs.services import services
from objectives import accounts
from objectives import services as svc
from objectives.models import ObjectiveTemplate, ReviewCycle
from objectives.progress import REQUEST_LIMIT, refresh_facts
from schemas import objectives as schemas
from web import forms
from web.security import check_csrf, csrf_token, secure_headers, session_viewer, sign_in_session

pages = Blueprint(
    "web", __name__, template_folder="templates", static_folder="static", static_url_path="/static"
)
WEEK = dt.timedelta(days=7)


TITLES = {
    400: "That did not work",
    401: "Please sign in",
    403: "Not for your role",
    404: "Not found",
    409: "Already there",
    413: "Too large",
}


def _error_page(status: int, message: str):
    return render_template(
        "error.html", title=TITLES.get(status, "Something went wrong"), message=message
    ), status


@pages.errorhandler(LrsError)
def _lrs_error(error: LrsError):
    return _error_page(error.status, error.message)


@pages.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    return _error_page(error.code or 500, error.description or "")


@pages.url_defaults
def _carry_launch_token(endpoint: str, values: dict) -> None:
    """Inside an LMS, links between pages carry the launch token instead of a cookie."""
    if g.get("launch_token") and endpoint.startswith("web.") and endpoint != "web.static":
        values.setdefault("lt", g.launch_token)


@pages.app_context_processor
def _template_globals():
    return {
        "csrf_token": csrf_token,
        "viewer": g.get("viewer"),
        "SCOPES": SCOPES,
        "launch_token": g.get("launch_token"),
    }


@pages.after_app_request
def _headers(response):
    # /lti pages set their own headers: they live in the LMS's iframe and post back to it.
    if not request.path.startswith(("/xapi", "/api", "/lti")):
        secure_headers(response)
    return response


def _base_url() -> str:
    return (services().config.public_url or request.host_url).rstrip("/")


def _viewer(db):
    viewer = session_viewer(db)
    if viewer is None:
        abort(redirect(url_for("web.sign_in", next=request.full_path)))
    g.viewer = viewer
    return viewer


@pages.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    error = None
    if request.method == "POST":
        check_csrf()
        store_name = request.form.get("store", "").strip()
        email = request.form.get("email", "")
        password = request.form.get("password", "")
        with write_transaction(services().sessions) as db:
            store = db.scalar(select(Store).where(Store.name == store_name))
            try:
                if store is None:
                    raise accounts.NotSignedIn("unknown email or wrong password")
                account = accounts.sign_in(db, store.id, email, password)
            except LrsError:
                error = "That email and password do not match an account of this organisation."
            else:
                sign_in_session(account)
                target = request.args.get("next") or url_for("web.home")
                return redirect(
                    target if target.startswith("/") and not target.startswith("//") else "/"
                )
    return render_template("sign_in.html", error=error, form=request.form), 401 if error else 200


@pages.post("/sign-out")
def sign_out():
    check_csrf()
    session.clear()
    return redirect(url_for("web.sign_in"))


@pages.get("/")
def home():
    """Where signing in lands.

    Admins and managers: the team. A reviewer: the review granted to them (the team page,
    which lists granted reviews, when there are several). Everyone else: their own record.
    """
    with read_transaction(services().sessions) as db:
        viewer = _viewer(db)
        manages = viewer.person_id and accounts.reports_of(db, viewer.store_id, viewer.person_id)
        granted = [] if viewer.is_admin or manages else svc.granted_reviews(db, viewer)
    if viewer.is_admin or manages or len(granted) > 1:
        return redirect(url_for("web.team"))
    if granted:
        return redirect(url_for("web.review", review_id=granted[0]))
    if viewer.person_id:
        return redirect(url_for("web.person", person_id=viewer.person_id))
    return redirect(url_for("web.admin"))


@pages.get("/team")
def team():
    """Every report with their objectives as progress bars, due dates and this week's changes."""
    with write_transaction(services().sessions) as db:
        viewer = _viewer(db)
        cycles = svc.list_cycles(db, viewer)
        cycle_id = request.args.get("cycle", type=int) or (cycles[0].id if cycles else None)
        rows = []
        if cycle_id is not None:
            svc.get_cycle(db, viewer, cycle_id)
            refresh_facts(db, viewer.store_id, REQUEST_LIMIT)
            week_ago = dt.datetime.now(dt.UTC) - WEEK
            since_ms = int(week_ago.timestamp() * 1000)
            team = svc.team_progress(db, viewer, cycle_id, base_url=_base_url())
            agents = svc.identities_of_people(db, viewer.store_id, [p.id for p, _, _ in team])
            for person, review, measured in team:
                newly_met = [
                    m
                    for m in measured
                    if m.objective.satisfied_at and _aware(m.objective.satisfied_at) >= week_ago
                ]
                rows.append(
                    {
                        "person": person,
                        "review": review,
                        "objectives": [svc.measured_json(m) for m in measured],
                        "events_this_week": svc.events_since(
                            db, viewer.store_id, agents.get(person.id, []), since_ms
                        ),
                        "met_this_week": len(newly_met),
                    }
                )
        return render_template("team.html", cycles=cycles, cycle_id=cycle_id, rows=rows)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@pages.get("/people/<int:person_id>")
def person(person_id: int):
    """A learner's record across sources, the evidence behind each objective."""
    with write_transaction(services().sessions) as db:
        viewer = _viewer(db)
        refresh_facts(db, viewer.store_id, REQUEST_LIMIT)
        record = svc.learner_record(db, viewer, person_id, None, None)
        reviews = [r for r in svc.list_reviews(db, viewer) if r.person_id == person_id]
        objectives = []
        for review in reviews:
            cycle = db.get(ReviewCycle, review.cycle_id)
            for m in svc.review_progress(db, viewer, review, base_url=_base_url(), evidence=5):
                objectives.append(
                    {"cycle": cycle.name, "review_id": review.id, **svc.measured_json(m)}
                )
        return render_template(
            "person.html",
            record=record,
            objectives=objectives,
            reviews=reviews,
            person_id=person_id,
        )


@pages.get("/reviews/<int:review_id>")
def review(review_id: int):
    with write_transaction(services().sessions) as db:
        viewer = _viewer(db)
        item = svc.get_review(db, viewer, review_id)
        refresh_facts(db, viewer.store_id, REQUEST_LIMIT)
        measured = [
            svc.measured_json(m)
            for m in svc.review_progress(db, viewer, item, base_url=_base_url(), evidence=10)
        ]
        person = db.get(Person, item.person_id)
        cycle = db.get(ReviewCycle, item.cycle_id)
        manages = accounts.can_manage_person(db, viewer, item.person_id)
        reviewer = accounts.is_reviewer(db, viewer, item)
        templates = (
            list(
                db.scalars(
                    select(ObjectiveTemplate)
                    .where(ObjectiveTemplate.store_id == viewer.store_id)
                    .order_by(ObjectiveTemplate.title)
                )
            )
            if manages
            else []
        )
        return render_template(
            "review.html",
            review=item,
            person=person,
            cycle=cycle,
            objectives=measured,
            manages=manages,
            reviewer=reviewer,
            templates=templates,
            errors=session.pop("form_errors", None),
            form=session.pop("form_values", {}),
            sources=schemas.SOURCES,
            field_help=forms.FIELD_HELP,
        )


@pages.post("/reviews/<int:review_id>/objectives")
def attach(review_id: int):
    """Attach an objective from a template, or written with the criteria form."""
    check_csrf()
    try:
        data = forms.objective_from_form(request.form)
    except ValidationError as exc:
        session["form_errors"] = forms.flat_errors(exc.messages)
        session["form_values"] = request.form.to_dict()
        return redirect(url_for("web.review", review_id=review_id) + "#attach")
    with write_transaction(services().sessions) as db:
        viewer = _viewer(db)
        svc.attach_objective(db, viewer, review_id, data)
    return redirect(url_for("web.review", review_id=review_id))


@pages.post("/reviews/<int:review_id>/comments")
def comment(review_id: int):
    check_csrf()
    data = {
        k: v
        for k, v in request.form.items()
        if k in ("manager_comment", "reviewer_comment", "status")
    }
    with write_transaction(services().sessions) as db:
        svc.update_review(db, _viewer(db), review_id, schemas.ReviewUpdateSchema().load(data))
    return redirect(url_for("web.review", review_id=review_id))


@pages.post("/objectives/<int:objective_id>/delete")
def delete_objective(objective_id: int):
    check_csrf()
    with write_transaction(services().sessions) as db:
        viewer = _viewer(db)
        objective, review = svc.get_objective(db, viewer, objective_id)
        svc.delete_objective(db, viewer, objective_id)
    return redirect(url_for("web.review", review_id=review.id))


# --- LRS administration -------------------------------------------------------------------------


def _admin(db):
    viewer = _viewer(db)
    if not viewer.is_admin:
        abort(403, description="Only administrators of this organisation can open this page.")
    return viewer


@pages.get("/admin")
def admin():
    with read_transaction(services().sessions) as db:
        viewer = _admin(db)
        store = db.get(Store, viewer.store_id)
        credentials = list(
            db.scalars(
                select(Credential)
                .where(Credential.store_id == viewer.store_id)
                .order_by(Credential.id.desc())
            )
        )
        created = session.pop("new_credential", None)
        return render_template(
            "admin.html",
            store=store,
            credentials=credentials,
            created=created,
            endpoint=_base_url() + "/xapi/",
        )


@pages.post("/admin/credentials")
def create_credential_page():
    check_csrf()
    scopes = [s for s in request.form.getlist("scope") if s in SCOPES] or [
        "statements/write",
        "statements/read/mine",
    ]
    label = request.form.get("label", "").strip()[:200]
    with write_transaction(services().sessions) as db:
        viewer = _admin(db)
        store = db.get(Store, viewer.store_id)
        credential, secret = create_credential(
            db, store.name, scopes, label=label, home_page=_base_url() + "/"
        )
        session["new_credential"] = {
            "key": credential.key,
            "secret": secret,
            "label": label,
            "scopes": credential.scopes,
        }
    return redirect(url_for("web.admin") + "#created")


@pages.post("/admin/credentials/<int:credential_id>/revoke")
def revoke_credential(credential_id: int):
    check_csrf()
    with write_transaction(services().sessions) as db:
        viewer = _admin(db)
        credential = db.get(Credential, credential_id)
        if credential is None or credential.store_id != viewer.store_id:
            abort(404)
        if credential.revoked_at is None:
            credential.revoked_at = dt.datetime.now(dt.UTC)
    services().authenticator.forget()
    return redirect(url_for("web.admin"))


@pages.get("/admin/statements")
def statements():
    """The statement browser: the Statement Resource's filters, each statement's JSON."""
    from lrs.auth import Principal
    from lrs.core.formats import parse_accept_language
    from lrs.core.query import decode_more, parse_statement_query
    from lrs.core.statements import authority_key
    from lrs.statements.read import query_statements

    filters = {
        k: v.strip() for k, v in request.args.items() if v.strip() and k in forms.BROWSER_FIELDS
    }
    params = forms.statement_query(filters)
    error = None
    page = None
    with read_transaction(services().sessions) as db:
        viewer = _admin(db)
        authority = {
            "objectType": "Agent",
            "account": {"homePage": _base_url() + "/", "name": "admin"},
        }
        principal = Principal(
            viewer.store_id, 0, "admin", frozenset({"all"}), authority, authority_key(authority)
        )
        try:
            if request.args.get("more"):
                query = decode_more(request.args["more"], "2.0.0")
            else:
                query = parse_statement_query(params, "2.0.0")
            page = query_statements(db, principal, query, parse_accept_language(None))
        except LrsError as exc:
            error = exc.message
    rows = [json.loads(s) for s in page.statements] if page else []
    return render_template(
        "statements.html",
        filters=filters,
        rows=rows,
        error=error,
        more=page.more if page else None,
        pretty=lambda s: json.dumps(s, indent=2),
    )


from web import admin_views  # noqa: E402,F401  (routes of the capture sources' admin pages)
