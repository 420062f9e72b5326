"""Kudos received and badges earned (issue 19's hook) as notifications.

The shell appends ``on_kudos_received`` and ``on_badge_earned`` to the recognition runtime's
listeners (``recognition.runtime``); each is called in the transaction that records the gift
or the award and only leaves a ``notify`` job there. The kinds' resolvers read the gift and the
badge when the worker runs; a gift is team news too (the receiver's teams' chat hears of it).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from lrs import queue
from lrs.catalogue import N_
from lrs.people.models import Person
from notifications.kinds import Kind, Notice, TeamNews, register
from recognition.events import BADGE_EARNED, KUDOS_RECEIVED, BadgeEarned, KudosReceived
from recognition.models import Badge, KudosGift


def on_kudos_received(session: Session, event: KudosReceived) -> None:
    queue.notify(session, event.store_id, KUDOS_RECEIVED, {"gift": event.gift_id}, event.at_ms)


def on_badge_earned(session: Session, event: BadgeEarned) -> None:
    queue.notify(
        session,
        event.store_id,
        BADGE_EARNED,
        {"badge": event.badge_id, "person": event.person_id},
        event.at_ms,
    )


def _gift(session: Session, store_id: int, payload: dict) -> tuple[KudosGift, str, str] | None:
    gift = session.get(KudosGift, int(payload.get("gift") or 0))
    if gift is None or gift.store_id != store_id:
        return None
    giver, receiver = session.get(Person, gift.giver_id), session.get(Person, gift.receiver_id)
    return gift, (giver.name if giver else ""), (receiver.name if receiver else "")


def kudos_received(session: Session, store_id: int, payload: dict) -> list[Notice]:
    found = _gift(session, store_id, payload)
    if found is None:
        return []
    gift, giver, _ = found
    data = {"giver": giver, "points": gift.points, "message": gift.message, "reason": gift.reason}
    title = N_("%(giver)s gave you %(points)s kudos")
    return [Notice(gift.receiver_id, KUDOS_RECEIVED, title, "/kudos", data, f"kudos:{gift.id}")]


def kudos_news(session: Session, store_id: int, payload: dict) -> TeamNews | None:
    found = _gift(session, store_id, payload)
    if found is None:
        return None
    gift, giver, receiver = found
    return TeamNews(gift.receiver_id, f"{giver} gave {receiver} kudos: {gift.message}", "/kudos")


def badge_earned(session: Session, store_id: int, payload: dict) -> list[Notice]:
    badge = session.get(Badge, int(payload.get("badge") or 0))
    person = session.get(Person, int(payload.get("person") or 0))
    if badge is None or person is None or badge.store_id != store_id:
        return []
    data = {"badge": badge.name, "description": badge.description}
    return [
        Notice(
            person.id,
            BADGE_EARNED,
            N_("You earned the badge %(badge)s"),
            f"/people/{person.id}",
            data,
            f"badge:{badge.id}",
        )
    ]


register(
    Kind(KUDOS_RECEIVED, N_("Someone gives you kudos"), chat=True), kudos_received, team=kudos_news
)
register(Kind(BADGE_EARNED, N_("You earn a badge")), badge_earned)
