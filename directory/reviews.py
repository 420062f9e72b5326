"""Review cycles, the reviews of a team in one step, templates and reviewer grants.

The rules of ``objectives.services`` hold: admins open and close cycles; managers (and admins)
create the reviews of their team, write templates and grant reviewers on their reports'
reviews. A closed cycle takes no new reviews.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lrs import audit, queue
from lrs.catalogue import M_, at
from lrs.errors import BadRequest, Conflict
from lrs.people.models import Person
from objectives import services as svc
from objectives.accounts import Viewer, can_manage_person, reports_of
from objectives.errors import Hidden, NotAllowed
from objectives.models import Objective, ObjectiveTemplate, Review, ReviewCycle, ReviewGrant


@dataclass(frozen=True)
class TeamReviews:
    """What ``create_team_reviews`` did."""

    created: int
    existing: int
    attached: int
    review_ids: list[int]


def open_cycle(
    session: Session, viewer: Viewer, name: str, starts_on: dt.date | None, ends_on: dt.date | None
) -> ReviewCycle:
    """A new review cycle (admins). BadRequest names the field in plain words."""
    if not viewer.is_admin:
        raise NotAllowed(M_("only admins open review cycles"))
    name = (name or "").strip()
    if not name:
        raise BadRequest(at("name", M_("name the cycle, e.g. 2027 H1")))
    if starts_on is None:
        raise BadRequest(at("starts_on", M_("pick the first day")))
    if ends_on is None:
        raise BadRequest(at("ends_on", M_("pick the last day")))
    if ends_on < starts_on:
        raise BadRequest(at("ends_on", M_("the last day is before the first day")))
    if session.scalar(
        select(ReviewCycle.id).where(
            ReviewCycle.store_id == viewer.store_id, ReviewCycle.name == name
        )
    ):
        raise Conflict(at("name", M_("there is already a cycle called %(name)s", name=name)))
    return svc.create_cycle(
        session, viewer, {"name": name[:200], "starts_on": starts_on, "ends_on": ends_on}
    )


def cycle_by_name(session: Session, viewer: Viewer, name: str) -> ReviewCycle:
    cycle = session.scalar(
        select(ReviewCycle).where(
            ReviewCycle.store_id == viewer.store_id, ReviewCycle.name == name.strip()
        )
    )
    if cycle is None:
        raise Hidden(M_("no review cycle called %(name)s", name=repr(name.strip())))
    return cycle


def close_cycle(session: Session, viewer: Viewer, cycle_id: int, now: dt.datetime) -> ReviewCycle:
    """Close a cycle (admins): no new reviews in it; its reviews stay as they are."""
    if not viewer.is_admin:
        raise NotAllowed(M_("only admins close review cycles"))
    cycle = svc.get_cycle(session, viewer, cycle_id)
    if cycle.closed_at is None:
        cycle.closed_at = now
        _audit(session, viewer, "cycle.closed", svc.audit_target(cycle))
    session.flush()
    return cycle


def _audit(session: Session, viewer: Viewer, action: str, target: audit.Target, **details):
    audit.record(session, action, store_id=viewer.store_id, target=target, details=details)


def reopen_cycle(session: Session, viewer: Viewer, cycle_id: int) -> ReviewCycle:
    if not viewer.is_admin:
        raise NotAllowed(M_("only admins reopen review cycles"))
    cycle = svc.get_cycle(session, viewer, cycle_id)
    if cycle.closed_at is not None:
        cycle.closed_at = None
        _audit(session, viewer, "cycle.reopened", svc.audit_target(cycle))
    session.flush()
    return cycle


def team_of(session: Session, viewer: Viewer, manager_id: int) -> list[Person]:
    """The active direct and indirect reports of a manager the viewer may manage."""
    manager = session.get(Person, manager_id)
    if manager is None or manager.store_id != viewer.store_id:
        raise Hidden(M_("no person %(id)s", id=manager_id))
    if not viewer.is_admin and manager_id != viewer.person_id:
        if not can_manage_person(session, viewer, manager_id):
            raise Hidden(M_("no person %(id)s", id=manager_id))
    ids = reports_of(session, viewer.store_id, manager_id)
    if not ids:
        return []
    return list(
        session.scalars(
            select(Person)
            .where(Person.id.in_(ids), Person.deactivated_at.is_(None))
            .order_by(Person.name, Person.id)
        )
    )


def create_team_reviews(
    session: Session,
    viewer: Viewer,
    cycle_id: int,
    manager_id: int,
    template_id: int | None = None,
) -> TeamReviews:
    """The reviews of this cycle for everyone in the manager's team, in one step.

    Reviews that exist are kept; with a template, each review without an objective from it gets
    one. Running it again changes nothing.
    """
    cycle = svc.get_cycle(session, viewer, cycle_id)
    if cycle.closed_at is not None:
        raise BadRequest(at("cycle", M_("%(name)s is closed; open a new cycle", name=cycle.name)))
    template = None
    if template_id is not None:
        template = svc.get_template(session, viewer, template_id)
        if template.retired_at is not None:
            raise BadRequest(at("template", M_("%(title)s is retired", title=template.title)))
    team = team_of(session, viewer, manager_id)
    if not team:
        raise BadRequest(at("manager", M_("this person has no one reporting to them")))
    created = existing = attached = 0
    ids = []
    for person in team:
        review = session.scalar(
            select(Review).where(Review.cycle_id == cycle.id, Review.person_id == person.id)
        )
        if review is None:
            review = svc.create_review(
                session, viewer, {"cycle_id": cycle.id, "person_id": person.id}
            )
            created += 1
        else:
            existing += 1
        ids.append(review.id)
        if template is not None and attach_template(session, viewer, review, template):
            attached += 1
    return TeamReviews(created, existing, attached, ids)


def attach_template(
    session: Session, viewer: Viewer, review: Review, template: ObjectiveTemplate
) -> bool:
    """Attach the template to the review unless it already has an objective made from it."""
    if session.scalar(
        select(Objective.id).where(
            Objective.review_id == review.id, Objective.template_id == template.id
        )
    ):
        return False
    svc.attach_objective(session, viewer, review.id, {"template_id": template.id})
    return True


def list_templates(session: Session, viewer: Viewer, *, retired: bool = False):
    return [t for t in svc.list_templates(session, viewer) if (t.retired_at is not None) == retired]


def managed_template(session: Session, viewer: Viewer, template_id: int) -> ObjectiveTemplate:
    svc.require_manager_role(session, viewer)
    return svc.get_template(session, viewer, template_id)


def update_template(
    session: Session, viewer: Viewer, template_id: int, data: dict
) -> ObjectiveTemplate:
    """Rewrite a template (managers, admins); objectives made from it keep their criteria."""
    template = managed_template(session, viewer, template_id)
    template.title = data["title"]
    template.description = data.get("description", "")
    template.rule = data["rule"]
    template.k = data.get("k")
    template.criteria = svc.criteria_for_storage(data["criteria"])
    session.flush()
    _audit(session, viewer, "template.changed", svc.audit_target(template))
    return template


def retire_template(
    session: Session, viewer: Viewer, template_id: int, now: dt.datetime | None
) -> ObjectiveTemplate:
    """Retire a template (``now``) or bring it back (None); its objectives stay."""
    template = managed_template(session, viewer, template_id)
    if (template.retired_at is None) != (now is None):
        action = "template.retired" if now is not None else "template.restored"
        _audit(session, viewer, action, svc.audit_target(template))
    template.retired_at = now
    session.flush()
    return template


def grant_reviewer(session: Session, viewer: Viewer, review_id: int, person_id: int) -> None:
    """Let a person read this review and write its reviewer comment (the person's managers)."""
    review = svc.get_review(session, viewer, review_id)
    if not can_manage_person(session, viewer, review.person_id):
        raise NotAllowed(M_("only the employee's managers and admins grant reviewers"))
    person = session.get(Person, person_id)
    if person is None or person.store_id != viewer.store_id:
        raise BadRequest(at("reviewer", M_("pick a person of this organisation")))
    if person.id == review.person_id:
        raise BadRequest(at("reviewer", M_("a person does not review themselves")))
    if person.deactivated_at is not None:
        raise BadRequest(at("reviewer", M_("%(name)s is deactivated", name=person.name)))
    if session.get(ReviewGrant, (review.id, person.id)) is None:
        session.add(ReviewGrant(review_id=review.id, person_id=person.id))
        session.flush()
        queue.notify(
            session,
            viewer.store_id,
            "reviewer.granted",
            {"review": review.id, "reviewer": person.id, "by": viewer.person_id},
        )
        _audit(
            session,
            viewer,
            "reviewer.granted",
            svc.audit_target(review),
            reviewer_id=person.id,
            reviewer=person.name,
        )


def revoke_reviewer(session: Session, viewer: Viewer, review_id: int, person_id: int) -> None:
    review = svc.get_review(session, viewer, review_id)
    if not can_manage_person(session, viewer, review.person_id):
        raise NotAllowed(M_("only the employee's managers and admins remove reviewers"))
    grant = session.get(ReviewGrant, (review.id, person_id))
    if grant is not None:
        session.delete(grant)
        session.flush()
        _audit(session, viewer, "reviewer.revoked", svc.audit_target(review), reviewer_id=person_id)
