"""The review set-up pages: cycles, the reviews of a team in one step, templates, reviewers.

Thin: each form calls ``directory.reviews`` (which keeps the rules of ``objectives.services``):
admins open and close cycles; managers and admins create their team's reviews, write and
retire templates, and grant reviewers on their reports' reviews.
"""

from __future__ import annotations

import datetime as dt

from flask import redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from directory import reviews as setup
from directory.people import list_people
from lrs.db import read_transaction, write_transaction
from lrs.errors import LrsError
from lrs.people.models import Person
from lrs.runtime import lrs_runtime
from objectives import services as svc
from objectives.accounts import reports_of
from objectives.models import Objective, ReviewCycle, ReviewGrant
from web import forms
from web.admin_people import form_id, now, refused, shown_form, signed_in_manager
from web.blueprint import pages
from web.security import check_csrf
from web.views import criteria_form


def _date(name: str, errors: dict) -> dt.date | None:
    text = request.form.get(name, "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        errors[name] = _("pick a date (YYYY-MM-DD)")
        return None


# --- cycles ------------------------------------------------------------------------------------


@pages.get("/admin/cycles")
def cycles():
    with read_transaction(lrs_runtime().sessions) as db:
        viewer = signed_in_manager(db)
        rows = svc.list_cycles(db, viewer)
        errors, values = shown_form()
        return render_template(
            "admin_cycles.html",
            cycles=rows,
            errors=errors,
            values=values,
            done=session.pop("admin_done", None),
        )


@pages.post("/admin/cycles")
def open_cycle():
    check_csrf()
    form = request.form
    errors: dict[str, str] = {}
    starts, ends = _date("starts_on", errors), _date("ends_on", errors)
    try:
        if errors:
            field, words = next(iter(errors.items()))
            raise LrsError(f"{field}: {words}")
        with write_transaction(lrs_runtime().sessions) as db:
            viewer = signed_in_manager(db)
            cycle = setup.open_cycle(db, viewer, form.get("name", ""), starts, ends)
            cycle_id = cycle.id
    except LrsError as exc:
        if exc.status in (401, 403):
            raise
        refused(exc, ("name", "starts_on", "ends_on"), form)
        return redirect(url_for("web.cycles") + "#open")
    session["admin_done"] = _("Cycle opened. Now create the reviews of a team.")
    return redirect(url_for("web.cycle", cycle_id=cycle_id))


@pages.post("/admin/cycles/<int:cycle_id>/close")
def close_cycle(cycle_id: int):
    check_csrf()
    with write_transaction(lrs_runtime().sessions) as db:
        setup.close_cycle(db, signed_in_manager(db), cycle_id, now())
    session["admin_done"] = _("Cycle closed: its reviews stay; no new ones can be created in it.")
    return redirect(url_for("web.cycle", cycle_id=cycle_id))


@pages.post("/admin/cycles/<int:cycle_id>/reopen")
def reopen_cycle(cycle_id: int):
    check_csrf()
    with write_transaction(lrs_runtime().sessions) as db:
        setup.reopen_cycle(db, signed_in_manager(db), cycle_id)
    session["admin_done"] = _("Cycle reopened.")
    return redirect(url_for("web.cycle", cycle_id=cycle_id))


@pages.get("/admin/cycles/<int:cycle_id>")
def cycle(cycle_id: int):
    """A cycle's reviews (those the viewer may see) and the "reviews for a team" form."""
    with read_transaction(lrs_runtime().sessions) as db:
        viewer = signed_in_manager(db)
        item = svc.get_cycle(db, viewer, cycle_id)
        reviews = svc.list_reviews(db, viewer, cycle_id)
        people = {
            p.id: p for p in db.scalars(select(Person).where(Person.store_id == viewer.store_id))
        }
        grants: dict[int, list[str]] = {}
        for review_id, person_id in db.execute(
            select(ReviewGrant.review_id, ReviewGrant.person_id).where(
                ReviewGrant.review_id.in_([r.id for r in reviews])
            )
        ):
            grants.setdefault(review_id, []).append(people[person_id].name)
        counts = dict(
            db.execute(
                select(Objective.review_id, func.count())
                .where(Objective.review_id.in_([r.id for r in reviews]))
                .group_by(Objective.review_id)
            ).all()
        )
        # Teams the viewer may create reviews for: people with reports (admins: anyone's).
        managers = [row for row in list_people(db, viewer, active_only=True) if row.reports]
        if not viewer.is_admin and viewer.person_id:
            me = people[viewer.person_id]
            if reports_of(db, viewer.store_id, me.id):
                managers.insert(0, me)
        templates = setup.list_templates(db, viewer)
        rows = [
            {
                "review": r,
                "person": people[r.person_id],
                "reviewers": grants.get(r.id, []),
                "objectives": counts.get(r.id, 0),
            }
            for r in sorted(reviews, key=lambda r: (people[r.person_id].name, r.id))
        ]
        errors, values = shown_form()
        return render_template(
            "admin_cycle.html",
            cycle=item,
            rows=rows,
            managers=managers,
            templates=templates,
            errors=errors,
            values=values,
            done=session.pop("admin_done", None),
        )


@pages.post("/admin/cycles/<int:cycle_id>/team-reviews")
def team_reviews(cycle_id: int):
    """Create the reviews of this cycle for everyone in a team, a template attached to each."""
    check_csrf()
    form = request.form
    try:
        with write_transaction(lrs_runtime().sessions) as db:
            viewer = signed_in_manager(db)
            if not form.get("manager_id"):
                raise LrsError("manager: " + _("pick whose team"))
            template_id = form_id("template_id") if form.get("template_id") else None
            done = setup.create_team_reviews(
                db, viewer, cycle_id, form_id("manager_id"), template_id
            )
    except LrsError as exc:
        if exc.status in (401, 403, 404):
            raise
        refused(exc, ("manager", "template"), form)
        return redirect(url_for("web.cycle", cycle_id=cycle_id) + "#team")
    numbers = {"num": done.created, "existing": done.existing, "attached": done.attached}
    if done.existing and template_id:
        words = ngettext(
            "%(num)s review created, %(existing)s already there; "
            "the template attached to %(attached)s.",
            "%(num)s reviews created, %(existing)s already there; "
            "the template attached to %(attached)s.",
            **numbers,
        )
    elif done.existing:
        words = ngettext(
            "%(num)s review created, %(existing)s already there.",
            "%(num)s reviews created, %(existing)s already there.",
            **numbers,
        )
    elif template_id:
        words = ngettext(
            "%(num)s review created; the template attached to %(attached)s.",
            "%(num)s reviews created; the template attached to %(attached)s.",
            **numbers,
        )
    else:
        words = ngettext("%(num)s review created.", "%(num)s reviews created.", **numbers)
    session["admin_done"] = words
    return redirect(url_for("web.cycle", cycle_id=cycle_id))


# --- reviewers ---------------------------------------------------------------------------------


@pages.get("/admin/reviews/<int:review_id>/reviewers")
def reviewers(review_id: int):
    with read_transaction(lrs_runtime().sessions) as db:
        viewer = signed_in_manager(db)
        review = svc.get_review(db, viewer, review_id)
        svc.require_manager_of(db, viewer, review.person_id)
        person = db.get(Person, review.person_id)
        granted = set(svc.reviewers_of(db, review))
        everyone = list(
            db.scalars(
                select(Person)
                .where(Person.store_id == viewer.store_id, Person.deactivated_at.is_(None))
                .order_by(Person.name)
            )
        )
        cycle_row = db.get(ReviewCycle, review.cycle_id)
        errors, values = shown_form()
        return render_template(
            "admin_reviewers.html",
            review=review,
            person=person,
            cycle=cycle_row,
            granted=[p for p in everyone if p.id in granted],
            candidates=[p for p in everyone if p.id not in granted and p.id != person.id],
            errors=errors,
            values=values,
            done=session.pop("admin_done", None),
        )


@pages.post("/admin/reviews/<int:review_id>/reviewers")
def grant_reviewer(review_id: int):
    check_csrf()
    try:
        with write_transaction(lrs_runtime().sessions) as db:
            viewer = signed_in_manager(db)
            if not request.form.get("person_id"):
                raise LrsError("reviewer: " + _("pick a person"))
            setup.grant_reviewer(db, viewer, review_id, form_id("person_id"))
            session["admin_done"] = _("Reviewer granted: they can read this review now.")
    except LrsError as exc:
        if exc.status in (401, 403, 404):
            raise
        refused(exc, ("reviewer",), request.form)
    return redirect(url_for("web.reviewers", review_id=review_id))


@pages.post("/admin/reviews/<int:review_id>/reviewers/<int:person_id>/remove")
def remove_reviewer(review_id: int, person_id: int):
    check_csrf()
    with write_transaction(lrs_runtime().sessions) as db:
        setup.revoke_reviewer(db, signed_in_manager(db), review_id, person_id)
    session["admin_done"] = _("Reviewer removed.")
    return redirect(url_for("web.reviewers", review_id=review_id))


# --- templates ---------------------------------------------------------------------------------


@pages.get("/admin/templates")
def templates():
    with read_transaction(lrs_runtime().sessions) as db:
        viewer = signed_in_manager(db)
        return render_template(
            "admin_templates.html",
            active=setup.list_templates(db, viewer),
            retired=setup.list_templates(db, viewer, retired=True),
            done=session.pop("admin_done", None),
        )


def _template_page(template=None):
    with read_transaction(lrs_runtime().sessions) as db:
        viewer = signed_in_manager(db)
        if template is not None:
            template = setup.managed_template(db, viewer, template)
            if "form_values" not in session:
                session["form_values"] = forms.form_of_objective(template)
        return render_template(
            "admin_template.html", template=template, **criteria_form(db, viewer.store_id)
        )


@pages.get("/admin/templates/new")
def new_template():
    return _template_page()


@pages.get("/admin/templates/<int:template_id>")
def template_page(template_id: int):
    return _template_page(template_id)


def _save_template(template_id: int | None):
    check_csrf()
    form = request.form
    again = (
        url_for("web.template_page", template_id=template_id)
        if template_id
        else url_for("web.new_template")
    ) + "#criteria"
    if "add_criterion" in form or "remove_criterion" in form or "find" in form:
        remove = form.get("remove_criterion")
        session["form_values"] = forms.rebuild(
            form, add="add_criterion" in form, remove=int(remove) if remove else None
        )
        return redirect(again)
    try:
        data = forms.objective_from_form(MultiDict([*form.items(multi=True), ("due_on", "")]))
    except forms.FormInvalid as exc:
        session["form_errors"] = exc.errors
        session["form_values"] = forms.rebuild(form)
        return redirect(again)
    data.pop("due_on", None)
    data.pop("weight", None)
    with write_transaction(lrs_runtime().sessions) as db:
        viewer = signed_in_manager(db)
        if template_id is None:
            svc.create_template(db, viewer, data)
        else:
            setup.update_template(db, viewer, template_id, data)
    session["admin_done"] = _("Template \u201c%(title)s\u201d saved.", title=data["title"])
    return redirect(url_for("web.templates"))


@pages.post("/admin/templates")
def create_template():
    return _save_template(None)


@pages.post("/admin/templates/<int:template_id>")
def update_template(template_id: int):
    return _save_template(template_id)


@pages.post("/admin/templates/<int:template_id>/retire")
def retire_template(template_id: int):
    check_csrf()
    with write_transaction(lrs_runtime().sessions) as db:
        template = setup.retire_template(db, signed_in_manager(db), template_id, now())
        session["admin_done"] = _(
            "\u201c%(title)s\u201d retired: no longer offered; its objectives stay.",
            title=template.title,
        )
    return redirect(url_for("web.templates"))


@pages.post("/admin/templates/<int:template_id>/restore")
def restore_template(template_id: int):
    check_csrf()
    with write_transaction(lrs_runtime().sessions) as db:
        template = setup.retire_template(db, signed_in_manager(db), template_id, None)
        session["admin_done"] = _("\u201c%(title)s\u201d offered again.", title=template.title)
    return redirect(url_for("web.templates"))
