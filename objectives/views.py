"""The objectives API under /api: JSON in, JSON out, every route behind the roles.

Sign-in: ``POST /api/tokens`` with store, email and password gives a bearer token; pages use
the session cookie set by ``web``. Each route parses with a marshmallow schema (400 with paths
on bad input), calls a service, renders. The OpenAPI document is at /api/openapi.json.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, g, jsonify, request, session
from marshmallow import ValidationError

from lrs.catalogue import M_, at
from lrs.db import read_transaction, write_transaction
from lrs.errors import FieldError
from lrs.people.models import Person
from lrs.people.services import create_person, identities, link_identity
from lrs.runtime import lrs_runtime
from objectives import accounts
from objectives import services as svc
from objectives.errors import InvalidPayload, NotSignedIn
from objectives.models import Account
from schemas import objectives as schemas
from schemas.fields import MAX_ID, flatten_messages, id_parameter

api = Blueprint("api", __name__, url_prefix="/api")


def _load(schema, data=None, partial=False) -> dict:
    try:
        return schema().load(
            request.get_json(silent=True) if data is None else data, partial=partial
        )
    except ValidationError as exc:
        errors = [FieldError(path, message) for path, message in flatten_messages(exc.messages)]
        raise InvalidPayload(
            "; ".join(str(e) for e in errors[:5]) or M_("invalid body"), errors
        ) from None


def _id_argument(name: str) -> int | None:
    """A row id in the query string (1 to MAX_ID), or None if absent; a 400 naming it if not."""
    text = request.args.get(name)
    if text is None:
        return None
    try:
        value = id_parameter(text)
    except ValueError:
        value = 0
    if value < 1:
        problem = M_("must be an id: a whole number from 1 to %(max)s", max=MAX_ID)
        raise InvalidPayload(at(name, problem), [FieldError(name, problem)])
    return value


def _viewer(db) -> accounts.Viewer:
    """The signed-in account: a bearer token, or the pages' session cookie."""
    header = request.headers.get("Authorization", "")
    if request.args.get("lt"):
        from objectives.lti_hooks import viewer_from_launch

        viewer, _ = viewer_from_launch(db, request.args["lt"])
        g.viewer = viewer
        return viewer
    if header.lower().startswith("bearer "):
        account = accounts.account_for_token(db, header[7:].strip())
    else:
        now = dt.datetime.fromtimestamp(lrs_runtime().clock() / 1000, dt.UTC)
        account = accounts.session_account(db, session, now) if session.get("account_id") else None
        if account is None:
            raise NotSignedIn(M_("sign in first: send a bearer token from POST /api/tokens"))
    viewer = accounts.viewer_of(account)
    g.viewer = viewer
    return viewer


def _base_url() -> str:
    return lrs_runtime().public_url.rstrip("/")


def _with_freshness(response: Response, db, store_id: int) -> Response:
    """Lists carry how fresh progress is in headers (the body stays a list)."""
    fresh = svc.freshness(db, store_id)
    response.headers["Learnloop-Uncounted-Statements"] = str(fresh["uncounted_statements"])
    if fresh["counted_at"]:
        response.headers["Learnloop-Progress-Counted-At"] = fresh["counted_at"]
    return response


def _cycle_json(c) -> dict:
    return {
        "id": c.id,
        "name": c.name,
        "starts_on": c.starts_on.isoformat(),
        "ends_on": c.ends_on.isoformat(),
    }


def _review_json(db, r) -> dict:
    person = db.get(Person, r.person_id)
    return {
        "id": r.id,
        "cycle_id": r.cycle_id,
        "person_id": r.person_id,
        "person_name": person.name if person else "",
        "status": r.status,
        "manager_comment": r.manager_comment,
        "reviewer_comment": r.reviewer_comment,
        "reviewer_ids": svc.reviewers_of(db, r),
        "rating": r.rating,
    }


def _person_json(db, p, manager_id=None) -> dict:
    return {
        "id": p.id,
        "name": p.name,
        "email": p.email,
        "identities": identities(db, p.store_id, p.id),
    }


def _template_json(t) -> dict:
    import json

    return {
        "id": t.id,
        "title": t.title,
        "description": t.description,
        "rule": t.rule,
        "k": t.k,
        "criteria": json.loads(t.criteria),
        "criteria_in_words": [svc.criterion_description(c) for c in json.loads(t.criteria)],
    }


@api.post("/tokens")
def create_token():
    """Sign in with store, email and password; returns a bearer token (shown once)."""
    body = _load(schemas.TokenRequestSchema)
    runtime = lrs_runtime()
    account_id = accounts.verify_password(
        runtime.sessions,
        runtime.throttle,
        body["store"],
        body["email"],
        body["password"],
        request.remote_addr,
    )
    with write_transaction(runtime.sessions) as db:
        account = db.get(Account, account_id)
        token = accounts.issue_token(db, account, body["name"])
    return jsonify({"token": token, "account_id": account.id}), 201


@api.get("/me")
def me():
    with read_transaction(lrs_runtime().sessions) as db:
        viewer = _viewer(db)
        account = db.get(Account, viewer.account_id)
        manages = bool(
            viewer.person_id and accounts.reports_of(db, viewer.store_id, viewer.person_id)
        )
        return jsonify(
            {
                "account_id": account.id,
                "email": account.email,
                "person_id": account.person_id,
                "is_admin": account.is_admin,
                "is_manager": manages,
            }
        )


@api.get("/people")
def list_people():
    with read_transaction(lrs_runtime().sessions) as db:
        viewer = _viewer(db)
        return jsonify([_person_json(db, p) for p in svc.visible_people(db, viewer)])


@api.post("/people")
def add_person():
    """Admins add people; ``manager_id`` sets their manager."""
    data = _load(schemas.PersonSchema)
    with write_transaction(lrs_runtime().sessions) as db:
        viewer = _viewer(db)
        svc.require_admin(viewer)
        person = create_person(db, viewer.store_id, data["name"], data["email"])
        if data["email"]:
            link_identity(db, viewer.store_id, person, {"mbox": "mailto:" + data["email"]})
        if data["manager_id"]:
            svc.get_person(db, viewer, data["manager_id"])
            accounts.set_manager(db, viewer.store_id, person.id, data["manager_id"])
        return jsonify(_person_json(db, person)), 201


@api.get("/people/<int:person_id>")
def get_person(person_id: int):
    with read_transaction(lrs_runtime().sessions) as db:
        viewer = _viewer(db)
        return jsonify(_person_json(db, svc.get_person(db, viewer, person_id)))


@api.put("/people/<int:person_id>/manager")
def put_manager(person_id: int):
    manager_id = _load(schemas.ManagerSchema)["manager_id"]
    with write_transaction(lrs_runtime().sessions) as db:
        viewer = _viewer(db)
        svc.require_admin(viewer)
        svc.get_person(db, viewer, person_id)
        if manager_id is not None:
            svc.get_person(db, viewer, manager_id)
        accounts.set_manager(db, viewer.store_id, person_id, manager_id)
    return Response(status=204)


@api.get("/people/<int:person_id>/record")
def person_record(person_id: int):
    """The learner record: counts by source, verb and type, weekly series, recent items."""
    args = {k: v for k, v in request.args.items() if k != "lt"}  # lt: the LTI launch token
    query = _load(schemas.RecordQuerySchema, args)
    with read_transaction(lrs_runtime().sessions) as db:
        viewer = _viewer(db)
        record = svc.learner_record(db, viewer, person_id, query["since"], query["until"])
        reviews = [r for r in svc.list_reviews(db, viewer) if r.person_id == person_id]
        record["objectives"] = [
            svc.measured_json(m) for r in reviews for m in svc.review_progress(db, viewer, r)
        ]
    if query["format"] == "csv":
        return Response(
            svc.record_csv(record),
            mimetype="text/csv",
            headers={"Content-Disposition": f"attachment; filename=record-{person_id}.csv"},
        )
    return jsonify(record)


@api.get("/cycles")
def list_cycles():
    with read_transaction(lrs_runtime().sessions) as db:
        return jsonify([_cycle_json(c) for c in svc.list_cycles(db, _viewer(db))])


@api.post("/cycles")
def create_cycle():
    data = _load(schemas.CycleSchema)
    with write_transaction(lrs_runtime().sessions) as db:
        return jsonify(_cycle_json(svc.create_cycle(db, _viewer(db), data))), 201


@api.get("/cycles/<int:cycle_id>/team")
def team(cycle_id: int):
    """Every visible report's review in the cycle with each objective's progress."""
    with read_transaction(lrs_runtime().sessions) as db:
        viewer = _viewer(db)
        svc.get_cycle(db, viewer, cycle_id)
        rows = svc.team_progress(db, viewer, cycle_id)
        response = jsonify(
            [
                {
                    "person": {"id": p.id, "name": p.name},
                    "review": _review_json(db, r),
                    "objectives": [svc.measured_json(m) for m in measured],
                }
                for p, r, measured in rows
            ]
        )
        return _with_freshness(response, db, viewer.store_id)


@api.get("/reviews")
def list_reviews():
    cycle_id = _id_argument("cycle_id")
    with read_transaction(lrs_runtime().sessions) as db:
        viewer = _viewer(db)
        return jsonify([_review_json(db, r) for r in svc.list_reviews(db, viewer, cycle_id)])


@api.post("/reviews")
def create_review():
    data = _load(schemas.ReviewSchema)
    with write_transaction(lrs_runtime().sessions) as db:
        review = svc.create_review(db, _viewer(db), data)
        return jsonify(_review_json(db, review)), 201


@api.get("/reviews/<int:review_id>")
def get_review(review_id: int):
    with read_transaction(lrs_runtime().sessions) as db:
        viewer = _viewer(db)
        review = svc.get_review(db, viewer, review_id)
        body = _review_json(db, review)
        body["objectives"] = [
            svc.measured_json(m) for m in svc.review_progress(db, viewer, review, evidence=10)
        ]
        body["progress"] = svc.freshness(db, viewer.store_id)
        return jsonify(body)


@api.patch("/reviews/<int:review_id>")
def patch_review(review_id: int):
    data = _load(schemas.ReviewUpdateSchema)
    with write_transaction(lrs_runtime().sessions) as db:
        review = svc.update_review(db, _viewer(db), review_id, data)
        return jsonify(_review_json(db, review))


@api.post("/reviews/<int:review_id>/objectives")
def attach_objective(review_id: int):
    """Attach an objective: written out (ObjectiveSchema) or from a template."""
    body = request.get_json(silent=True)
    schema = (
        schemas.ObjectiveFromTemplateSchema
        if isinstance(body, dict) and "template_id" in body
        else schemas.ObjectiveSchema
    )
    data = _load(schema)
    with write_transaction(lrs_runtime().sessions) as db:
        viewer = _viewer(db)
        objective = svc.attach_objective(db, viewer, review_id, data)
        return jsonify(
            {"id": objective.id, "review_id": objective.review_id, "title": objective.title}
        ), 201


@api.get("/objectives/<int:objective_id>/progress")
def objective_progress(objective_id: int):
    with read_transaction(lrs_runtime().sessions) as db:
        viewer = _viewer(db)
        objective, review = svc.get_objective(db, viewer, objective_id)
        for m in svc.review_progress(db, viewer, review, evidence=20):
            if m.objective.id == objective_id:
                return jsonify(
                    {**svc.measured_json(m), "progress": svc.freshness(db, viewer.store_id)}
                )
    raise AssertionError("unreachable")


@api.delete("/objectives/<int:objective_id>")
def delete_objective(objective_id: int):
    with write_transaction(lrs_runtime().sessions) as db:
        svc.delete_objective(db, _viewer(db), objective_id)
    return Response(status=204)


@api.get("/templates")
def list_templates():
    with read_transaction(lrs_runtime().sessions) as db:
        return jsonify([_template_json(t) for t in svc.list_templates(db, _viewer(db))])


@api.post("/templates")
def create_template():
    data = _load(schemas.TemplateSchema)
    with write_transaction(lrs_runtime().sessions) as db:
        return jsonify(_template_json(svc.create_template(db, _viewer(db), data))), 201


@api.get("/audit")
def audit_trail():
    """The store's audit trail, newest first (admins); ``more`` is the next page's URL."""
    from urllib.parse import urlencode

    from lrs import audit

    before = _id_argument("before")
    limit = _id_argument("limit") or 50
    if limit > 200:
        problem = M_("must be from 1 to 200")
        raise InvalidPayload(at("limit", problem), [FieldError("limit", problem)])
    with read_transaction(lrs_runtime().sessions) as db:
        viewer = _viewer(db)
        svc.require_admin(viewer)
        where = audit.filter_of(
            viewer.store_id, request.args.get("action", ""), request.args.get("actor", "")
        )
        events, next_before = audit.list_events(db, where, before_id=before, limit=limit)
        more = None
        if next_before is not None:
            query = {"action": where.action, "actor": where.actor, "limit": limit}
            query = {k: v for k, v in query.items() if v} | {"before": next_before}
            more = "/api/audit?" + urlencode(query)
        return jsonify({"events": [audit.event_json(e) for e in events], "more": more})


@api.get("/statements/export")
def export_statements():
    """Every statement GET /xapi/statements' filters match, as NDJSON or CSV, streamed (admins).

    Checked for the admin role and parsed before the first byte is sent, so a refusal or a bad
    parameter is a JSON error; the body is then read a chunk at a time (``lrs.statements.export``).
    """
    from lrs.core.formats import parse_accept_language
    from lrs.models import Store
    from lrs.statements import export
    from lrs.statements.views import export_download

    runtime = lrs_runtime()
    with read_transaction(runtime.sessions) as db:
        viewer = _viewer(db)
        svc.require_admin(viewer)
        store_name = db.get(Store, viewer.store_id).name
    args = request.args.to_dict(flat=False)
    args.pop("lt", None)  # the launch token that signed the viewer in
    repeated = sorted(name for name, values in args.items() if len(values) > 1)
    if repeated:
        problem = M_("given more than once")
        raise InvalidPayload(at(repeated[0], problem), [FieldError(repeated[0], problem)])
    parsed = export.parse_export({name: values[0] for name, values in args.items()})
    languages = parse_accept_language(request.headers.get("Accept-Language"))
    return export_download(viewer.store_id, store_name, parsed, languages)


@api.get("/openapi.json")
def openapi():
    from objectives.openapi import document

    return jsonify(document(_base_url()))


@api.get("/vocabulary")
def vocabulary():
    """Sources, verbs and activity types with their names: what criteria are written in.

    Public, like the xAPI Profiles: clients and the pages' pickers read the IRIs here.
    """
    from lrs.vocabulary import as_json

    return jsonify(as_json())
