"""Routes of the pages. Thin: parse the form, call ``objectives.services`` or ``lrs``, render."""

from __future__ import annotations

import datetime as dt
import json

from flask import (
    Response,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from marshmallow import ValidationError
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from lrs import vocabulary
from lrs.auth import SCOPES, create_credential
from lrs.auth import revoke_credential as revoke_credential_of
from lrs.db import read_transaction, write_transaction
from lrs.errors import BadRequest, LrsError
from lrs.models import Credential, Store
from lrs.oauth import active_tokens
from lrs.people.models import Person
from lrs.runtime import lrs_runtime
from objectives import accounts
from objectives import services as svc
from objectives.models import Account, ObjectiveTemplate, ReviewCycle
from schemas import objectives as schemas
from schemas.fields import id_parameter
from web import forms
from web.admin_oauth import REVOKED as TOKENS_REVOKED
from web.blueprint import base_url, pages, signed_in, signed_in_admin
from web.recognition import record_recognition
from web.security import check_csrf, session_viewer

WEEK = dt.timedelta(days=7)


@pages.post("/sign-out")
def sign_out():
    """End the sign-in here and everywhere else: a copied cookie stops working too."""
    check_csrf()
    with write_transaction(lrs_runtime().sessions) as db:
        viewer = session_viewer(db)
        if viewer is not None and not g.get("launch_token"):
            accounts.end_sessions(db, db.get(Account, viewer.account_id))
    session.clear()
    return redirect(url_for("web.sign_in"))


@pages.get("/")
def home():
    """Where signing in lands.

    Admins and managers: the team. A reviewer: the review granted to them (the team page,
    which lists granted reviews, when there are several). Everyone else: their own record.
    """
    with read_transaction(lrs_runtime().sessions) as db:
        viewer = signed_in(db)
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
    with read_transaction(lrs_runtime().sessions) as db:
        viewer = signed_in(db)
        cycles = svc.list_cycles(db, viewer)
        chosen = request.args.get("cycle", type=id_parameter)
        cycle_id = chosen or (cycles[0].id if cycles else None)
        rows = []
        if cycle_id is not None:
            svc.get_cycle(db, viewer, cycle_id)
            week_ago = dt.datetime.now(dt.UTC) - WEEK
            since_ms = int(week_ago.timestamp() * 1000)
            team = svc.team_progress(db, viewer, cycle_id)
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
        manages = viewer.is_admin or bool(
            viewer.person_id and accounts.reports_of(db, viewer.store_id, viewer.person_id)
        )
        return render_template(
            "team.html",
            manages=manages,
            cycles=cycles,
            cycle_id=cycle_id,
            rows=rows,
            freshness=svc.freshness(db, viewer.store_id),
        )


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@pages.get("/people/<int:person_id>")
def person(person_id: int):
    """A learner's record across sources, the evidence behind each objective."""
    with read_transaction(lrs_runtime().sessions) as db:
        viewer = signed_in(db)
        record = svc.learner_record(db, viewer, person_id, None, None)
        reviews = [r for r in svc.list_reviews(db, viewer) if r.person_id == person_id]
        objectives = []
        for review in reviews:
            cycle = db.get(ReviewCycle, review.cycle_id)
            for m in svc.review_progress(db, viewer, review, evidence=5):
                objectives.append(
                    {"cycle": cycle.name, "review_id": review.id, **svc.measured_json(m)}
                )
        objectives = svc.with_evidence(db, viewer.store_id, objectives)
        return render_template(
            "person.html",
            recognition=record_recognition(db, viewer, person_id),
            freshness=svc.freshness(db, viewer.store_id),
            record=record,
            objectives=objectives,
            reviews=reviews,
            person_id=person_id,
        )


@pages.get("/reviews/<int:review_id>")
def review(review_id: int):
    with read_transaction(lrs_runtime().sessions) as db:
        viewer = signed_in(db)
        item = svc.get_review(db, viewer, review_id)
        measured = svc.described_review(db, viewer, item, evidence=10)
        person = db.get(Person, item.person_id)
        cycle = db.get(ReviewCycle, item.cycle_id)
        manages = accounts.can_manage_person(db, viewer, item.person_id)
        reviewer = accounts.is_reviewer(db, viewer, item)
        templates = (
            list(
                db.scalars(
                    select(ObjectiveTemplate)
                    .where(
                        ObjectiveTemplate.store_id == viewer.store_id,
                        ObjectiveTemplate.retired_at.is_(None),
                    )
                    .order_by(ObjectiveTemplate.title)
                )
            )
            if manages
            else []
        )
        suggested = svc.suggestions(db, viewer.store_id, [t.id for t in templates])
        return render_template(
            "review.html",
            suggested=suggested,
            freshness=svc.freshness(db, viewer.store_id),
            review=item,
            person=person,
            cycle=cycle,
            objectives=measured,
            manages=manages,
            reviewer=reviewer,
            templates=templates,
            **criteria_form(db, viewer.store_id),
        )


def criteria_form(db, store_id: int) -> dict:
    """What the criteria form shows: the vocabulary's pickers; if it was refused, its values.

    The values come back with the activities picked (by name) or found by the search.
    """
    form = MultiDict(session.pop("form_values", {}))
    indices = forms.criterion_indices(form)
    picked = [a for i in indices for a in form.getlist(f"c{i}-activity_ids")]
    errors = session.pop("form_errors", None)
    return {
        "errors": errors,
        "form": form,
        "criteria": indices,
        "picked_names": svc.activity_names(db, store_id, picked),
        "found": {
            i: svc.find_activities(db, store_id, form.get(f"c{i}-activity_search", ""))
            for i in indices
        },
        "vocabulary": vocabulary,
        "field_help": forms.FIELD_HELP,
        "field_title": forms.field_title,
        "open_advanced": lambda prefix: [  # fields filled in or refused: show them
            k.removeprefix(prefix)
            for k in [*(k for k in form if "".join(form.getlist(k)).strip()), *(errors or {})]
            if k.startswith(prefix)
        ],
    }


@pages.get("/people/<int:person_id>/statements/<statement_id>")
def learner_statement(person_id: int, statement_id: str):
    """One piece of evidence: what it says in words, and the statement as the LRS stores it."""
    with read_transaction(lrs_runtime().sessions) as db:
        found = svc.learner_statement(db, signed_in(db), person_id, statement_id)
        return render_template(
            "statement.html",
            person_id=person_id,
            pretty=json.dumps(found["statement"], indent=2, ensure_ascii=False),
            **found,
        )


@pages.get("/objectives/<int:objective_id>/criteria/<int:number>/evidence")
def criterion_evidence(objective_id: int, number: int):
    """Every statement that counts for a criterion, a page at a time (the review shows 10)."""
    page = request.args.get("page", "1")
    with read_transaction(lrs_runtime().sessions) as db:
        found = svc.criterion_evidence(
            db, signed_in(db), objective_id, number - 1, int(page) if page.isdigit() else 1
        )
        return render_template("evidence.html", number=number, **found)


@pages.get("/reviews/<int:review_id>/export.csv")
def review_export(review_id: int):
    """The review for the meeting as CSV: each criterion, its count, and its named evidence."""
    with read_transaction(lrs_runtime().sessions) as db:
        viewer = signed_in(db)
        item = svc.get_review(db, viewer, review_id)
        name = db.get(Person, item.person_id).name
        measured = svc.described_review(db, viewer, item, evidence=50)
    body = svc.review_csv(name, measured)
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=review-{review_id}.csv"},
    )


@pages.post("/reviews/<int:review_id>/objectives")
def attach(review_id: int):
    """Attach an objective from a template, or written with the criteria form."""
    check_csrf()
    form = request.form
    again = url_for("web.review", review_id=review_id) + "#criteria"
    if "add_criterion" in form or "remove_criterion" in form or "find" in form:
        # Without JavaScript, adding, removing and finding go through the server.
        remove = form.get("remove_criterion")
        session["form_values"] = forms.rebuild(
            form, add="add_criterion" in form, remove=int(remove) if remove else None
        )
        return redirect(again)
    try:
        data = forms.objective_from_form(form)
    except forms.FormInvalid as exc:
        if form.get("template_id"):
            words = "; ".join(f"{forms.field_title(k)}: {m}" for k, m in exc.errors.items())
            session["form_errors"] = {"template_id": words}
            return redirect(url_for("web.review", review_id=review_id) + "#attach")
        session["form_errors"] = exc.errors
        session["form_values"] = forms.rebuild(form)
        return redirect(again)
    with write_transaction(lrs_runtime().sessions) as db:
        viewer = signed_in(db)
        svc.attach_objective(db, viewer, review_id, data)
    return redirect(url_for("web.review", review_id=review_id))


@pages.get("/activities/search")
def search_activities():
    """Activities of the organisation found by name, for the criteria form's search."""
    with read_transaction(lrs_runtime().sessions) as db:
        viewer = signed_in(db)
        found = svc.find_activities(db, viewer.store_id, request.args.get("q", ""))
    return jsonify(found)


@pages.post("/reviews/<int:review_id>/comments")
def comment(review_id: int):
    check_csrf()
    data: dict = {
        k: v
        for k, v in request.form.items()
        if k in ("manager_comment", "reviewer_comment", "status")
    }
    if "rating" in request.form:  # the outcome, 1-5, or "" for none yet
        rating = request.form["rating"].strip()
        data["rating"] = int(rating) if rating.isdigit() else (None if not rating else rating)
    try:
        data = schemas.ReviewUpdateSchema().load(data)
    except ValidationError as exc:  # only a hand-made post: the form offers valid values
        raise BadRequest(f"not saved: {exc.messages}") from exc
    with write_transaction(lrs_runtime().sessions) as db:
        svc.update_review(db, signed_in(db), review_id, data)
    return redirect(url_for("web.review", review_id=review_id))


@pages.post("/objectives/<int:objective_id>/delete")
def delete_objective(objective_id: int):
    check_csrf()
    with write_transaction(lrs_runtime().sessions) as db:
        viewer = signed_in(db)
        objective, review = svc.get_objective(db, viewer, objective_id)
        svc.delete_objective(db, viewer, objective_id)
    return redirect(url_for("web.review", review_id=review.id))


# --- LRS administration -------------------------------------------------------------------------


@pages.get("/admin")
def admin():
    with read_transaction(lrs_runtime().sessions) as db:
        viewer = signed_in_admin(db)
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
            endpoint=base_url() + "/xapi/",
            tokens=active_tokens(db, [c.id for c in credentials], lrs_runtime().clock()),
            tokens_revoked=session.pop(TOKENS_REVOKED, None),
        )


@pages.post("/admin/credentials")
def create_credential_page():
    check_csrf()
    scopes = [s for s in request.form.getlist("scope") if s in SCOPES] or [
        "statements/write",
        "statements/read/mine",
    ]
    label = request.form.get("label", "").strip()[:200]
    with write_transaction(lrs_runtime().sessions) as db:
        viewer = signed_in_admin(db)
        store = db.get(Store, viewer.store_id)
        credential, secret = create_credential(
            db, store.name, scopes, label=label, home_page=base_url() + "/"
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
    with write_transaction(lrs_runtime().sessions) as db:
        viewer = signed_in_admin(db)
        revoke_credential_of(db, viewer.store_id, credential_id, dt.datetime.now(dt.UTC))
    lrs_runtime().authenticator.forget()
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
    with read_transaction(lrs_runtime().sessions) as db:
        viewer = signed_in_admin(db)
        authority = {
            "objectType": "Agent",
            "account": {"homePage": base_url() + "/", "name": "admin"},
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
