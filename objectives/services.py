"""Cycles, reviews, objectives, templates, team progress and learner records.

Every function takes the caller's Session and the signed-in ``Viewer`` and enforces the roles:
a resource the viewer may not see is reported as not found (``Hidden``), never as forbidden,
so ids of other teams' reviews reveal nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections import Counter, defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from lrs import audit, queue, webhooks
from lrs.catalogue import M_, at
from lrs.errors import BadRequest
from lrs.people.models import Person
from lrs.people.services import identities
from lrs.sql import marks, run
from lrs.vocabulary import OBJECTIVE, name_of
from lti.statements import display
from objectives import progress as pg
from objectives.accounts import (
    Viewer,
    can_manage_person,
    can_read_record,
    can_see_person,
    can_see_review,
    is_reviewer,
    reports_of,
)
from objectives.criteria import Criterion
from objectives.errors import Hidden, NotAllowed
from objectives.facts import DERIVED
from objectives.models import (
    Objective,
    ObjectiveTemplate,
    Review,
    ReviewCycle,
    ReviewGrant,
)

WEEK_MS = 7 * 24 * 3600 * 1000


def _ms(moment: dt.datetime | None) -> int | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)


def criteria_for_storage(criteria: list[dict]) -> str:
    """Validated criteria (schemas.objectives) as stored: windows in ms since the epoch."""
    stored = []
    for c in criteria:
        c = dict(c)
        c["window_start_ms"] = _ms(c.pop("window_start", None))
        c["window_end_ms"] = _ms(c.pop("window_end", None))
        stored.append({k: v for k, v in c.items() if v not in (None, [], "")})
    return json.dumps(stored)


# --- lookups with visibility --------------------------------------------------------------


def get_person(session: Session, viewer: Viewer, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None or person.store_id != viewer.store_id:
        raise Hidden(M_("no person %(id)s", id=person_id))
    if not can_see_person(session, viewer, person_id):
        raise Hidden(M_("no person %(id)s", id=person_id))
    return person


def get_record_subject(session: Session, viewer: Viewer, person_id: int) -> Person:
    """The person whose learner record the viewer reads; reviewers read their reviewees'."""
    person = session.get(Person, person_id)
    if person is None or person.store_id != viewer.store_id:
        raise Hidden(M_("no person %(id)s", id=person_id))
    if not can_read_record(session, viewer, person_id):
        raise Hidden(M_("no person %(id)s", id=person_id))
    return person


def get_review(session: Session, viewer: Viewer, review_id: int) -> Review:
    review = session.get(Review, review_id)
    if review is None or not can_see_review(session, viewer, review):
        raise Hidden(M_("no review %(id)s", id=review_id))
    return review


def get_cycle(session: Session, viewer: Viewer, cycle_id: int) -> ReviewCycle:
    cycle = session.get(ReviewCycle, cycle_id)
    if cycle is None or cycle.store_id != viewer.store_id:
        raise Hidden(M_("no review cycle %(id)s", id=cycle_id))
    return cycle


def get_objective(session: Session, viewer: Viewer, objective_id: int) -> tuple[Objective, Review]:
    objective = session.get(Objective, objective_id)
    if objective is None:
        raise Hidden(M_("no objective %(id)s", id=objective_id))
    review = session.get(Review, objective.review_id)
    if review is None or not can_see_review(session, viewer, review):
        raise Hidden(M_("no objective %(id)s", id=objective_id))
    return objective, review


def require_manager_of(session: Session, viewer: Viewer, person_id: int) -> None:
    if not can_manage_person(session, viewer, person_id):
        raise NotAllowed(M_("only the person's managers and admins may do this"))


def require_admin(viewer: Viewer) -> None:
    if not viewer.is_admin:
        raise NotAllowed(M_("only admins may do this"))


def require_manager_role(session: Session, viewer: Viewer) -> None:
    """Admins, and people who have at least one report."""
    if viewer.is_admin:
        return
    if viewer.person_id is None or not reports_of(session, viewer.store_id, viewer.person_id):
        raise NotAllowed(M_("only managers and admins may do this"))


# --- people ---------------------------------------------------------------------------------


def visible_people(session: Session, viewer: Viewer) -> list[Person]:
    query = (
        select(Person).where(Person.store_id == viewer.store_id).order_by(Person.name, Person.id)
    )
    if viewer.is_admin:
        return list(session.scalars(query))
    ids = {viewer.person_id} if viewer.person_id else set()
    if viewer.person_id:
        ids |= reports_of(session, viewer.store_id, viewer.person_id)
    if not ids:
        return []
    return list(session.scalars(query.where(Person.id.in_(ids))))


# --- cycles ---------------------------------------------------------------------------------


def list_cycles(session: Session, viewer: Viewer) -> list[ReviewCycle]:
    return list(
        session.scalars(
            select(ReviewCycle)
            .where(ReviewCycle.store_id == viewer.store_id)
            .order_by(ReviewCycle.starts_on.desc())
        )
    )


def audit_target(row: ReviewCycle | Review | ObjectiveTemplate | Objective) -> audit.Target:
    """How the audit trail names a cycle, review, template or objective."""
    if isinstance(row, ReviewCycle):
        return audit.Target("cycle", row.id, row.name)
    if isinstance(row, Review):
        return audit.Target("review", row.id, f"review {row.id} of person {row.person_id}")
    if isinstance(row, ObjectiveTemplate):
        return audit.Target("template", row.id, row.title)
    return audit.Target("objective", row.id, row.title)


def create_cycle(session: Session, viewer: Viewer, data: dict) -> ReviewCycle:
    require_admin(viewer)
    cycle = ReviewCycle(store_id=viewer.store_id, **data)
    session.add(cycle)
    session.flush()
    audit.record(
        session,
        "cycle.created",
        store_id=viewer.store_id,
        target=audit_target(cycle),
        details={"starts_on": cycle.starts_on, "ends_on": cycle.ends_on},
    )
    return cycle


# --- reviews --------------------------------------------------------------------------------


def list_reviews(session: Session, viewer: Viewer, cycle_id: int | None = None) -> list[Review]:
    """The reviews the viewer may see: own, their reports', granted to them (or all: admin)."""
    query = select(Review).where(Review.store_id == viewer.store_id)
    if cycle_id is not None:
        query = query.where(Review.cycle_id == cycle_id)
    if not viewer.is_admin:
        people = {viewer.person_id} if viewer.person_id else set()
        if viewer.person_id:
            people |= reports_of(session, viewer.store_id, viewer.person_id)
        granted = select(ReviewGrant.review_id).where(ReviewGrant.person_id == viewer.person_id)
        query = query.where(Review.person_id.in_(people) | Review.id.in_(granted))
    return list(session.scalars(query.order_by(Review.id)))


def granted_reviews(session: Session, viewer: Viewer) -> list[int]:
    """Ids of the reviews granted to the viewer as a reviewer, oldest first."""
    if viewer.person_id is None:
        return []
    return list(
        session.scalars(
            select(ReviewGrant.review_id)
            .join(Review, Review.id == ReviewGrant.review_id)
            .where(ReviewGrant.person_id == viewer.person_id, Review.store_id == viewer.store_id)
            .order_by(ReviewGrant.review_id)
        )
    )


def create_review(session: Session, viewer: Viewer, data: dict) -> Review:
    cycle = get_cycle(session, viewer, data["cycle_id"])
    person = get_person(session, viewer, data["person_id"])
    require_manager_of(session, viewer, data["person_id"])
    if cycle.closed_at is not None:
        raise BadRequest(at("cycle_id", M_("the cycle %(name)s is closed", name=cycle.name)))
    if person.deactivated_at is not None:
        raise BadRequest(
            at("person_id", M_("%(name)s is deactivated", name=person.name or person.id))
        )
    existing = session.scalar(
        select(Review).where(Review.cycle_id == cycle.id, Review.person_id == data["person_id"])
    )
    if existing is not None:
        return existing
    review = Review(store_id=viewer.store_id, cycle_id=cycle.id, person_id=data["person_id"])
    session.add(review)
    session.flush()
    _set_reviewers(session, viewer, review, data.get("reviewer_ids") or [])
    queue.notify(
        session, viewer.store_id, "review.opened", {"review": review.id, "by": viewer.person_id}
    )
    audit.record(
        session,
        "review.created",
        store_id=viewer.store_id,
        target=audit_target(review),
        details={
            "cycle_id": cycle.id,
            "person_id": review.person_id,
            "reviewer_ids": list(dict.fromkeys(data.get("reviewer_ids") or [])),
        },
    )
    return review


def _set_reviewers(session: Session, viewer: Viewer, review: Review, person_ids: list[int]) -> None:
    before = set()
    for grant in session.scalars(select(ReviewGrant).where(ReviewGrant.review_id == review.id)):
        before.add(grant.person_id)
        session.delete(grant)
    session.flush()
    for person_id in dict.fromkeys(person_ids):
        person = session.get(Person, person_id)
        if person is None or person.store_id != viewer.store_id:
            raise Hidden(M_("no person %(id)s", id=person_id))
        session.add(ReviewGrant(review_id=review.id, person_id=person_id))
        if person_id not in before:
            queue.notify(
                session,
                viewer.store_id,
                "reviewer.granted",
                {"review": review.id, "reviewer": person_id, "by": viewer.person_id},
            )
    session.flush()


def update_review(session: Session, viewer: Viewer, review_id: int, data: dict) -> Review:
    """Managers set status, manager comment, reviewers and rating; reviewers their comment."""
    review = get_review(session, viewer, review_id)
    manages = can_manage_person(session, viewer, review.person_id)
    reviews_it = is_reviewer(session, viewer, review)
    if "reviewer_comment" in data:
        if not (reviews_it or viewer.is_admin):
            raise NotAllowed(M_("only the review's reviewers write the reviewer comment"))
        review.reviewer_comment = data["reviewer_comment"]
    if {"status", "manager_comment", "reviewer_ids", "rating"} & set(data):
        if not manages:
            raise NotAllowed(M_("only the employee's managers and admins change this review"))
        if "status" in data and data["status"] != review.status:
            audit.record(
                session,
                "review.status_changed",
                store_id=viewer.store_id,
                target=audit_target(review),
                details={"from": review.status, "to": data["status"]},
            )
            review.status = data["status"]
            if review.status == "submitted":
                _review_submitted(session, review)
                queue.notify(
                    session,
                    viewer.store_id,
                    "review.submitted",
                    {"review": review.id, "by": viewer.person_id},
                )
        if "manager_comment" in data:
            review.manager_comment = data["manager_comment"]
        if "rating" in data:
            review.rating = data["rating"]
        if "reviewer_ids" in data:
            before = sorted(reviewers_of(session, review))
            _set_reviewers(session, viewer, review, data["reviewer_ids"])
            after = sorted(dict.fromkeys(data["reviewer_ids"]))
            if before != after:
                audit.record(
                    session,
                    "review.reviewers_changed",
                    store_id=viewer.store_id,
                    target=audit_target(review),
                    details={"from": before, "to": after},
                )
    session.flush()
    return review


def _review_submitted(session: Session, review: Review) -> None:
    """The ``review.submitted`` webhook event, in the transaction that submits the review."""
    import time

    cycle = session.get(ReviewCycle, review.cycle_id)
    webhooks.emit(
        session,
        review.store_id,
        webhooks.REVIEW_SUBMITTED,
        {
            "review": {"id": review.id, "cycle_id": review.cycle_id},
            "cycle": {"id": review.cycle_id, "name": cycle.name if cycle else ""},
            "person": webhooks.person(session, review.person_id),
        },
        int(time.time() * 1000),
    )


def reviewers_of(session: Session, review: Review) -> list[int]:
    return list(
        session.scalars(select(ReviewGrant.person_id).where(ReviewGrant.review_id == review.id))
    )


# --- templates and objectives ----------------------------------------------------------------


def list_templates(session: Session, viewer: Viewer) -> list[ObjectiveTemplate]:
    require_manager_role(session, viewer)
    return list(
        session.scalars(
            select(ObjectiveTemplate)
            .where(ObjectiveTemplate.store_id == viewer.store_id)
            .order_by(ObjectiveTemplate.title)
        )
    )


def create_template(session: Session, viewer: Viewer, data: dict) -> ObjectiveTemplate:
    require_manager_role(session, viewer)
    template = ObjectiveTemplate(
        store_id=viewer.store_id,
        title=data["title"],
        description=data["description"],
        rule=data["rule"],
        k=data.get("k"),
        criteria=criteria_for_storage(data["criteria"]),
    )
    session.add(template)
    session.flush()
    audit.record(
        session, "template.created", store_id=viewer.store_id, target=audit_target(template)
    )
    return template


def get_template(session: Session, viewer: Viewer, template_id: int) -> ObjectiveTemplate:
    template = session.get(ObjectiveTemplate, template_id)
    if template is None or template.store_id != viewer.store_id:
        raise Hidden(M_("no template %(id)s", id=template_id))
    return template


def attach_objective(session: Session, viewer: Viewer, review_id: int, data: dict) -> Objective:
    """Attach an objective to a review, written out or from a template (managers, admins)."""
    review = get_review(session, viewer, review_id)
    require_manager_of(session, viewer, review.person_id)
    if "template_id" in data:
        template = get_template(session, viewer, data["template_id"])
        if template.retired_at is not None:
            raise BadRequest(
                at(
                    "template_id",
                    M_("the template %(title)s is retired", title=template.title),
                )
            )
        fields = {
            "title": template.title,
            "description": template.description,
            "rule": template.rule,
            "k": template.k,
            "criteria": template.criteria,
            "template_id": template.id,
        }
    else:
        fields = {
            "title": data["title"],
            "description": data["description"],
            "rule": data["rule"],
            "k": data.get("k"),
            "criteria": criteria_for_storage(data["criteria"]),
        }
    objective = Objective(
        store_id=viewer.store_id,
        review_id=review.id,
        due_on=data.get("due_on"),
        weight=data.get("weight", 1.0),
        **fields,
    )
    session.add(objective)
    session.flush()
    queue.person_changed(session, viewer.store_id, review.person_id)  # met already? the worker says
    queue.notify(
        session,
        viewer.store_id,
        "objective.attached",
        {"objective": objective.id, "by": viewer.person_id},
    )
    audit.record(
        session,
        "objective.attached",
        store_id=viewer.store_id,
        target=audit_target(objective),
        details={
            "review_id": review.id,
            "person_id": review.person_id,
            "template_id": objective.template_id,
        },
    )
    return objective


def delete_objective(session: Session, viewer: Viewer, objective_id: int) -> None:
    objective, review = get_objective(session, viewer, objective_id)
    require_manager_of(session, viewer, review.person_id)
    audit.record(
        session,
        "objective.removed",
        store_id=viewer.store_id,
        target=audit_target(objective),
        details={"review_id": review.id, "person_id": review.person_id},
    )
    session.delete(objective)
    session.flush()


# --- progress ---------------------------------------------------------------------------------


def review_progress(
    session: Session,
    viewer: Viewer,
    review: Review,
    *,
    evidence: int = 0,
) -> list[pg.Measured]:
    """Measured objectives of a review, as the worker has projected them (reads only)."""
    cycle = session.get(ReviewCycle, review.cycle_id)
    agents = identities(session, review.store_id, review.person_id)
    objectives = pg.objectives_of_review(session, review)
    return _measure(session, objectives, agents, cycle, evidence)


def _measure(
    session: Session,
    objectives: list[Objective],
    agents: list[dict],
    cycle: ReviewCycle,
    evidence: int,
) -> list[pg.Measured]:
    window = pg.cycle_window(cycle)
    keys = pg.actor_keys(agents)
    return [pg.measure(session, objective, keys, window, evidence) for objective in objectives]


def team_progress(
    session: Session, viewer: Viewer, cycle_id: int
) -> list[tuple[Person, Review, list[pg.Measured]]]:
    """Every visible review of the cycle except the viewer's own, with measured objectives.

    People, identities and objectives of the whole team are loaded with one query each; then
    one indexed count per criterion.
    """
    reviews = [
        r for r in list_reviews(session, viewer, cycle_id) if r.person_id != viewer.person_id
    ]
    if not reviews:
        return []
    cycle = session.get(ReviewCycle, cycle_id)
    person_ids = [r.person_id for r in reviews]
    people = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(person_ids)))}
    agents = identities_of_people(session, viewer.store_id, person_ids)
    by_review: dict[int, list[Objective]] = defaultdict(list)
    for objective in session.scalars(
        select(Objective)
        .where(Objective.review_id.in_([r.id for r in reviews]))
        .order_by(Objective.id)
    ):
        by_review[objective.review_id].append(objective)
    return [
        (
            people[r.person_id],
            r,
            _measure(session, by_review[r.id], agents.get(r.person_id, []), cycle, 0),
        )
        for r in reviews
    ]


def identities_of_people(
    session: Session, store_id: int, person_ids: list[int]
) -> dict[int, list[dict]]:
    """Every identity of each of these people (one query)."""
    from lrs.people.models import Identity

    out: dict[int, list[dict]] = defaultdict(list)
    for person_id, agent in session.execute(
        select(Identity.person_id, Identity.agent)
        .where(Identity.store_id == store_id, Identity.person_id.in_(person_ids))
        .order_by(Identity.id)
    ):
        out[person_id].append(json.loads(agent))
    return out


def describe_evidence(session: Session, store_id: int, statement_ids: list[str]) -> dict[str, dict]:
    """What a reader needs of each evidence statement: when, what (by name), how, from where.

    The activity's name comes from the statement, else the store's canonical definition of the
    activity, else its IRI; the verb's from our vocabulary, else the statement's display.
    """
    from lrs.vocabulary import SOURCE_LABELS, known_name

    if not statement_ids:
        return {}
    rows = run(
        session,
        "SELECT s.statement_id, s.payload, f.at_ms, f.source, f.score FROM statements s "
        "JOIN learning_facts f ON f.seq = s.seq WHERE s.store_id = ? AND s.statement_id IN "
        f"({marks(len(statement_ids))})",
        [store_id, *statement_ids],
    ).all()
    statements = {r[0]: (json.loads(r[1]), r[2], r[3], r[4]) for r in rows}
    unnamed = {
        st["object"].get("id")
        for st, *_ in statements.values()
        if not display((st["object"].get("definition") or {}).get("name"))
    } - {None}
    canonical = _activity_names(session, store_id, sorted(unnamed))
    out = {}
    for statement_id, (st, at_ms, source, score) in statements.items():
        obj = st["object"]
        verb = st["verb"]
        activity = obj.get("id", "")
        out[statement_id] = {
            "statement_id": statement_id,
            "date": dt.datetime.fromtimestamp(at_ms / 1000, dt.UTC).date().isoformat(),
            "activity": display((obj.get("definition") or {}).get("name"))
            or canonical.get(activity)
            or activity,
            "activity_id": activity,
            "verb": known_name(verb["id"]) or display(verb.get("display")) or name_of(verb["id"]),
            "source": SOURCE_LABELS.get(source, source),
            "score": None if score is None else round(score * 100),
        }
    return out


EVIDENCE_PAGE = 50


def criterion_evidence(
    session: Session, viewer: Viewer, objective_id: int, index: int, page: int
) -> dict:
    """One criterion's evidence, a page of ``EVIDENCE_PAGE`` at a time, the latest first."""
    objective, review = get_objective(session, viewer, objective_id)
    definitions = json.loads(objective.criteria)
    if not 0 <= index < len(definitions):
        raise Hidden(
            M_(
                "objective %(objective_id)s has no criterion %(number)s",
                objective_id=objective_id,
                number=index + 1,
            )
        )
    criterion = Criterion.from_dict(definitions[index])
    cycle = session.get(ReviewCycle, review.cycle_id)
    keys = pg.actor_keys(identities(session, review.store_id, review.person_id))
    window = pg.cycle_window(cycle)
    page = max(1, page)
    ids = pg.evidence_ids(
        session, review.store_id, keys, criterion, window, EVIDENCE_PAGE, (page - 1) * EVIDENCE_PAGE
    )
    described = describe_evidence(session, review.store_id, ids)
    total = pg.evidence_total(session, review.store_id, keys, criterion, window)
    named = [*criterion.activity_ids, *criterion.parent_ids]
    names = _activity_names(session, review.store_id, named)
    return {
        "objective": objective,
        "review": review,
        "person": session.get(Person, review.person_id),
        "description": criterion.describe(names),
        "items": [described[i] for i in ids if i in described],
        "total": total,
        "page": page,
        "pages": max(1, -(-total // EVIDENCE_PAGE)),
    }


def learner_statement(session: Session, viewer: Viewer, person_id: int, statement_id: str) -> dict:
    """A statement of a person's record, for who may read that record: described, and as JSON.

    Hidden (404) unless the statement is the person's (one of their identities is its actor).
    """
    person = get_record_subject(session, viewer, person_id)
    keys = pg.actor_keys(identities(session, viewer.store_id, person_id))
    if not keys:
        raise Hidden(M_("no statement %(id)s", id=statement_id))
    row = run(
        session,
        "SELECT s.payload FROM statements s WHERE s.store_id = ? AND s.statement_id = ? AND "
        f"EXISTS (SELECT 1 FROM learning_facts f WHERE f.seq = s.seq AND f.actor_key IN "
        f"({marks(len(keys))}))",
        [viewer.store_id, statement_id.lower(), *keys],
    ).first()
    if row is None:
        raise Hidden(M_("no statement %(id)s", id=statement_id))
    described = describe_evidence(session, viewer.store_id, [statement_id.lower()])
    statement = json.loads(row[0])
    return {
        "person": person,
        "statement": statement,
        "described": described.get(statement_id.lower()),
        "response": (statement.get("result") or {}).get("response"),
    }


def described_review(session: Session, viewer: Viewer, review: Review, evidence: int) -> list[dict]:
    """A review's measured objectives as JSON, each criterion's evidence described."""
    measured = review_progress(session, viewer, review, evidence=evidence)
    return with_evidence(session, review.store_id, [measured_json(m) for m in measured])


def with_evidence(session: Session, store_id: int, objectives: list[dict]) -> list[dict]:
    """``measured_json`` objectives, each criterion's evidence described (``evidence_items``)."""
    ids = [e for o in objectives for c in o["criteria"] for e in c["evidence"]]
    described = describe_evidence(session, store_id, ids)
    named = [
        a
        for o in objectives
        for c in o["criteria"]
        for key in ("activity_ids", "parent_ids")
        for a in c["definition"].get(key) or ()
    ]
    names = _activity_names(session, store_id, list(dict.fromkeys(named)))
    for o in objectives:
        for c in o["criteria"]:
            c["evidence_items"] = [described[e] for e in c["evidence"] if e in described]
            if names:  # the activities a criterion names, by the names statements gave them
                c["description"] = Criterion.from_dict(c["definition"]).describe(names)
    return objectives


def progress_text(m: pg.Measured) -> str:
    """Progress in words: "6 of 15" for one criterion, "2 of 3 criteria met" for several."""
    criteria = m.progress.criteria
    if len(criteria) == 1:
        return f"{min(criteria[0].count, criteria[0].required)} of {criteria[0].required}"
    needed = {"any": 1, "k_of_n": m.objective.k or 1}.get(m.objective.rule, len(criteria))
    met = sum(c.met for c in criteria)
    return f"{met} of {len(criteria)} criteria met ({needed} needed)"


def _utc_text(moment: dt.datetime) -> str:
    """An RFC 3339 timestamp in UTC (``Z``). SQLite gives back naive datetimes; they are UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def measured_json(m: pg.Measured) -> dict:
    o = m.objective
    return {
        "id": o.id,
        "review_id": o.review_id,
        "title": o.title,
        "description": o.description,
        "due_on": o.due_on.isoformat() if o.due_on else None,
        "weight": o.weight,
        "rule": o.rule,
        "k": o.k,
        "percent": round(m.progress.percent, 1),
        "met": m.progress.met,
        "progress_text": progress_text(m),
        "satisfied_at": _utc_text(o.satisfied_at) if o.satisfied_at else None,
        "satisfied_statement_id": o.satisfied_statement_id,
        "criteria": [
            {
                "description": c.describe(),
                "definition": json.loads(o.criteria)[i],
                "count": p.count,
                "required": p.required,
                "percent": round(p.percent, 1),
                "met": p.met,
                "evidence": p.evidence,
            }
            for i, (c, p) in enumerate(zip(m.criteria, m.progress.criteria, strict=True))
        ],
    }


def freshness(session: Session, store_id: int) -> dict:
    """How current progress is: statements the worker has not counted yet, and when it last did.

    Progress is read from what the worker projected; when it is behind, pages and the API say
    so instead of doing the work in the request.
    """
    behind, counted_ms = pg.projection_lag(session, store_id)
    return {
        "uncounted_statements": behind,
        "counted_at": (
            dt.datetime.fromtimestamp(counted_ms / 1000, dt.UTC).isoformat().replace("+00:00", "Z")
            if counted_ms
            else None
        ),
    }


# --- learner record -------------------------------------------------------------------------


def learner_record(
    session: Session, viewer: Viewer, person_id: int, since: dt.date | None, until: dt.date | None
) -> dict:
    """A person's learning across every source over a period: counts, weeks, recent items.

    Readable by who sees the person and by the reviewers of one of their reviews.
    Raises Hidden (404) otherwise.
    """
    person = get_record_subject(session, viewer, person_id)
    agents = identities(session, viewer.store_id, person_id)
    keys = pg.actor_keys(agents)
    start = pg._day_ms(since) if since else 0
    end = pg.day_end_ms(until) if until else 2**62
    record: dict = {
        "person": {"id": person.id, "name": person.name, "identities": agents},
        "period": {
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
        },
        "total": 0,
        "by_source": {},
        "by_verb": {},
        "by_activity_type": {},
        "weeks": [],
        "top_activities": [],
        "recent": [],
    }
    if not keys:
        return record
    where = (
        f"f.store_id = ? AND f.actor_key IN ({marks(len(keys))}) AND f.at_ms >= ? AND f.at_ms < ? "
        f"AND f.source <> ? AND {pg.NOT_VOIDED}"
    )
    params = [viewer.store_id, *keys, start, end, DERIVED, viewer.store_id]
    rows = run(
        session,
        f"SELECT f.source, f.verb_id, f.activity_type, f.at_ms / {WEEK_MS} AS week, "
        "COUNT(DISTINCT f.fingerprint) "
        f"FROM learning_facts f WHERE {where} GROUP BY 1, 2, 3, 4",
        params,
    ).all()
    by_source, by_verb, by_type = Counter(), Counter(), Counter()
    weeks: dict[int, Counter] = defaultdict(Counter)
    for source, verb, activity_type, week, count in rows:
        by_source[source] += count
        by_verb[verb] += count
        by_type[activity_type or "unknown"] += count
        weeks[int(week)][source] += count
    record["total"] = sum(by_source.values())
    record["by_source"] = dict(by_source.most_common())
    record["by_verb"] = dict(by_verb.most_common())
    record["by_activity_type"] = dict(by_type.most_common())
    record["weeks"] = [
        {
            "week_start": dt.datetime.fromtimestamp(week * WEEK_MS / 1000, dt.UTC)
            .date()
            .isoformat(),
            "by_source": dict(sources),
            "total": sum(sources.values()),
        }
        for week, sources in sorted(weeks.items())
    ]
    recent = run(
        session,
        "SELECT s.statement_id, f.source, f.verb_id, f.activity_id, f.at_ms, f.score, f.success "
        f"FROM learning_facts f JOIN statements s ON s.seq = f.seq WHERE {where} "
        "ORDER BY f.at_ms DESC LIMIT 20",
        params,
    ).all()
    top = run(
        session,
        "SELECT f.activity_id, COUNT(DISTINCT f.fingerprint) AS n "
        f"FROM learning_facts f WHERE {where} "
        "AND f.activity_id IS NOT NULL GROUP BY f.activity_id "
        "ORDER BY n DESC, f.activity_id LIMIT 8",
        params,
    ).all()
    names = _activity_names(session, viewer.store_id, [a for a, _ in top])
    record["top_activities"] = [
        {"activity": a, "name": names.get(a) or a, "count": n} for a, n in top
    ]
    # Named as the evidence is: by the statement, else the canonical definition, else the IRI.
    described = describe_evidence(session, viewer.store_id, [r[0] for r in recent])
    record["recent"] = [
        {
            "statement_id": sid,
            "source": source,
            "verb": verb,
            "verb_name": described[sid]["verb"] if sid in described else name_of(verb),
            "activity": activity,
            "activity_name": described[sid]["activity"] if sid in described else activity,
            "at": dt.datetime.fromtimestamp(at / 1000, dt.UTC).isoformat().replace("+00:00", "Z"),
            "score": score,
            "success": None if success is None else bool(success),
        }
        for sid, source, verb, activity, at, score, success in recent
    ]
    return record


def suggestions(
    session: Session, store_id: int, template_ids: list[int], limit: int = 5
) -> dict[int, list[dict]]:
    """Per template: the activities that people who met an objective from it did most often.

    Read from the projection (the met people's facts within their objectives' cycles are not
    needed: what they did at all is the path), named like evidence. No external service.
    """
    from lrs.people.models import Identity

    out: dict[int, list[dict]] = {}
    for template_id in template_ids:
        person_ids = list(
            session.scalars(
                select(Review.person_id)
                .join(Objective, Objective.review_id == Review.id)
                .where(
                    Objective.store_id == store_id,
                    Objective.template_id == template_id,
                    Objective.satisfied_at.is_not(None),
                )
                .distinct()
            )
        )
        if not person_ids:
            continue
        agents = [
            json.loads(a)
            for a in session.scalars(
                select(Identity.agent).where(
                    Identity.store_id == store_id, Identity.person_id.in_(person_ids)
                )
            )
        ]
        keys = pg.actor_keys(agents)
        if not keys:
            continue
        rows = run(
            session,
            "SELECT f.activity_id, f.activity_type, COUNT(DISTINCT f.actor_key) AS people, "
            "COUNT(*) AS times FROM learning_facts f WHERE f.store_id = ? AND f.actor_key IN "
            f"({marks(len(keys))}) AND f.activity_id IS NOT NULL AND f.source <> ? "
            f"AND {pg.NOT_VOIDED} GROUP BY f.activity_id, f.activity_type "
            "ORDER BY people DESC, times DESC, f.activity_id LIMIT ?",
            [store_id, *keys, DERIVED, store_id, limit],
        ).all()
        names = _activity_names(session, store_id, [r[0] for r in rows])
        out[template_id] = [
            {
                "activity_id": activity,
                "activity": names.get(activity) or activity,
                "type": name_of(activity_type) if activity_type else "",
                "people": people,
                "times": times,
            }
            for activity, activity_type, people, times in rows
        ]
    return out


def _activity_names(session: Session, store_id: int, activity_ids: list[str]) -> dict[str, str]:
    """The canonical names of these activities in the store (from statements that named them)."""
    if not activity_ids:
        return {}
    names = {}
    for activity_id, definition in run(
        session,
        "SELECT activity_id, definition FROM activities WHERE store_id = ? AND activity_id IN "
        f"({marks(len(activity_ids))})",
        [store_id, *activity_ids],
    ).all():
        name = display((json.loads(definition) or {}).get("name"))
        if name:
            names[activity_id] = name
    return names


def activity_names(session: Session, store_id: int, activity_ids: list[str]) -> dict[str, str]:
    """Names for the criteria form's picked activities (an activity without one: its IRI)."""
    names = _activity_names(session, store_id, list(dict.fromkeys(activity_ids)))
    return {a: names.get(a, a) for a in activity_ids}


def find_activities(session: Session, store_id: int, text: str, limit: int = 15) -> list[dict]:
    """Activities whose canonical name (or IRI) contains ``text``, for the criteria form.

    Reads the canonical definitions the LRS keeps (the Activities Resource's), so anything a
    statement named can be found by that name. Case-insensitive; the shortest names first.
    """
    text = " ".join(text.split())[:100]
    if len(text) < 2:
        return []
    pattern = "%" + re.sub(r"([!%_])", r"!\1", text.lower()) + "%"
    rows = run(
        session,
        "SELECT activity_id, definition FROM activities WHERE store_id = ? AND "
        "(lower(definition) LIKE ? ESCAPE '!' OR lower(activity_id) LIKE ? ESCAPE '!') "
        "ORDER BY length(activity_id) LIMIT 200",
        [store_id, pattern, pattern],
    ).all()
    found = []
    for activity_id, raw in rows:
        definition = json.loads(raw) or {}
        if definition.get("type") == OBJECTIVE:
            continue  # Learnloop's own record of objectives met, not learning to count
        name = display(definition.get("name")) or ""
        if text.lower() not in name.lower() and text.lower() not in activity_id.lower():
            continue  # the text matched the description or another language only
        found.append(
            {
                "id": activity_id,
                "name": name or activity_id,
                "type": name_of(definition.get("type")) if definition.get("type") else "",
            }
        )
    found.sort(key=lambda a: (text.lower() not in a["name"].lower(), len(a["name"]), a["name"]))
    return found[:limit]


def review_csv(person_name: str, objectives: list[dict]) -> str:
    """A review as CSV: a row per piece of evidence (or per criterion without evidence)."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "person",
            "objective",
            "progress",
            "met on",
            "criterion",
            "count",
            "required",
            "evidence date",
            "activity",
            "what",
            "source",
            "score %",
        ]
    )
    for o in objectives:
        met_on = (o["satisfied_at"] or "")[:10]
        for c in o["criteria"]:
            head = [person_name, o["title"], o["progress_text"], met_on, c["description"]]
            head += [c["count"], c["required"]]
            items = c.get("evidence_items") or [None]
            for e in items:
                tail = (
                    [e["date"], e["activity"], e["verb"], e["source"], e["score"]]
                    if e
                    else [""] * 5
                )
                writer.writerow(head + ["" if v is None else v for v in tail])
    return out.getvalue()


def record_csv(record: dict) -> str:
    """The learner record as CSV: one row per recent item, then the weekly totals."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "when", "source", "verb", "activity", "score", "success", "count"])
    for item in record["recent"]:
        writer.writerow(
            [
                "recent",
                item["at"],
                item["source"],
                item["verb"],
                item["activity"],
                item["score"],
                item["success"],
                1,
            ]
        )
    for week in record["weeks"]:
        for source, count in week["by_source"].items():
            writer.writerow(["week", week["week_start"], source, "", "", "", "", count])
    return out.getvalue()


def criterion_description(data: dict) -> str:
    return Criterion.from_dict(data).describe()


def events_since(session: Session, store_id: int, agents: list[dict], since_ms: int) -> int:
    """How many learning events these identities of a person had since ``since_ms``."""
    keys = pg.actor_keys(agents)
    if not keys:
        return 0
    return (
        run(
            session,
            "SELECT COUNT(DISTINCT f.fingerprint) FROM learning_facts f "
            f"WHERE f.store_id = ? AND f.actor_key IN ({marks(len(keys))}) AND f.at_ms >= ? "
            f"AND f.source <> ? AND {pg.NOT_VOIDED}",
            [store_id, *keys, since_ms, DERIVED, store_id],
        ).scalar()
        or 0
    )
