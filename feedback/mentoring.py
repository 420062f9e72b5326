"""Mentoring: pairs, and sessions logged by one side and confirmed by the other.

A session counts only once the *other* side confirms it: then, in the confirming
transaction, the mentor's ``mentored`` and the mentee's ``attended`` statements go through the
LRS write path, so an objective ("4 mentoring sessions this half") or a badge counts them like
any learning event.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from feedback import statements as st
from feedback.common import bad, colleague, conflict, hidden, names, not_allowed
from feedback.models import MentoringPair, MentoringSession
from lrs import api
from lrs.catalogue import M_
from lrs.people.services import identities
from objectives.accounts import Viewer, can_manage_person

MAX_MINUTES = 24 * 60


def create_pair(session: Session, viewer: Viewer, mentor_id: int, mentee_id: int, now_ms: int):
    """Pair a mentor with a mentee (admins, and managers of either); the same pair once."""
    if mentor_id == mentee_id:
        raise bad("mentee_id", M_("a mentor mentors someone else"))
    colleague(session, viewer.store_id, mentor_id, "mentor_id")
    colleague(session, viewer.store_id, mentee_id, "mentee_id")
    if not (
        viewer.is_admin
        or can_manage_person(session, viewer, mentee_id)
        or can_manage_person(session, viewer, mentor_id)
    ):
        raise not_allowed(M_("only admins and the managers of the mentor or mentee pair them"))
    existing = session.scalar(
        select(MentoringPair).where(
            MentoringPair.store_id == viewer.store_id,
            MentoringPair.mentor_id == mentor_id,
            MentoringPair.mentee_id == mentee_id,
        )
    )
    if existing is not None:
        raise conflict("mentee_id", M_("they are a pair already (pair %(id)s)", id=existing.id))
    pair = MentoringPair(
        store_id=viewer.store_id, mentor_id=mentor_id, mentee_id=mentee_id, created_ms=now_ms
    )
    session.add(pair)
    session.flush()
    return pair


def _sees(session: Session, viewer: Viewer, pair: MentoringPair) -> bool:
    return (
        viewer.is_admin
        or viewer.person_id in (pair.mentor_id, pair.mentee_id)
        or can_manage_person(session, viewer, pair.mentee_id)
        or can_manage_person(session, viewer, pair.mentor_id)
    )


def get_pair(session: Session, viewer: Viewer, pair_id: int) -> MentoringPair:
    pair = session.get(MentoringPair, pair_id)
    if pair is None or pair.store_id != viewer.store_id or not _sees(session, viewer, pair):
        raise hidden("pair_id", M_("no mentoring pair %(id)s", id=pair_id))
    return pair


def list_pairs(session: Session, viewer: Viewer) -> list[MentoringPair]:
    """The viewer's own pairs (every pair of the store for admins)."""
    query = select(MentoringPair).where(MentoringPair.store_id == viewer.store_id)
    if not viewer.is_admin:
        query = query.where(
            or_(
                MentoringPair.mentor_id == viewer.person_id,
                MentoringPair.mentee_id == viewer.person_id,
            )
        )
    return list(session.scalars(query.order_by(MentoringPair.id)))


def log_session(session: Session, viewer: Viewer, pair_id: int, data: dict, now_ms: int):
    """Log a session of a pair the viewer is in; it waits for the other side's confirmation."""
    pair = get_pair(session, viewer, pair_id)
    if viewer.person_id not in (pair.mentor_id, pair.mentee_id):
        raise not_allowed(M_("only the mentor and the mentee log their sessions"))
    minutes = data["minutes"]
    if not 1 <= minutes <= MAX_MINUTES:
        raise bad(
            "minutes",
            M_("must be a whole number from %(min)s to %(max)s", min=1, max=MAX_MINUTES),
        )
    row = MentoringSession(
        store_id=pair.store_id,
        pair_id=pair.id,
        held_on=data["held_on"],
        minutes=minutes,
        topic=data["topic"].strip(),
        logged_by=viewer.person_id,
        logged_ms=now_ms,
    )
    session.add(row)
    session.flush()
    return row


def confirm_session(
    session: Session, viewer: Viewer, session_id: int, base_url: str, now_ms: int
) -> MentoringSession:
    """The other side confirms a session; its two statements go through the write path.

    Raises 404 for a session the viewer cannot see, 403 when the viewer logged it themselves
    or is not in the pair, 409 (path ``session_id``) when it is confirmed already.
    """
    row = session.get(MentoringSession, session_id)
    if row is None or row.store_id != viewer.store_id:
        raise hidden("session_id", M_("no mentoring session %(id)s", id=session_id))
    pair = get_pair(session, viewer, row.pair_id)
    if viewer.person_id not in (pair.mentor_id, pair.mentee_id):
        raise not_allowed(M_("only the mentor and the mentee confirm their sessions"))
    if viewer.person_id == row.logged_by:
        raise not_allowed(M_("the other side of the pair confirms a session, not who logged it"))
    if row.confirmed_ms is not None:
        raise conflict("session_id", M_("this session is confirmed already"))
    mentor = st.preferred_agent(identities(session, pair.store_id, pair.mentor_id))
    mentee = st.preferred_agent(identities(session, pair.store_id, pair.mentee_id))
    if mentor is None or mentee is None:
        raise bad("session_id", M_("both sides need an identity (email or account) to record it"))
    row.confirmed_ms = now_ms
    statements = st.session_statements(
        store_id=pair.store_id,
        session_id=row.id,
        mentor=mentor,
        mentee=mentee,
        topic=row.topic,
        minutes=row.minutes,
        base_url=base_url,
        at_ms=now_ms,
    )
    principal = api.source_principal(pair.store_id, "feedback", base_url.rstrip("/") + "/")
    api.write_statements(session, principal, statements)
    session.flush()
    return row


def sessions_of(session: Session, pair_id: int) -> list[MentoringSession]:
    return list(
        session.scalars(
            select(MentoringSession)
            .where(MentoringSession.pair_id == pair_id)
            .order_by(MentoringSession.held_on.desc(), MentoringSession.id.desc())
        )
    )


def pair_json(session: Session, pair: MentoringPair) -> dict:
    who = names(session, {pair.mentor_id, pair.mentee_id})
    return {
        "id": pair.id,
        "mentor": {"id": pair.mentor_id, "name": who.get(pair.mentor_id, "")},
        "mentee": {"id": pair.mentee_id, "name": who.get(pair.mentee_id, "")},
        "sessions": [session_json(s) for s in sessions_of(session, pair.id)],
    }


def session_json(row: MentoringSession) -> dict:
    return {
        "id": row.id,
        "pair_id": row.pair_id,
        "held_on": row.held_on.isoformat(),
        "minutes": row.minutes,
        "topic": row.topic,
        "logged_by": row.logged_by,
        "confirmed": row.confirmed_ms is not None,
    }
