"""Feedback's parts of a person's archive (GDPR art. 15 and 20, ``directory.governance``).

The after-action reviews they wrote and the actions they own, and their mentoring: pairs and
sessions (the other side by id). Health-check answers are anonymous by design: no row ties an
answer to a person, so there is none to give.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from directory.governance.archive import register_part
from feedback.models import AarAction, AfterActionReview, MentoringPair, MentoringSession
from lrs.catalogue import N_


def after_action_reviews(session: Session, store_id: int, person_id: int) -> list[dict]:
    written = session.scalars(
        select(AfterActionReview)
        .where(AfterActionReview.store_id == store_id, AfterActionReview.author_id == person_id)
        .order_by(AfterActionReview.id)
    )
    return [
        {
            "id": a.id,
            "title": a.title,
            "occurred_on": a.occurred_on,
            "expected": a.expected,
            "happened": a.happened,
            "went_well": a.went_well,
            "went_badly": a.went_badly,
            "to_fix": a.to_fix,
            "published_ms": a.published_ms,
        }
        for a in written
    ]


def actions(session: Session, store_id: int, person_id: int) -> list[dict]:
    owned = session.scalars(
        select(AarAction)
        .where(AarAction.store_id == store_id, AarAction.owner_id == person_id)
        .order_by(AarAction.id)
    )
    return [{"review_id": a.aar_id, "text": a.text, "due_on": a.due_on} for a in owned]


def mentoring(session: Session, store_id: int, person_id: int) -> list[dict]:
    pairs = session.scalars(
        select(MentoringPair)
        .where(
            MentoringPair.store_id == store_id,
            or_(MentoringPair.mentor_id == person_id, MentoringPair.mentee_id == person_id),
        )
        .order_by(MentoringPair.id)
    ).all()
    sessions: dict[int, list[dict]] = {pair.id: [] for pair in pairs}
    if pairs:
        for s in session.scalars(
            select(MentoringSession)
            .where(MentoringSession.pair_id.in_(list(sessions)))
            .order_by(MentoringSession.id)
        ):
            sessions[s.pair_id].append(
                {
                    "held_on": s.held_on,
                    "minutes": s.minutes,
                    "topic": s.topic,
                    "logged_by_them": s.logged_by == person_id,
                    "confirmed_ms": s.confirmed_ms,
                }
            )
    return [
        {
            "role": "mentor" if pair.mentor_id == person_id else "mentee",
            "mentor_id": pair.mentor_id,
            "mentee_id": pair.mentee_id,
            "sessions": sessions[pair.id],
        }
        for pair in pairs
    ]


register_part("after_action_reviews", after_action_reviews, N_("after-action reviews they wrote"))
register_part("aar_actions", actions, N_("actions of after-action reviews they own"))
register_part("mentoring", mentoring, N_("mentoring pairs, with their sessions"))
