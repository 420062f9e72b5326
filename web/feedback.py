"""Feedback's pages: health checks (answer on a phone, results), after-action reviews, insight.

Plain forms, no JavaScript; every form carries the CSRF token; refusals come back on the page
with the status of the error. The pages call the same services as /api (``feedback``), so the
anonymity and k rules hold here too: results are aggregates, or nothing and the reason.
"""

from __future__ import annotations

import datetime as dt

from flask import Response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy import select

from feedback import aar, health, insight, mentoring
from feedback.common import day_of
from lrs import vocabulary
from lrs.db import read_transaction, write_transaction
from lrs.errors import BadRequest, FieldError, LrsError
from lrs.runtime import lrs_runtime
from objectives import services as objective_services
from objectives.accounts import can_manage_person, can_see_review
from objectives.models import Objective, Review
from schemas.feedback import ActionObjectiveSchema, MentoringSessionSchema
from web.blueprint import pages, signed_in
from web.forms import refusal_errors, refusal_status
from web.security import check_csrf


def _date(name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(request.form.get(name, "").strip())
    except ValueError:
        raise BadRequest(
            f"{name}: " + _("must be a date"), [FieldError(name, _("a date"))]
        ) from None


@pages.route("/health-checks", methods=["GET", "POST"])
def health_checks_page():
    """The checks I may answer or lead; a lead opens one for their team."""
    runtime = lrs_runtime()
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        check_csrf()
        try:
            with write_transaction(runtime.sessions) as db:
                viewer = signed_in(db)
                kind = request.form.get("kind", "squad")
                if kind not in health.KINDS:
                    words = _("squad or pulse")
                    raise BadRequest(f"kind: {words}", [FieldError("kind", words)])
                data = {
                    "kind": kind,
                    "title": request.form.get("title", "").strip()[:200] or "Squad health check",
                    "opens_on": _date("opens_on"),
                    "closes_on": _date("closes_on"),
                    "questions": request.form.get("questions", "").splitlines(),
                }
                check = health.open_check(db, viewer, data, runtime.clock())
                return redirect(url_for("web.health_check_page", check_id=check.id))
        except LrsError as exc:
            status = refusal_status(exc)
            errors = refusal_errors(exc)
    now = runtime.clock()
    with read_transaction(runtime.sessions) as db:
        viewer = signed_in(db)
        checks = [
            {
                **health.check_json(c, now),
                "you_answered": health.has_answered(db, c.id, viewer.person_id),
            }
            for c in health.list_checks(db, viewer)
        ]
        today = day_of(now)
        page = render_template(
            "health_checks.html",
            checks=checks,
            errors=errors,
            form=request.form,
            today=today.isoformat(),
            week=(today + dt.timedelta(days=7)).isoformat(),
        )
    return page, status


@pages.route("/health-checks/<int:check_id>", methods=["GET", "POST"])
def health_check_page(check_id: int):
    """Answer anonymously (once), or read the aggregates when they may be shown."""
    runtime = lrs_runtime()
    errors: dict[str, str] = {}
    done = None
    status = 200
    if request.method == "POST":
        check_csrf()
        try:
            with write_transaction(runtime.sessions) as db:
                viewer = signed_in(db)
                check = health.get_check(db, viewer, check_id)
                if request.form.get("action") == "close":
                    health.close_check(db, viewer, check_id, runtime.clock())
                    done = _("The check is closed.")
                else:
                    answers = {}
                    for q in health.questions_of(check):
                        if check.kind == "squad":
                            answers[q.key] = {
                                "colour": request.form.get(f"{q.key}-colour"),
                                "trend": request.form.get(f"{q.key}-trend", "same"),
                            }
                        else:
                            score = request.form.get(f"{q.key}-score", "")
                            answers[q.key] = {"score": int(score) if score.isdigit() else None}
                    token = health.participation_token(db, viewer, check_id, runtime.clock())
                    health.answer(db, viewer, check_id, token, answers, runtime.clock())
                    done = _("Thank you: your answer is recorded anonymously.")
        except LrsError as exc:
            status = refusal_status(exc)
            errors = refusal_errors(exc)
    now = runtime.clock()
    with read_transaction(runtime.sessions) as db:
        viewer = signed_in(db)
        check = health.get_check(db, viewer, check_id)
        summary = health.results_of(db, check, now)
        page = render_template(
            "health_check.html",
            check=summary["check"],
            summary=summary,
            trends=health.trends(db, viewer, check_id, now),
            questions=health.questions_of(check),
            you_answered=health.has_answered(db, check_id, viewer.person_id),
            leads=viewer.is_admin or check.lead_id == viewer.person_id,
            colours=list(health.COLOURS),
            trend_names=list(health.TRENDS),
            errors=errors,
            done=done,
        )
    return page, status


@pages.route("/after-action-reviews", methods=["GET", "POST"])
def aars_page():
    """Search every after-action review of the organisation; write one."""
    runtime = lrs_runtime()
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        check_csrf()
        try:
            with write_transaction(runtime.sessions) as db:
                viewer = signed_in(db)
                form = request.form
                data = {
                    "title": form.get("title", "").strip()[:200],
                    "occurred_on": _date("occurred_on"),
                    **{name: form.get(name, "")[:10_000] for name in aar.TEXTS},
                    "lessons": [t for t in form.get("lessons", "").splitlines() if t.strip()],
                    "links": [
                        {"url": u.strip(), "label": ""}
                        for u in form.get("links", "").splitlines()
                        if u.strip()
                    ],
                    "actions": [
                        {"text": t.strip()[:300], "owner_id": viewer.person_id}
                        for t in form.get("actions", "").splitlines()
                        if t.strip() and viewer.person_id
                    ],
                    "cites": [int(i) for i in form.getlist("cites") if i.isdigit()],
                }
                if not data["title"]:
                    raise BadRequest(
                        "title: " + _("give it a title"), [FieldError("title", _("required"))]
                    )
                published = aar.publish(db, viewer, data, runtime.public_url, runtime.clock())
                return redirect(url_for("web.aar_page", aar_id=published.id))
        except LrsError as exc:
            status = refusal_status(exc)
            errors = refusal_errors(exc)
    query = request.args.get("q", "").strip()[:200]
    with read_transaction(runtime.sessions) as db:
        viewer = signed_in(db)
        found = [aar.described(db, a) for a in aar.search(db, viewer, query)]
        lessons = aar.lessons_matching(db, viewer, "", limit=30)
        page = render_template(
            "aars.html", found=found, query=query, lessons=lessons, errors=errors, form=request.form
        )
    return page, status


def _render_aar(db, viewer, aar_id: int, errors: dict[str, str], action_id: int | None = None):
    """The review page, with a form beside each action the viewer may make an objective.

    That is the owner's managers and admins, as ``objectives.services.attach_objective``
    allows; an action that became an objective links to the review it is on.
    """
    shown = aar.described(db, aar.get(db, viewer, aar_id))
    owners = {a["owner"]["id"] for a in shown["actions"] if not a["objective_id"]}
    may_make = {o for o in owners if o and can_manage_person(db, viewer, o)}
    linked = [a["objective_id"] for a in shown["actions"] if a["objective_id"]]
    reviews = {  # only the reviews the viewer may open get a link
        objective_id: review.id
        for objective_id, review in db.execute(
            select(Objective.id, Review)
            .join(Review, Review.id == Objective.review_id)
            .where(Objective.id.in_(linked or [0]))
        )
        if can_see_review(db, viewer, review)
    }
    templates = (
        [t for t in objective_services.list_templates(db, viewer) if t.retired_at is None]
        if may_make
        else []
    )
    return render_template(
        "aar.html",
        aar=shown,
        may_make=may_make,
        objective_reviews=reviews,
        templates=templates,
        errors=errors,
        failed_action=action_id,
    )


@pages.route("/after-action-reviews/<int:aar_id>")
def aar_page(aar_id: int):
    with read_transaction(lrs_runtime().sessions) as db:
        return _render_aar(db, signed_in(db), aar_id, {})


@pages.post("/after-action-reviews/<int:aar_id>/actions/<int:action_id>/objective")
def aar_action_objective_page(aar_id: int, action_id: int):
    """Make an action an objective on its owner's review in one step, as /api does.

    Through ``aar.action_to_objective``: from a template, or written from the action with a
    course-completion criterion the manager refines on the review.
    """
    check_csrf()
    runtime = lrs_runtime()
    chosen = request.form.get("template_id", "").strip()
    raw: dict = (
        {"template_id": int(chosen)}
        if chosen.isdigit()
        else {"criteria": [{"verbs": [vocabulary.COMPLETED], "activity_type": vocabulary.COURSE}]}
    )
    try:
        try:
            data = ActionObjectiveSchema().load(raw)
        except ValidationError as exc:
            wrong = [FieldError("template_id", _("pick a template"))]
            raise BadRequest("template_id: " + _("pick a template"), wrong) from exc
        with write_transaction(runtime.sessions) as db:
            viewer = signed_in(db)
            aar.action_to_objective(db, viewer, aar_id, action_id, data, day_of(runtime.clock()))
        return redirect(url_for("web.aar_page", aar_id=aar_id) + f"#action-{action_id}", 303)
    except LrsError as exc:
        status = refusal_status(exc)
        errors = refusal_errors(exc)
    with read_transaction(runtime.sessions) as db:
        return _render_aar(db, signed_in(db), aar_id, errors, action_id), status


@pages.route("/insight")
def insight_page():
    """A cycle's insight for admins and managers: figures with n, nothing below k."""
    runtime = lrs_runtime()
    with read_transaction(runtime.sessions) as db:
        viewer = signed_in(db)
        cycles = objective_services.list_cycles(db, viewer)
        chosen = request.args.get("cycle_id", "")
        cycle_id = int(chosen) if chosen.isdigit() else (cycles[0].id if cycles else None)
        answer = insight.for_cycle(db, viewer, cycle_id) if cycle_id else None
        if request.args.get("format") == "csv" and answer is not None:
            return Response(
                insight.insight_csv(answer),
                mimetype="text/csv",
                headers={"Content-Disposition": f'attachment; filename="insight-{cycle_id}.csv"'},
            )
        return render_template(
            "insight.html", cycles=cycles, cycle_id=cycle_id, answer=answer, errors={}
        )


# ---- mentoring -----------------------------------------------------------------------------


def _schema_refusal(exc: ValidationError) -> BadRequest:
    """A form's values refused by an /api schema, with each field's message by its name."""
    wrong = [
        FieldError(name, "; ".join(m) if isinstance(m, list) else str(m))
        for name, m in exc.messages_dict.items()
    ]
    return BadRequest("; ".join(f"{e.path}: {e.message}" for e in wrong), wrong)


def _mentoring(db, viewer, errors: dict[str, str], done: str | None, pair_id: int | None):
    pairs = []
    for pair in mentoring.list_pairs(db, viewer):
        shown = mentoring.pair_json(db, pair)
        mine = viewer.person_id in (pair.mentor_id, pair.mentee_id)
        shown["mine"] = mine
        shown["other"] = shown["mentee"] if viewer.person_id == pair.mentor_id else shown["mentor"]
        for s in shown["sessions"]:
            s["to_confirm"] = mine and not s["confirmed"] and s["logged_by"] != viewer.person_id
        pairs.append(shown)
    return render_template(
        "mentoring.html",
        pairs=pairs,
        errors=errors,
        done=done,
        failed_pair=pair_id,
        form=request.form,
        today=day_of(lrs_runtime().clock()).isoformat(),
    )


@pages.get("/mentoring")
def mentoring_page():
    """My mentoring pairs, their sessions, and the sessions waiting for my confirmation."""
    with read_transaction(lrs_runtime().sessions) as db:
        return _mentoring(db, signed_in(db), {}, None, None)


@pages.post("/mentoring/pairs/<int:pair_id>/sessions")
def mentoring_session_page(pair_id: int):
    """Log a session of my pair (``mentoring.log_session``); the other side confirms it."""
    check_csrf()
    runtime = lrs_runtime()
    form = request.form
    errors: dict[str, str] = {}
    status, done = 200, None
    try:
        minutes = form.get("minutes", "").strip()
        try:
            data = MentoringSessionSchema().load(
                {
                    "held_on": form.get("held_on", "").strip(),
                    "minutes": int(minutes) if minutes.isdigit() else minutes,
                    "topic": form.get("topic", "").strip(),
                }
            )
        except ValidationError as exc:
            raise _schema_refusal(exc) from exc
        with write_transaction(runtime.sessions) as db:
            mentoring.log_session(db, signed_in(db), pair_id, data, runtime.clock())
        done = _("The session is logged: it counts once the other side confirms it.")
    except LrsError as exc:
        status = refusal_status(exc)
        errors = refusal_errors(exc)
    with read_transaction(runtime.sessions) as db:
        page = _mentoring(db, signed_in(db), errors, done, pair_id if errors else None)
    return page, status


@pages.post("/mentoring/sessions/<int:session_id>/confirmation")
def mentoring_confirmation_page(session_id: int):
    """Confirm a session the other side logged (``mentoring.confirm_session``)."""
    check_csrf()
    runtime = lrs_runtime()
    errors: dict[str, str] = {}
    status, done = 200, None
    try:
        with write_transaction(runtime.sessions) as db:
            mentoring.confirm_session(
                db, signed_in(db), session_id, runtime.public_url.rstrip("/"), runtime.clock()
            )
        done = _("Confirmed: the session now counts for both of you.")
    except LrsError as exc:
        status = refusal_status(exc)
        errors = refusal_errors(exc)
    with read_transaction(runtime.sessions) as db:
        page = _mentoring(db, signed_in(db), errors, done, None)
    return page, status
