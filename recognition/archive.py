"""Recognition's parts of a person's archive (GDPR art. 15 and 20, ``directory.governance``).

Kudos they gave and received (the other person by id), their wallet, what they redeemed,
the badges they earned with the signed credential, and whether they chose leaderboards.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from directory.governance.archive import register_part
from lrs.catalogue import N_
from recognition.models import (
    Badge,
    BadgeAward,
    KudosGift,
    KudosWallet,
    LeaderboardOptIn,
    Redemption,
    RewardItem,
)


def kudos(session: Session, store_id: int, person_id: int) -> list[dict]:
    gifts = session.scalars(
        select(KudosGift)
        .where(
            KudosGift.store_id == store_id,
            or_(KudosGift.giver_id == person_id, KudosGift.receiver_id == person_id),
        )
        .order_by(KudosGift.id)
    )
    return [
        {
            "given": gift.giver_id == person_id,
            "giver_id": gift.giver_id,
            "receiver_id": gift.receiver_id,
            "points": gift.points,
            "message": gift.message,
            "reason": gift.reason,
            "link": gift.link,
            "given_ms": gift.given_ms,
            "statement_id": gift.statement_id,
        }
        for gift in gifts
    ]


def wallet(session: Session, store_id: int, person_id: int) -> list[dict]:
    row = session.get(KudosWallet, person_id)
    if row is None or row.store_id != store_id:
        return []
    return [{"received": row.received, "redeemed": row.redeemed}]


def redemptions(session: Session, store_id: int, person_id: int) -> list[dict]:
    rows = session.execute(
        select(Redemption, RewardItem.name)
        .join(RewardItem, RewardItem.id == Redemption.item_id)
        .where(Redemption.store_id == store_id, Redemption.person_id == person_id)
        .order_by(Redemption.id)
    )
    return [
        {
            "item": name,
            "cost": r.cost,
            "redeemed_ms": r.redeemed_ms,
            "fulfilled_ms": r.fulfilled_ms,
        }
        for r, name in rows
    ]


def badges(session: Session, store_id: int, person_id: int) -> list[dict]:
    rows = session.execute(
        select(BadgeAward, Badge.name)
        .join(Badge, Badge.id == BadgeAward.badge_id)
        .where(BadgeAward.store_id == store_id, BadgeAward.person_id == person_id)
        .order_by(BadgeAward.id)
    )
    return [
        {
            "badge": name,
            "awarded_ms": a.awarded_ms,
            "statement_id": a.statement_id,
            "credential": a.credential,
        }
        for a, name in rows
    ]


def leaderboards(session: Session, store_id: int, person_id: int) -> list[dict]:
    row = session.get(LeaderboardOptIn, person_id)
    if row is None or row.store_id != store_id:
        return []
    return [{"opted_in_ms": row.opted_in_ms}]


register_part("kudos", kudos, N_("kudos given and received"))
register_part("kudos_wallet", wallet, N_("kudos wallet"))
register_part("redemptions", redemptions, N_("rewards redeemed"))
register_part("badges", badges, N_("badges earned"))
register_part("leaderboard_opt_in", leaderboards, N_("the choice to appear on leaderboards"))
