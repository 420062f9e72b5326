"""The weekly digest: for managers, their team's week; for learners, their own objectives.

A ``digest`` job per store runs at ``LEARNLOOP_SMTP_DIGEST_DAY``/``_TIME`` (UTC) and leaves the
next one a week later (``notifications.tasks``). It picks the people with something to read
(``recipients``), takes the notifications they hold for the digest (``take_held``) and leaves
one e-mail job each; each e-mail is built (``build``) when the worker sends it.

A manager reads the objectives their people met this week, each person's objectives met of
those set in open cycles, and the reviews not submitted that are due within
``LEARNLOOP_SMTP_DUE_DAYS`` (or overdue); a learner
reads their objectives (met or open), what they met this week and how many learning events
were counted; both read the notifications they chose to have in the digest.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from lrs.catalogue import M_
from lrs.people.models import Person
from lrs.people.services import identities
from notifications.models import Notification, Preference
from objectives.accounts import reports_of
from objectives.models import Objective, ReportingLine, Review, ReviewCycle
from objectives.services import events_since

IN_LIST = 500


@dataclass(frozen=True)
class Line:
    """One line of a digest: what, about whom, when, and the page it links to."""

    text: str
    link: str
    who: str = ""
    on: str = ""
    #: A held notification's data: its title is read in the recipient's language from it.
    data: dict | None = None


@dataclass
class Digest:
    period: str
    #: The week's first and last day, for a letter that writes the period in its language.
    since: dt.date | None = None
    until: dt.date | None = None
    team_met: list[Line] = field(default_factory=list)
    team_progress: list[Line] = field(default_factory=list)
    reviews_due: list[Line] = field(default_factory=list)
    own_met: list[Line] = field(default_factory=list)
    own_open: list[Line] = field(default_factory=list)
    events: int = 0
    held: list[Line] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (
            self.team_met
            or self.team_progress
            or self.reviews_due
            or self.own_met
            or self.own_open
            or self.held
        )


def _date(ms: int) -> dt.date:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).date()


def period_text(since_ms: int, until_ms: int) -> str:
    """``24 Nov – 1 Dec 2026``: the week a digest covers."""
    start, end = _date(since_ms), _date(until_ms)
    return f"{start.day} {start:%b} – {end.day} {end:%b %Y}"


def recipients(session: Session, store_id: int) -> list[int]:
    """The people who get a digest.

    Active, with an e-mail address, managing someone, having a review in an open cycle or
    holding notifications for the digest, and not having turned the digest off.
    """
    managers = select(ReportingLine.manager_id).where(ReportingLine.store_id == store_id)
    reviewed = (
        select(Review.person_id)
        .join(ReviewCycle, ReviewCycle.id == Review.cycle_id)
        .where(Review.store_id == store_id, ReviewCycle.closed_at.is_(None))
    )
    holding = select(Notification.person_id).where(
        Notification.store_id == store_id,
        Notification.held.is_(True),
        Notification.digested_ms.is_(None),
    )
    off = select(Preference.person_id).where(
        Preference.store_id == store_id, Preference.kind == "digest", Preference.mode == "off"
    )
    return list(
        session.scalars(
            select(Person.id)
            .where(
                Person.store_id == store_id,
                Person.deactivated_at.is_(None),
                Person.email.is_not(None),
                Person.email != "",
                or_(Person.id.in_(managers), Person.id.in_(reviewed), Person.id.in_(holding)),
                Person.id.not_in(off),
            )
            .order_by(Person.id)
        )
    )


def take_held(session: Session, store_id: int, until_ms: int) -> None:
    """Give every notification held for the digest to this run (marked with its time)."""
    session.execute(
        update(Notification)
        .where(
            Notification.store_id == store_id,
            Notification.held.is_(True),
            Notification.digested_ms.is_(None),
            Notification.created_ms < until_ms,
        )
        .values(digested_ms=until_ms)
    )


def _open_objectives(session: Session, store_id: int, person_ids: list[int]):
    rows = []
    for i in range(0, len(person_ids), IN_LIST):
        rows.extend(
            session.execute(
                select(Objective, Review, ReviewCycle.name)
                .join(Review, Review.id == Objective.review_id)
                .join(ReviewCycle, ReviewCycle.id == Review.cycle_id)
                .where(
                    Objective.store_id == store_id,
                    Review.person_id.in_(person_ids[i : i + IN_LIST]),
                    ReviewCycle.closed_at.is_(None),
                )
                .order_by(Review.person_id, Objective.id)
            ).all()
        )
    return rows


def _met_in(objective: Objective, since: dt.datetime, until: dt.datetime) -> bool:
    at = objective.satisfied_at
    if at is None:
        return False
    at = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
    return since <= at < until


def build(
    session: Session,
    store_id: int,
    person_id: int,
    since_ms: int,
    until_ms: int,
    due_days: int,
) -> Digest:
    """One person's digest of the week ``[since_ms, until_ms)``."""
    digest = Digest(period_text(since_ms, until_ms), _date(since_ms), _date(until_ms))
    since = dt.datetime.fromtimestamp(since_ms / 1000, dt.UTC)
    until = dt.datetime.fromtimestamp(until_ms / 1000, dt.UTC)
    today = until.date()
    team = sorted(reports_of(session, store_id, person_id))
    names = (
        dict(
            session.execute(
                select(Person.id, Person.name).where(Person.id.in_([person_id, *team]))
            ).all()
        )
        if team
        else {}
    )
    for objective, review, cycle_name in _open_objectives(session, store_id, [person_id]):
        link = f"/reviews/{review.id}"
        if _met_in(objective, since, until):
            digest.own_met.append(
                Line(objective.title, link, on=objective.satisfied_at.date().isoformat())
            )
        elif objective.satisfied_at is None:
            digest.own_open.append(Line(objective.title, link, on=cycle_name))
    if digest.own_met or digest.own_open:
        digest.events = events_since(
            session, store_id, identities(session, store_id, person_id), since_ms
        )
    if team:
        progress: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        reviews: dict[int, tuple[int, str]] = {}
        for objective, review, _ in _open_objectives(session, store_id, team):
            who = names.get(review.person_id, "")
            counts = progress[review.person_id]
            counts[1] += 1
            reviews[review.person_id] = (review.id, who)
            if objective.satisfied_at is not None:
                counts[0] += 1
                if _met_in(objective, since, until):
                    digest.team_met.append(
                        Line(
                            objective.title,
                            f"/reviews/{review.id}",
                            who,
                            objective.satisfied_at.date().isoformat(),
                        )
                    )
        for member, (met, total) in sorted(progress.items(), key=lambda p: names.get(p[0], "")):
            review_id, who = reviews[member]
            digest.team_progress.append(
                Line(
                    M_("%(met)s of %(total)s objectives met", met=met, total=total),
                    f"/reviews/{review_id}",
                    who,
                )
            )
        for i in range(0, len(team), IN_LIST):
            for review, cycle in session.execute(
                select(Review, ReviewCycle)
                .join(ReviewCycle, ReviewCycle.id == Review.cycle_id)
                .where(
                    Review.person_id.in_(team[i : i + IN_LIST]),
                    ReviewCycle.closed_at.is_(None),
                    ReviewCycle.ends_on <= today + dt.timedelta(days=due_days),
                    Review.status.not_in(("submitted", "closed")),
                )
            ).all():
                digest.reviews_due.append(
                    Line(
                        cycle.name,
                        f"/reviews/{review.id}",
                        names.get(review.person_id, ""),
                        cycle.ends_on.isoformat(),
                    )
                )
    for row in session.scalars(
        select(Notification)
        .where(
            Notification.store_id == store_id,
            Notification.person_id == person_id,
            Notification.held.is_(True),
            Notification.digested_ms == until_ms,
        )
        .order_by(Notification.id)
    ):
        on = _date(row.created_ms).isoformat()
        digest.held.append(Line(row.title, row.link, on=on, data=json.loads(row.data)))
    return digest
