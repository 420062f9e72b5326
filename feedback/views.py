"""Feedback's /api routes, attached to ``objectives.views.api``.

They are declared in ``objectives.openapi`` like every route of that blueprint.

Every refusal is an ``LrsError`` rendered as JSON with the path of what was wrong. Health-check
routes never answer anything that ties an answer to a person: results are aggregates, or
nothing and the reason, also as CSV.
"""

from __future__ import annotations

from flask import Response, jsonify, request

from feedback import aar, health, insight, mentoring, settings
from feedback.common import day_of
from lrs.catalogue import M_, at
from lrs.db import read_transaction, write_transaction
from lrs.errors import FieldError
from lrs.inputs import search_text
from lrs.runtime import lrs_runtime
from objectives.errors import InvalidPayload, NotAllowed
from objectives.views import _load, _viewer, api
from schemas import feedback as schemas


def _base_url() -> str:
    return lrs_runtime().public_url.rstrip("/")


def _csv_wanted() -> bool:
    wanted = request.args.get("format", "json")
    if wanted not in ("json", "csv"):
        raise InvalidPayload(
            at("format", M_("must be json or csv")), [FieldError("format", M_("json or csv"))]
        )
    return wanted == "csv"


def _csv(text: str, filename: str) -> Response:
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# ---- settings ------------------------------------------------------------------------------


@api.get("/feedback/settings")
def get_feedback_settings():
    """The store's anonymity threshold k."""
    with read_transaction(lrs_runtime().sessions) as db:
        viewer = _viewer(db)
        return jsonify({"k": settings.k_of(db, viewer.store_id)})


@api.put("/feedback/settings")
def put_feedback_settings():
    """Set k (admins): results of fewer than k people are never shown."""
    data = _load(schemas.FeedbackSettingsSchema)
    runtime = lrs_runtime()
    with write_transaction(runtime.sessions) as db:
        viewer = _viewer(db)
        if not viewer.is_admin:
            raise NotAllowed(M_("only admins set the anonymity threshold"))
        return jsonify({"k": settings.set_k(db, viewer.store_id, data["k"], runtime.clock())})


# ---- health checks -------------------------------------------------------------------------


def _check_json(db, viewer, check, now_ms: int) -> dict:
    members, answered = health.counts(db, check.id)
    return {
        **health.check_json(check, now_ms),
        "members": members,
        "answered": answered,
        "you_answered": health.has_answered(db, check.id, viewer.person_id),
    }


@api.get("/health-checks")
def list_health_checks():
    """Checks the signed-in person leads or may answer (all for admins)."""
    runtime = lrs_runtime()
    now = runtime.clock()
    with read_transaction(runtime.sessions) as db:
        viewer = _viewer(db)
        return jsonify([_check_json(db, viewer, c, now) for c in health.list_checks(db, viewer)])


@api.post("/health-checks")
def open_health_check():
    """Open a squad health check or a pulse for a team (its lead, their managers, admins)."""
    data = _load(schemas.HealthCheckSchema)
    runtime = lrs_runtime()
    now = runtime.clock()
    with write_transaction(runtime.sessions) as db:
        viewer = _viewer(db)
        check = health.open_check(db, viewer, data, now)
        return jsonify(_check_json(db, viewer, check, now)), 201


@api.get("/health-checks/<int:check_id>")
def get_health_check(check_id: int):
    runtime = lrs_runtime()
    now = runtime.clock()
    with read_transaction(runtime.sessions) as db:
        viewer = _viewer(db)
        return jsonify(_check_json(db, viewer, health.get_check(db, viewer, check_id), now))


@api.post("/health-checks/<int:check_id>/token")
def health_check_token(check_id: int):
    """A one-time participation token to answer with; 409 once answered."""
    runtime = lrs_runtime()
    with write_transaction(runtime.sessions) as db:
        viewer = _viewer(db)
        token = health.participation_token(db, viewer, check_id, runtime.clock())
        return jsonify({"token": token}), 201


@api.post("/health-checks/<int:check_id>/answers")
def answer_health_check(check_id: int):
    """Answer anonymously with a participation token; 409 for a spent token (one answer each)."""
    data = _load(schemas.AnswerSchema)
    runtime = lrs_runtime()
    with write_transaction(runtime.sessions) as db:
        viewer = _viewer(db)
        health.answer(db, viewer, check_id, data["token"], data["answers"], runtime.clock())
        return jsonify({"recorded": True}), 201


@api.post("/health-checks/<int:check_id>/close")
def close_health_check(check_id: int):
    """Close a check before its last day; its results show if k or more answered."""
    runtime = lrs_runtime()
    now = runtime.clock()
    with write_transaction(runtime.sessions) as db:
        viewer = _viewer(db)
        check = health.close_check(db, viewer, check_id, now)
        return jsonify(_check_json(db, viewer, check, now))


@api.get("/health-checks/<int:check_id>/results")
def health_check_results(check_id: int):
    """Aggregates once closed with k or more answers; otherwise counts and the reason only."""
    wants_csv = _csv_wanted()
    runtime = lrs_runtime()
    now = runtime.clock()
    with read_transaction(runtime.sessions) as db:
        viewer = _viewer(db)
        summary = health.results(db, viewer, check_id, now)
        if wants_csv:
            return _csv(health.results_csv(summary), f"health-check-{check_id}.csv")
        summary["trends"] = health.trends(db, viewer, check_id, now)
        return jsonify(summary)


# ---- after-action reviews ------------------------------------------------------------------


@api.get("/after-action-reviews")
def search_after_action_reviews():
    """The store's after-action reviews whose words contain q (all when q is empty)."""
    text = search_text("q", request.args.get("q", ""))
    with read_transaction(lrs_runtime().sessions) as db:
        viewer = _viewer(db)
        return jsonify([aar.described(db, a) for a in aar.search(db, viewer, text)])


@api.post("/after-action-reviews")
def publish_after_action_review():
    """Publish a blameless after-action review (statements for its author and participants)."""
    data = _load(schemas.AfterActionReviewSchema)
    runtime = lrs_runtime()
    with write_transaction(runtime.sessions) as db:
        viewer = _viewer(db)
        review = aar.publish(db, viewer, data, _base_url(), runtime.clock())
        return jsonify(aar.described(db, review)), 201


@api.get("/after-action-reviews/<int:aar_id>")
def get_after_action_review(aar_id: int):
    with read_transaction(lrs_runtime().sessions) as db:
        viewer = _viewer(db)
        return jsonify(aar.described(db, aar.get(db, viewer, aar_id)))


@api.post("/after-action-reviews/<int:aar_id>/actions/<int:action_id>/objective")
def action_to_objective(aar_id: int, action_id: int):
    """Make an action a learning objective on its owner's review, in one step."""
    data = _load(schemas.ActionObjectiveSchema)
    runtime = lrs_runtime()
    today = day_of(runtime.clock())
    with write_transaction(runtime.sessions) as db:
        viewer = _viewer(db)
        objective = aar.action_to_objective(db, viewer, aar_id, action_id, data, today)
        return jsonify(
            {"id": objective.id, "review_id": objective.review_id, "title": objective.title}
        ), 201


# ---- mentoring -----------------------------------------------------------------------------


@api.get("/mentoring/pairs")
def list_mentoring_pairs():
    with read_transaction(lrs_runtime().sessions) as db:
        viewer = _viewer(db)
        return jsonify([mentoring.pair_json(db, p) for p in mentoring.list_pairs(db, viewer)])


@api.post("/mentoring/pairs")
def create_mentoring_pair():
    """Pair a mentor and a mentee (admins, managers of either)."""
    data = _load(schemas.PairSchema)
    runtime = lrs_runtime()
    with write_transaction(runtime.sessions) as db:
        viewer = _viewer(db)
        pair = mentoring.create_pair(
            db, viewer, data["mentor_id"], data["mentee_id"], runtime.clock()
        )
        return jsonify(mentoring.pair_json(db, pair)), 201


@api.post("/mentoring/pairs/<int:pair_id>/sessions")
def log_mentoring_session(pair_id: int):
    """Log a session (either side); it counts once the other side confirms it."""
    data = _load(schemas.MentoringSessionSchema)
    runtime = lrs_runtime()
    with write_transaction(runtime.sessions) as db:
        viewer = _viewer(db)
        row = mentoring.log_session(db, viewer, pair_id, data, runtime.clock())
        return jsonify(mentoring.session_json(row)), 201


@api.post("/mentoring/sessions/<int:session_id>/confirmation")
def confirm_mentoring_session(session_id: int):
    """The other side confirms a session: its statements are written then."""
    runtime = lrs_runtime()
    with write_transaction(runtime.sessions) as db:
        viewer = _viewer(db)
        row = mentoring.confirm_session(db, viewer, session_id, _base_url(), runtime.clock())
        return jsonify(mentoring.session_json(row))


# ---- insight -------------------------------------------------------------------------------


@api.put("/reviews/<int:review_id>/rating")
def put_review_rating(review_id: int):
    """The review's outcome, 1-5 or null (the employee's managers and admins)."""
    data = _load(schemas.RatingSchema)
    with write_transaction(lrs_runtime().sessions) as db:
        viewer = _viewer(db)
        review = insight.set_rating(db, viewer, review_id, data["rating"])
        return jsonify({"review_id": review.id, "rating": review.rating})


@api.get("/cycles/<int:cycle_id>/insight")
def cycle_insight(cycle_id: int):
    """Objectives met and learning against review outcomes; nothing below k people."""
    wants_csv = _csv_wanted()
    with read_transaction(lrs_runtime().sessions) as db:
        viewer = _viewer(db)
        answer = insight.for_cycle(db, viewer, cycle_id)
        if wants_csv:
            return _csv(insight.insight_csv(answer), f"insight-cycle-{cycle_id}.csv")
        return jsonify(answer)
