"""Leaderboards of contributions to others' learning, opt-in, per team and organisation.

Contributions are counted by the objectives' engine over ``learning_facts``
(``objectives.progress.criterion_filter``), each as a criterion: reviews given, kudos received,
sessions mentored, talks given, knowledge-base articles written. Only people who opted in
(``LeaderboardOptIn``; nobody by default) are ever ranked: the others are left out of the query
itself, not filtered from its answer. Managers (and admins) also get their team's totals, which
count everyone without naming anyone. Nothing in ``objectives`` reads leaderboards.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lrs import vocabulary as v
from lrs.catalogue import M_, at
from lrs.people.models import Person
from lrs.people.services import identities
from lrs.sql import run
from objectives import progress as pg
from objectives.accounts import Viewer, reports_of
from objectives.criteria import Criterion
from objectives.errors import Hidden
from objectives.models import ReportingLine
from recognition.models import LeaderboardOptIn
from recognition.periods import period_of, start_ms

#: What counts as contributing to others' learning: (key, words, criterion).
CONTRIBUTIONS = (
    ("reviews_given", "reviews given", Criterion(verbs=(v.REVIEWED,), source="code_review")),
    ("kudos_received", "kudos received", Criterion(verbs=(v.RECEIVED,), activity_type=v.KUDOS)),
    ("sessions_mentored", "sessions mentored", Criterion(verbs=(v.MENTORED,))),
    ("talks_given", "talks given", Criterion(verbs=(v.PRESENTED,))),
    (
        "articles_written",
        "knowledge-base articles",
        Criterion(verbs=(v.AUTHORED,), activity_type=v.ARTICLE),
    ),
)
SCOPES = ("organisation", "team")
LIMIT = 50


def opted_in(session: Session, person_id: int) -> bool:
    return session.get(LeaderboardOptIn, person_id) is not None


def set_opt_in(session: Session, store_id: int, person_id: int, choice: bool, now_ms: int) -> None:
    """The person's own choice to appear on leaderboards (or not)."""
    row = session.get(LeaderboardOptIn, person_id)
    if choice and row is None:
        session.add(LeaderboardOptIn(person_id=person_id, store_id=store_id, opted_in_ms=now_ms))
    elif not choice and row is not None:
        session.delete(row)
    session.flush()


def _counts(
    session: Session, store_id: int, people: list[int], window: tuple[int, int]
) -> dict[int, dict[str, int]]:
    """Each person's count per contribution in the window (one query per contribution)."""
    owner: dict[int, int] = {}
    for person_id in people:
        for key in pg.actor_keys(identities(session, store_id, person_id)):
            owner[key] = person_id
    counts: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(_keys(), 0))
    if not owner:
        return counts
    for name, _, criterion in CONTRIBUTIONS:
        body, params = pg.criterion_filter(store_id, list(owner), criterion, window)
        rows = run(
            session,
            f"SELECT f.actor_key, COUNT(DISTINCT f.fingerprint) {body} GROUP BY f.actor_key",
            params,
        ).all()
        for actor_key, count in rows:
            counts[owner[actor_key]][name] += count
    return counts


def _keys() -> list[str]:
    return [name for name, _, _ in CONTRIBUTIONS]


def team_of(session: Session, viewer: Viewer, manager_id: int | None) -> tuple[int, set[int]]:
    """The team a viewer asks for: a manager and everyone under them.

    Without ``manager_id``: the viewer's own team if they manage one, else their manager's.
    A learner may ask only for a team they belong to; a manager for theirs and those under it.
    """
    if manager_id is None:
        if viewer.person_id is None:
            raise Hidden(at("team", M_("an account without a person has no team; pass manager_id")))
        if reports_of(session, viewer.store_id, viewer.person_id):
            manager_id = viewer.person_id
        else:
            line = session.get(ReportingLine, viewer.person_id)
            if line is None:
                raise Hidden(at("team", M_("you have no manager; pass manager_id")))
            manager_id = line.manager_id
    manager = session.get(Person, manager_id)
    if manager is None or manager.store_id != viewer.store_id:
        raise Hidden(M_("no team of person %(id)s", id=manager_id))
    members = reports_of(session, viewer.store_id, manager_id) | {manager_id}
    allowed = viewer.is_admin or viewer.person_id in members
    if not allowed and viewer.person_id is not None:
        allowed = manager_id in reports_of(session, viewer.store_id, viewer.person_id)
    if not allowed:
        raise Hidden(M_("no team of person %(id)s visible to this account", id=manager_id))
    return manager_id, members


def manages(session: Session, viewer: Viewer, manager_id: int) -> bool:
    """Whether the viewer may see the team's totals: its manager, those above, admins."""
    if viewer.is_admin or viewer.person_id == manager_id:
        return True
    return viewer.person_id is not None and manager_id in reports_of(
        session, viewer.store_id, viewer.person_id
    )


@dataclass
class Board:
    scope: str
    period: str
    starts_on: dt.date
    ends_on: dt.date  # exclusive
    entries: list[dict]
    manager_id: int | None = None
    totals: dict[str, int] | None = None
    viewer_opted_in: bool = False


def leaderboard(
    session: Session,
    viewer: Viewer,
    scope: str,
    period: str,
    day: dt.date,
    manager_id: int | None = None,
) -> Board:
    """The ranking of opted-in people in ``scope`` for the period containing ``day``."""
    start, end = period_of(day, period)
    window = (start_ms(start), start_ms(end))
    members: set[int] | None = None
    if scope == "team":
        manager_id, members = team_of(session, viewer, manager_id)
    query = select(LeaderboardOptIn.person_id).where(LeaderboardOptIn.store_id == viewer.store_id)
    if members is not None:
        query = query.where(LeaderboardOptIn.person_id.in_(members))
    ranked = [
        p.id
        for p in session.scalars(
            select(Person).where(
                Person.id.in_(query),
                Person.store_id == viewer.store_id,
                Person.deactivated_at.is_(None),
            )
        )
    ]
    counts = _counts(session, viewer.store_id, ranked, window)
    names = dict(session.execute(select(Person.id, Person.name).where(Person.id.in_(ranked))).all())
    rows = [
        {
            "person_id": pid,
            "name": names.get(pid, ""),
            "score": sum(counts[pid].values()),
            "contributions": dict(counts[pid]),
        }
        for pid in ranked
    ]
    rows.sort(key=lambda r: (-r["score"], r["name"], r["person_id"]))
    rank, previous = 0, None
    for position, row in enumerate(rows[:LIMIT], start=1):
        if row["score"] != previous:
            rank, previous = position, row["score"]
        row["rank"] = rank
    board = Board(scope, period, start, end, rows[:LIMIT], manager_id)
    board.viewer_opted_in = viewer.person_id is not None and opted_in(session, viewer.person_id)
    if members is not None and manager_id is not None and manages(session, viewer, manager_id):
        everyone = _counts(session, viewer.store_id, sorted(members), window)
        board.totals = {name: sum(c[name] for c in everyone.values()) for name in _keys()}
    return board


def contribution_names() -> list[dict]:
    return [{"key": name, "name": words} for name, words, _ in CONTRIBUTIONS]
