"""The kinds of notification: who hears of an event, and what they are told.

An event arrives as a ``notify`` job (``lrs.queue.notify``) with ids in its payload. Its
*resolver* reads the rows those ids name, when the worker runs, and returns one ``Notice`` per
person to tell. A kind has a default e-mail mode (``immediately``, ``digest`` or ``off``), a
label for the preferences page, and says whether a team's chat hears of it.

Another floor's event joins with ``register(Kind(...), resolver)`` from a module this package
imports, plus an e-mail template pair ``templates/email/<kind>.txt`` and ``.html``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from feedback.aar import AAR_PUBLISHED
from feedback.health import HEALTH_CHECK_OPENED
from feedback.models import AarParticipant, AfterActionReview, HealthCheck, HealthCheckMember
from lrs.catalogue import N_
from lrs.people.models import Person
from objectives.models import Objective, ReportingLine, Review, ReviewCycle

MODES = ("immediately", "digest", "off")
DIGEST = "digest"


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    default: str = "immediately"
    #: Team-level: told to the chat of the teams that opted in (with a team resolver).
    chat: bool = False


#: The values of a title that are dates (ISO in the data), shown in the reader's format.
DATE_VALUES = ("ends_on", "on", "closes_on")


@dataclass(frozen=True)
class Notice:
    """What one person is told of one event.

    ``message`` is the title's catalogue text with ``%(name)s`` values from ``data``: it is
    kept with the data (``data["_title"]``), so the inbox and the e-mail subject read it in
    the reader's language (``title_in``); ``title`` is the English line, stored as well.
    """

    person_id: int
    kind: str
    message: str
    link: str
    data: dict = field(default_factory=dict)
    dedupe: str | None = None

    @property
    def title(self) -> str:
        return self.message % self.data

    @property
    def stored_data(self) -> dict:
        return {**self.data, "_title": self.message}


def title_in(title: str, data: dict, gettext: Callable[[str], str], date=None) -> str:
    """A notification's one line in the reader's language (``date`` formats ISO dates).

    The English ``title`` stored with it is the fallback: a notice kept before titles were
    messages, or one whose message has lost a value.
    """
    message = data.get("_title")
    if not isinstance(message, str):
        return title
    values = dict(data)
    if date is not None:
        for key in DATE_VALUES:
            if isinstance(values.get(key), str) and values[key]:
                values[key] = date(values[key])
    try:
        return gettext(message) % values
    except (KeyError, TypeError, ValueError):
        return title


@dataclass(frozen=True)
class TeamNews:
    """What a team's chat is told of an event about one of its people."""

    person_id: int
    text: str
    link: str


Resolver = Callable[[Session, int, dict], list[Notice]]
TeamResolver = Callable[[Session, int, dict], TeamNews | None]
KINDS: dict[str, Kind] = {}
RESOLVERS: dict[str, Resolver] = {}
TEAM_RESOLVERS: dict[str, TeamResolver] = {}


def register(kind: Kind, resolver: Resolver, team: TeamResolver | None = None) -> None:
    """Make a kind known: the worker resolves its events, people choose how to hear of it.

    ``team`` says what the chat of the person's teams is told (team-level kinds only).
    """
    KINDS[kind.name] = kind
    RESOLVERS[kind.name] = resolver
    if team is not None:
        TEAM_RESOLVERS[kind.name] = team


def team_news(session: Session, store_id: int, payload: dict) -> TeamNews | None:
    """What the teams' chat hears of this event; None when it is not a team-level event."""
    resolver = TEAM_RESOLVERS.get(payload.get("event", ""))
    return resolver(session, store_id, payload) if resolver else None


def resolve(session: Session, store_id: int, payload: dict) -> list[Notice]:
    """The notices of one event; none when its rows are gone or its kind is unknown."""
    resolver = RESOLVERS.get(payload.get("event", ""))
    return resolver(session, store_id, payload) if resolver else []


def managers_of(session: Session, store_id: int, person_id: int, depth: int = 10) -> list[int]:
    """The person's manager, their manager, and so on up (nearest first)."""
    chain: list[int] = []
    current = person_id
    for _ in range(depth):
        line = session.get(ReportingLine, current)
        if line is None or line.store_id != store_id or line.manager_id in chain:
            break
        chain.append(line.manager_id)
        current = line.manager_id
    return chain


def _name(session: Session, person_id: int | None) -> str:
    person = session.get(Person, person_id) if person_id else None
    return (person.name or person.email or f"person {person.id}") if person else ""


def _review(session: Session, store_id: int, review_id) -> tuple[Review, ReviewCycle] | None:
    review = session.get(Review, int(review_id or 0))
    if review is None or review.store_id != store_id:
        return None
    return review, session.get(ReviewCycle, review.cycle_id)


def _objective(session: Session, store_id: int, payload: dict):
    objective = session.get(Objective, int(payload.get("objective") or 0))
    if objective is None or objective.store_id != store_id:
        return None
    found = _review(session, store_id, objective.review_id)
    return (objective, *found) if found else None


def objective_attached(session: Session, store_id: int, payload: dict) -> list[Notice]:
    found = _objective(session, store_id, payload)
    if found is None:
        return []
    objective, review, cycle = found
    by = _name(session, payload.get("by"))
    data = {"objective": objective.title, "cycle": cycle.name, "by": by}
    title = N_("New objective on your %(cycle)s review: %(objective)s")
    return [Notice(review.person_id, "objective.attached", title, f"/reviews/{review.id}", data)]


def objective_met(session: Session, store_id: int, payload: dict) -> list[Notice]:
    found = _objective(session, store_id, payload)
    if found is None:
        return []
    objective, review, cycle = found
    learner = _name(session, review.person_id)
    met_on = objective.satisfied_at.date().isoformat() if objective.satisfied_at else ""
    data = {"objective": objective.title, "cycle": cycle.name, "learner": learner, "on": met_on}
    link = f"/reviews/{review.id}"
    dedupe = f"objective.met:{objective.id}"
    notices = [
        Notice(
            review.person_id,
            "objective.met",
            N_("You met %(objective)s"),
            link,
            {**data, "yours": True},
            dedupe,
        )
    ]
    for manager_id in managers_of(session, store_id, review.person_id)[:1]:
        notices.append(
            Notice(
                manager_id,
                "objective.met",
                N_("%(learner)s met %(objective)s"),
                link,
                {**data, "yours": False},
                dedupe,
            )
        )
    return notices


def objective_met_news(session: Session, store_id: int, payload: dict) -> TeamNews | None:
    found = _objective(session, store_id, payload)
    if found is None:
        return None
    objective, review, _ = found
    learner = _name(session, review.person_id)
    return TeamNews(review.person_id, f"{learner} met {objective.title}", f"/reviews/{review.id}")


def review_opened(session: Session, store_id: int, payload: dict) -> list[Notice]:
    found = _review(session, store_id, payload.get("review"))
    if found is None:
        return []
    review, cycle = found
    data = {
        "cycle": cycle.name,
        "by": _name(session, payload.get("by")),
        "ends_on": cycle.ends_on.isoformat(),
    }
    return [
        Notice(
            review.person_id,
            "review.opened",
            N_("Your %(cycle)s review is open"),
            f"/reviews/{review.id}",
            data,
            f"review.opened:{review.id}",
        )
    ]


def review_submitted(session: Session, store_id: int, payload: dict) -> list[Notice]:
    found = _review(session, store_id, payload.get("review"))
    if found is None:
        return []
    review, cycle = found
    data = {"cycle": cycle.name, "by": _name(session, payload.get("by"))}
    return [
        Notice(
            review.person_id,
            "review.submitted",
            N_("Your %(cycle)s review was submitted"),
            f"/reviews/{review.id}",
            data,
            f"review.submitted:{review.id}",
        )
    ]


def reviewer_granted(session: Session, store_id: int, payload: dict) -> list[Notice]:
    found = _review(session, store_id, payload.get("review"))
    reviewer = session.get(Person, int(payload.get("reviewer") or 0))
    if found is None or reviewer is None or reviewer.store_id != store_id:
        return []
    review, cycle = found
    learner = _name(session, review.person_id)
    data = {"cycle": cycle.name, "learner": learner, "by": _name(session, payload.get("by"))}
    return [
        Notice(
            reviewer.id,
            "reviewer.granted",
            N_("You are a reviewer of %(learner)s's %(cycle)s review"),
            f"/reviews/{review.id}",
            data,
            f"reviewer.granted:{review.id}",
        )
    ]


def review_due(session: Session, store_id: int, payload: dict) -> list[Notice]:
    """The learner and their manager, once per review and cycle end (the daily scan's event)."""
    found = _review(session, store_id, payload.get("review"))
    if found is None:
        return []
    review, cycle = found
    if review.status in ("submitted", "closed") or cycle.closed_at is not None:
        return []
    learner = _name(session, review.person_id)
    ends_on = cycle.ends_on.isoformat()
    data = {"cycle": cycle.name, "learner": learner, "ends_on": ends_on}
    link, dedupe = f"/reviews/{review.id}", f"review.due:{review.id}:{ends_on}"
    notices = [
        Notice(
            review.person_id,
            "review.due",
            N_("Your %(cycle)s review is due on %(ends_on)s"),
            link,
            {**data, "yours": True},
            dedupe,
        )
    ]
    for manager_id in managers_of(session, store_id, review.person_id)[:1]:
        notices.append(
            Notice(
                manager_id,
                "review.due",
                N_("%(learner)s's %(cycle)s review is due on %(ends_on)s"),
                link,
                {**data, "yours": False},
                dedupe,
            )
        )
    return notices


def reviews_due(session: Session, store_id: int, today: dt.date, days: int) -> list[int]:
    """Reviews not yet submitted of open cycles whose last day is within ``days`` of today."""
    return list(
        session.scalars(
            select(Review.id)
            .join(ReviewCycle, ReviewCycle.id == Review.cycle_id)
            .where(
                Review.store_id == store_id,
                ReviewCycle.closed_at.is_(None),
                ReviewCycle.ends_on >= today,
                ReviewCycle.ends_on <= today + dt.timedelta(days=days),
                Review.status.not_in(("submitted", "closed")),
            )
            .order_by(Review.id)
        )
    )


def health_check_opened(session: Session, store_id: int, payload: dict) -> list[Notice]:
    """Each member of the check but whoever opened it and whoever answered already."""
    check = session.get(HealthCheck, int(payload.get("check") or 0))
    if check is None or check.store_id != store_id or check.closed_ms is not None:
        return []
    waiting = session.scalars(
        select(HealthCheckMember.person_id).where(
            HealthCheckMember.check_id == check.id, HealthCheckMember.answered.is_(False)
        )
    )
    data = {
        "title": check.title,
        "by": _name(session, payload.get("by")),
        "closes_on": check.closes_on.isoformat(),
    }
    return [
        Notice(
            person_id,
            HEALTH_CHECK_OPENED,
            N_("Health check awaiting you: %(title)s"),
            f"/health-checks/{check.id}",
            data,
            f"{HEALTH_CHECK_OPENED}:{check.id}",
        )
        for person_id in waiting
        if person_id != payload.get("by")
    ]


def aar_published(session: Session, store_id: int, payload: dict) -> list[Notice]:
    """Each participant the review names, but its author."""
    aar = session.get(AfterActionReview, int(payload.get("aar") or 0))
    if aar is None or aar.store_id != store_id:
        return []
    named = session.scalars(select(AarParticipant.person_id).where(AarParticipant.aar_id == aar.id))
    data = {"title": aar.title, "by": _name(session, aar.author_id)}
    return [
        Notice(
            person_id,
            AAR_PUBLISHED,
            N_("After-action review awaiting you: %(title)s"),
            f"/after-action-reviews/{aar.id}",
            data,
            f"{AAR_PUBLISHED}:{aar.id}",
        )
        for person_id in named
        if person_id != aar.author_id
    ]


register(
    Kind("objective.attached", N_("An objective is attached to your review")), objective_attached
)
register(
    Kind("objective.met", N_("An objective is met (yours, or your team's)"), chat=True),
    objective_met,
    team=objective_met_news,
)
register(Kind("review.opened", N_("Your review is open")), review_opened)
register(Kind("review.due", N_("A review is due soon (yours, or your team's)")), review_due)
register(Kind("review.submitted", N_("Your review is submitted")), review_submitted)
register(Kind("reviewer.granted", N_("You are asked to review someone")), reviewer_granted)
register(Kind(HEALTH_CHECK_OPENED, N_("A health check awaits your answer")), health_check_opened)
register(Kind(AAR_PUBLISHED, N_("An after-action review names you")), aar_published)
#: The weekly digest itself: on (``digest``) or ``off``.
register(Kind(DIGEST, N_("The weekly digest"), default=DIGEST), lambda *_: [])
