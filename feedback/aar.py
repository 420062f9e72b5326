"""Blameless after-action reviews: published to the whole store, searchable, statements.

Writing one is an ``authored`` statement of its author and taking part an ``attended``
statement of each participant, through the LRS write path (``lrs.api.write_statements``) in
the transaction that publishes it, so objectives and badges can count them. An action becomes
a learning objective on its owner's review in one step, through the objectives' own
``attach_objective`` (the manager's rights, audit, and re-evaluation come with it). A later
review cites earlier lessons; a lesson's page shows where it was reused.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from feedback import statements as st
from feedback.common import bad, colleague, conflict, hidden, names
from feedback.models import (
    AarAction,
    AarCitation,
    AarLesson,
    AarLink,
    AarParticipant,
    AfterActionReview,
)
from lrs import api, queue
from lrs import vocabulary as v
from lrs.catalogue import M_
from lrs.people.services import identities
from objectives import services as objective_services
from objectives.accounts import Viewer
from objectives.models import Review, ReviewCycle

TEXTS = ("expected", "happened", "went_well", "went_badly", "to_fix")
#: The notification each participant other than the author gets (``notifications.kinds``).
AAR_PUBLISHED = "aar.published"


def publish(session: Session, viewer: Viewer, data: dict, base_url: str, now_ms: int):
    """Publish a review written by the viewer; its statements go through the write path.

    ``data`` (``schemas.feedback.AfterActionReviewSchema``): title, occurred_on, the five
    texts, participant_ids, links [{url, label}], actions [{text, owner_id, due_on}],
    lessons [text], cites [lesson ids of earlier reviews]. Raises 404 naming the path of an
    unknown participant, owner or lesson; 400 for an account that is not a person.
    """
    if viewer.person_id is None:
        raise bad("author", M_("this account is not a person of the organisation"))
    for i, person_id in enumerate(data.get("participant_ids", [])):
        colleague(session, viewer.store_id, person_id, f"participant_ids[{i}]")
    participants = list(dict.fromkeys([viewer.person_id, *data.get("participant_ids", [])]))
    for i, action in enumerate(data.get("actions", [])):
        colleague(session, viewer.store_id, action["owner_id"], f"actions[{i}].owner_id")
    cited = []
    for i, lesson_id in enumerate(dict.fromkeys(data.get("cites", []))):
        lesson = session.get(AarLesson, lesson_id)
        if lesson is None or lesson.store_id != viewer.store_id:
            raise hidden(f"cites[{i}]", M_("no lesson %(id)s", id=lesson_id))
        cited.append(lesson.id)
    aar = AfterActionReview(
        store_id=viewer.store_id,
        title=data["title"].strip(),
        occurred_on=data["occurred_on"],
        author_id=viewer.person_id,
        published_ms=now_ms,
        **{name: data.get(name, "").strip() for name in TEXTS},
    )
    session.add(aar)
    session.flush()
    for person_id in participants:
        session.add(AarParticipant(aar_id=aar.id, person_id=person_id))
    for link in data.get("links", []):
        session.add(AarLink(aar_id=aar.id, url=link["url"], label=link.get("label", "")))
    for action in data.get("actions", []):
        session.add(
            AarAction(
                store_id=viewer.store_id,
                aar_id=aar.id,
                text=action["text"].strip(),
                owner_id=action["owner_id"],
                due_on=action.get("due_on"),
            )
        )
    for text in data.get("lessons", []):
        if text.strip():
            session.add(AarLesson(store_id=viewer.store_id, aar_id=aar.id, text=text.strip()))
    for lesson_id in cited:
        session.add(AarCitation(aar_id=aar.id, lesson_id=lesson_id))
    session.flush()
    statements = []
    for person_id in participants:
        agent = st.preferred_agent(identities(session, viewer.store_id, person_id))
        if agent is None:
            continue  # a person without an identity has nothing to record learning with
        verbs = [v.AUTHORED, v.ATTENDED] if person_id == viewer.person_id else [v.ATTENDED]
        for verb in verbs:
            statements.append(
                st.aar_statement(
                    store_id=viewer.store_id,
                    aar_id=aar.id,
                    actor=agent,
                    verb=verb,
                    title=aar.title,
                    base_url=base_url,
                    at_ms=now_ms,
                )
            )
    if statements:
        principal = api.source_principal(viewer.store_id, "feedback", base_url.rstrip("/") + "/")
        api.write_statements(session, principal, statements)
    if len(participants) > 1:  # the others it names hear of it (inbox, e-mail) from the worker
        payload = {"aar": aar.id, "by": viewer.person_id}
        queue.notify(session, viewer.store_id, AAR_PUBLISHED, payload, now_ms)
    session.flush()
    return aar


def get(session: Session, viewer: Viewer, aar_id: int) -> AfterActionReview:
    """Any review of the viewer's store (they are published to everyone); 404 otherwise."""
    aar = session.get(AfterActionReview, aar_id)
    if aar is None or aar.store_id != viewer.store_id:
        raise hidden("aar_id", M_("no after-action review %(id)s", id=aar_id))
    return aar


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(session: Session, viewer: Viewer, text: str, limit: int = 50) -> list[AfterActionReview]:
    """The store's reviews whose title, texts or lessons contain ``text``; newest first."""
    query = select(AfterActionReview).where(AfterActionReview.store_id == viewer.store_id)
    words = text.strip()
    if words:
        pattern = _like(words)
        lessons = select(AarLesson.aar_id).where(
            AarLesson.store_id == viewer.store_id, AarLesson.text.ilike(pattern, escape="\\")
        )
        columns = [AfterActionReview.title, *(getattr(AfterActionReview, t) for t in TEXTS)]
        query = query.where(
            or_(
                *(c.ilike(pattern, escape="\\") for c in columns), AfterActionReview.id.in_(lessons)
            )
        )
    return list(
        session.scalars(
            query.order_by(AfterActionReview.occurred_on.desc(), AfterActionReview.id.desc()).limit(
                limit
            )
        )
    )


def lessons_matching(session: Session, viewer: Viewer, text: str, limit: int = 20) -> list:
    """Earlier lessons whose words contain ``text``, to cite in a new review."""
    query = select(AarLesson).where(AarLesson.store_id == viewer.store_id)
    if text.strip():
        query = query.where(AarLesson.text.ilike(_like(text.strip()), escape="\\"))
    return list(session.scalars(query.order_by(AarLesson.id.desc()).limit(limit)))


def described(session: Session, aar: AfterActionReview) -> dict:
    """The review as pages and /api show it, with where each of its lessons was reused."""
    participants = list(
        session.scalars(select(AarParticipant.person_id).where(AarParticipant.aar_id == aar.id))
    )
    actions = list(
        session.scalars(select(AarAction).where(AarAction.aar_id == aar.id).order_by(AarAction.id))
    )
    lessons = list(
        session.scalars(select(AarLesson).where(AarLesson.aar_id == aar.id).order_by(AarLesson.id))
    )
    links = list(
        session.scalars(select(AarLink).where(AarLink.aar_id == aar.id).order_by(AarLink.id))
    )
    reused: dict[int, list[dict]] = {}
    if lessons:
        for lesson_id, later_id, later_title in session.execute(
            select(AarCitation.lesson_id, AfterActionReview.id, AfterActionReview.title)
            .join(AfterActionReview, AfterActionReview.id == AarCitation.aar_id)
            .where(AarCitation.lesson_id.in_([lesson.id for lesson in lessons]))
            .order_by(AfterActionReview.id)
        ):
            reused.setdefault(lesson_id, []).append({"id": later_id, "title": later_title})
    cites = [
        {"lesson_id": lesson.id, "text": lesson.text, "aar_id": lesson.aar_id, "aar_title": title}
        for lesson, title in session.execute(
            select(AarLesson, AfterActionReview.title)
            .join(AarCitation, AarCitation.lesson_id == AarLesson.id)
            .join(AfterActionReview, AfterActionReview.id == AarLesson.aar_id)
            .where(AarCitation.aar_id == aar.id)
            .order_by(AarLesson.id)
        )
    ]
    who = names(session, {aar.author_id, *participants, *(a.owner_id for a in actions)})
    return {
        "id": aar.id,
        "title": aar.title,
        "occurred_on": aar.occurred_on.isoformat(),
        "author": {"id": aar.author_id, "name": who.get(aar.author_id, "")},
        **{name: getattr(aar, name) for name in TEXTS},
        "participants": [{"id": p, "name": who.get(p, "")} for p in participants],
        "links": [{"url": link.url, "label": link.label} for link in links],
        "actions": [
            {
                "id": a.id,
                "text": a.text,
                "owner": {"id": a.owner_id, "name": who.get(a.owner_id, "")},
                "due_on": a.due_on.isoformat() if a.due_on else None,
                "objective_id": a.objective_id,
            }
            for a in actions
        ],
        "lessons": [
            {"id": lesson.id, "text": lesson.text, "reused_in": reused.get(lesson.id, [])}
            for lesson in lessons
        ],
        "cites": cites,
        "published_at": dt.datetime.fromtimestamp(aar.published_ms / 1000, dt.UTC)
        .isoformat(timespec="seconds")
        .replace("+00:00", "Z"),
    }


def _review_of_owner(session: Session, viewer: Viewer, owner_id: int, today: dt.date) -> int:
    """The owner's review in the open cycle that runs today (the latest if several)."""
    review_id = session.scalar(
        select(Review.id)
        .join(ReviewCycle, ReviewCycle.id == Review.cycle_id)
        .where(
            Review.store_id == viewer.store_id,
            Review.person_id == owner_id,
            ReviewCycle.closed_at.is_(None),
            ReviewCycle.starts_on <= today,
            ReviewCycle.ends_on >= today,
        )
        .order_by(ReviewCycle.starts_on.desc(), Review.id.desc())
        .limit(1)
    )
    if review_id is None:
        raise bad("review_id", M_("the action's owner has no review in a cycle that runs today"))
    return review_id


def action_to_objective(
    session: Session, viewer: Viewer, aar_id: int, action_id: int, data: dict, today: dt.date
):
    """Make an action a learning objective on its owner's review, in one step.

    ``data``: optional ``review_id`` (default: the owner's review in today's open cycle), and
    either ``template_id`` or ``criteria`` (+ ``rule``, ``k``) as an objective takes; title
    and description come from the action and its review. Rights are the objectives' own
    (the owner's managers and admins; 403 otherwise). 409 (path ``action_id``) if the action
    already became an objective.
    """
    aar = get(session, viewer, aar_id)
    action = session.get(AarAction, action_id)
    if action is None or action.aar_id != aar.id:
        raise hidden("action_id", M_("no action %(id)s in this review", id=action_id))
    if action.objective_id is not None:
        raise conflict(
            "action_id",
            M_("this action is already objective %(id)s", id=action.objective_id),
        )
    review_id = data.get("review_id") or _review_of_owner(session, viewer, action.owner_id, today)
    review = objective_services.get_review(session, viewer, review_id)
    if review.person_id != action.owner_id:
        raise bad("review_id", M_("the review must be the action owner's"))
    fields: dict
    if data.get("template_id"):
        fields = {"template_id": data["template_id"]}
    else:
        fields = {
            "title": action.text[:300],
            "description": f"An action of the after-action review “{aar.title}” "
            f"({aar.occurred_on.isoformat()}).",
            "rule": data.get("rule", "all"),
            "k": data.get("k"),
            "criteria": data["criteria"],
        }
    fields["due_on"] = data.get("due_on") or action.due_on
    objective = objective_services.attach_objective(session, viewer, review.id, fields)
    action.objective_id = objective.id
    session.flush()
    return objective
