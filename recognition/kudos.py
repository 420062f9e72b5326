"""Kudos: allowances, gifts and wallets. Callers own the transaction (``write_transaction``).

A gift is exact under concurrency because each balance moves in one conditional ``UPDATE``
that the database evaluates against the row as committed (PostgreSQL re-checks the condition
after waiting for a concurrent writer's row lock; SQLite has one writer): the allowance only
if ``given + points <= allowance``, the wallet unconditionally. Nothing is read in Python and
written back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from lrs import api
from lrs.catalogue import M_, at
from lrs.errors import BadRequest, Conflict, FieldError
from lrs.people.models import Person
from lrs.people.services import identities
from lrs.sql import run
from objectives.errors import Hidden
from recognition import statements as st
from recognition.events import KudosReceived
from recognition.models import KudosGift, RecognitionSettings
from recognition.periods import PERIODS, day_of_ms, period_of
from recognition.runtime import announce
from schemas.fields import is_iri

DEFAULT_ALLOWANCE = 100
DEFAULT_PERIOD = "month"
MAX_MESSAGE = 500
MAX_ALLOWANCE = 100_000


def _bad(path: str, message: str) -> BadRequest:
    return BadRequest(at(path, message), [FieldError(path, message)])


@dataclass(frozen=True)
class Settings:
    allowance: int
    period: str


def settings_of(session: Session, store_id: int) -> Settings:
    row = session.get(RecognitionSettings, store_id)
    if row is None:
        return Settings(DEFAULT_ALLOWANCE, DEFAULT_PERIOD)
    return Settings(row.allowance, row.period)


def set_settings(session: Session, store_id: int, allowance: int, period: str, now_ms: int) -> None:
    """The store's allowance per person and period; takes effect for gifts from now on."""
    if not 1 <= allowance <= MAX_ALLOWANCE:
        raise _bad(
            "allowance",
            M_("must be a whole number from %(min)s to %(max)s", min=1, max=MAX_ALLOWANCE),
        )
    if period not in PERIODS:
        raise _bad("period", M_("must be one of %(choices)s", choices=", ".join(PERIODS)))
    row = session.get(RecognitionSettings, store_id)
    if row is None:
        session.add(
            RecognitionSettings(
                store_id=store_id, allowance=allowance, period=period, updated_ms=now_ms
            )
        )
    else:
        row.allowance, row.period, row.updated_ms = allowance, period, now_ms
    session.flush()


@dataclass(frozen=True)
class Allowance:
    allowance: int
    given: int
    period_start: dt.date
    period_end: dt.date  # exclusive: what is left expires then

    @property
    def left(self) -> int:
        return max(0, self.allowance - self.given)


def allowance_of(session: Session, store_id: int, person_id: int, now_ms: int) -> Allowance:
    """What the person may still give in the period that contains ``now_ms``."""
    settings = settings_of(session, store_id)
    start, end = period_of(day_of_ms(now_ms), settings.period)
    given = run(
        session,
        "SELECT given FROM kudos_allowances WHERE person_id = ? AND period_start = ?",
        [person_id, start],
    ).scalar()
    return Allowance(settings.allowance, given or 0, start, end)


@dataclass(frozen=True)
class Wallet:
    received: int
    redeemed: int

    @property
    def available(self) -> int:
        return self.received - self.redeemed


def wallet_of(session: Session, person_id: int) -> Wallet:
    row = run(
        session, "SELECT received, redeemed FROM kudos_wallets WHERE person_id = ?", [person_id]
    ).first()
    return Wallet(row[0], row[1]) if row else Wallet(0, 0)


def colleague(session: Session, store_id: int, person_id: int, path: str) -> Person:
    """An active person of the store; a 404 naming ``path`` otherwise."""
    person = session.get(Person, person_id)
    if person is None or person.store_id != store_id or person.deactivated_at is not None:
        raise Hidden(
            at(path, M_("no colleague %(id)s", id=person_id)),
            [FieldError(path, M_("no such colleague"))],
        )
    return person


def search_colleagues(
    session: Session, store_id: int, text: str, exclude: int | None, limit: int = 20
) -> list[Person]:
    """Active people of the store whose name or email contains ``text`` (case-insensitive)."""
    words = text.strip().lower()
    if not words:
        return []
    pattern = "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    query = (
        select(Person)
        .where(
            Person.store_id == store_id,
            Person.deactivated_at.is_(None),
            or_(Person.name.ilike(pattern, escape="\\"), Person.email.ilike(pattern, escape="\\")),
        )
        .order_by(Person.name, Person.id)
        .limit(limit)
    )
    if exclude is not None:
        query = query.where(Person.id != exclude)
    return list(session.scalars(query))


def give(
    session: Session,
    store_id: int,
    giver_id: int,
    receiver_id: int,
    points: int,
    message: str,
    reason: str,
    link: str | None,
    base_url: str,
    now_ms: int,
) -> KudosGift:
    """Give ``points`` of the giver's allowance to a colleague; store the gift and its statement.

    Raises BadRequest (400, with the field's path) for a gift to oneself, a bad amount, reason
    or message; Hidden (404) for an unknown receiver; Conflict (409, path ``points``) when the
    allowance left in this period is smaller than ``points`` (nothing is stored then).
    """
    if receiver_id == giver_id:
        raise _bad("receiver_id", M_("kudos go to a colleague, never to oneself"))
    settings = settings_of(session, store_id)
    if not 1 <= points <= settings.allowance:
        raise _bad(
            "points",
            M_("must be a whole number from %(min)s to %(max)s", min=1, max=settings.allowance),
        )
    message = message.strip()
    if not message or len(message) > MAX_MESSAGE:
        raise _bad(
            "message", M_("say what it was for, in 1 to %(max)s characters", max=MAX_MESSAGE)
        )
    if reason not in st.REASONS:
        raise _bad("reason", M_("must be one of %(choices)s", choices=", ".join(st.REASONS)))
    if link is not None and (len(link) > 2000 or not is_iri(link)):
        raise _bad("link", M_("must be an IRI (the address of what it was for)"))
    giver = colleague(session, store_id, giver_id, "giver")
    receiver = colleague(session, store_id, receiver_id, "receiver_id")
    start, _ = period_of(day_of_ms(now_ms), settings.period)
    run(
        session,
        "INSERT INTO kudos_allowances (person_id, period_start, store_id, given) "
        "VALUES (?, ?, ?, 0) ON CONFLICT (person_id, period_start) DO NOTHING",
        [giver_id, start, store_id],
    )
    spent = run(
        session,
        "UPDATE kudos_allowances SET given = given + ? "
        "WHERE person_id = ? AND period_start = ? AND given + ? <= ?",
        [points, giver_id, start, points, settings.allowance],
    )
    if spent.rowcount != 1:
        left = allowance_of(session, store_id, giver_id, now_ms).left
        raise Conflict(
            at(
                "points",
                M_("only %(left)s point(s) of your allowance are left this period", left=left),
            ),
            [FieldError("points", M_("at most %(left)s this period", left=left))],
        )
    run(
        session,
        "INSERT INTO kudos_wallets (person_id, store_id, received, redeemed) VALUES (?, ?, 0, 0) "
        "ON CONFLICT (person_id) DO NOTHING",
        [receiver_id, store_id],
    )
    run(
        session,
        "UPDATE kudos_wallets SET received = received + ? WHERE person_id = ?",
        [points, receiver_id],
    )
    giver_agent = st.preferred_agent(identities(session, store_id, giver_id))
    receiver_agent = st.preferred_agent(identities(session, store_id, receiver_id))
    if receiver_agent is None or giver_agent is None:
        who = "receiver_id" if receiver_agent is None else "giver"
        raise _bad(who, M_("this person has no identity (email or account) to record kudos with"))
    gift = KudosGift(
        store_id=store_id,
        giver_id=giver_id,
        receiver_id=receiver_id,
        points=points,
        message=message,
        reason=reason,
        link=link or None,
        period_start=start,
        given_ms=now_ms,
        statement_id="",
    )
    session.add(gift)
    session.flush()
    gift.statement_id = st.kudos_statement_id(store_id, gift.id)
    statement = st.kudos_statement(
        statement_id=gift.statement_id,
        receiver=receiver_agent,
        giver=giver_agent,
        giver_id=giver.id,
        points=points,
        message=message,
        reason=reason,
        link=gift.link,
        base_url=base_url,
        at=dt.datetime.fromtimestamp(now_ms / 1000, dt.UTC),
    )
    principal = api.source_principal(store_id, "recognition", base_url.rstrip("/") + "/")
    api.write_statements(session, principal, [statement])
    session.flush()
    announce(
        session,
        KudosReceived(
            store_id, gift.id, giver_id, receiver.id, points, message, gift.statement_id, now_ms
        ),
    )
    return gift


def gifts(
    session: Session, store_id: int, person_id: int, direction: str, limit: int = 50
) -> list[KudosGift]:
    """The latest gifts the person ``given`` or ``received``, newest first."""
    column = KudosGift.giver_id if direction == "given" else KudosGift.receiver_id
    return list(
        session.scalars(
            select(KudosGift)
            .where(KudosGift.store_id == store_id, column == person_id)
            .order_by(KudosGift.given_ms.desc(), KudosGift.id.desc())
            .limit(limit)
        )
    )
