"""The reward catalogue and redemptions. Callers own the transaction.

A redemption spends the person's received points and one item of stock with two conditional
``UPDATE`` statements (``received - redeemed >= cost``, ``stock >= 1``) in one transaction: if
either finds nothing to update, the transaction is rolled back by the caller and nothing moved.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lrs import audit
from lrs.catalogue import M_, at
from lrs.errors import BadRequest, Conflict, FieldError
from lrs.sql import run
from objectives.errors import Hidden
from recognition.models import Redemption, RewardItem

MAX_COST = 1_000_000
MAX_STOCK = 1_000_000


def _bad(path: str, message: str) -> BadRequest:
    return BadRequest(at(path, message), [FieldError(path, message)])


def items(session: Session, store_id: int, active_only: bool = False) -> list[RewardItem]:
    query = select(RewardItem).where(RewardItem.store_id == store_id)
    if active_only:
        query = query.where(RewardItem.active.is_(True))
    return list(session.scalars(query.order_by(RewardItem.cost, RewardItem.name)))


def get_item(session: Session, store_id: int, item_id: int) -> RewardItem:
    item = session.get(RewardItem, item_id)
    if item is None or item.store_id != store_id:
        raise Hidden(M_("no reward %(id)s", id=item_id))
    return item


def add_item(
    session: Session, store_id: int, name: str, cost: int, stock: int, now_ms: int
) -> RewardItem:
    """A new catalogue item (admins). 409 if the store has one of that name."""
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise _bad("name", M_("must be %(min)s to %(max)s characters", min=1, max=200))
    if not 1 <= cost <= MAX_COST:
        raise _bad(
            "cost",
            M_("must be a whole number of points from %(min)s to %(max)s", min=1, max=MAX_COST),
        )
    if not 0 <= stock <= MAX_STOCK:
        raise _bad(
            "stock", M_("must be a whole number from %(min)s to %(max)s", min=0, max=MAX_STOCK)
        )
    taken = session.scalar(
        select(RewardItem.id).where(RewardItem.store_id == store_id, RewardItem.name == name)
    )
    if taken is not None:
        raise Conflict(
            at("name", M_("the catalogue already has %(name)s", name=repr(name))),
            [FieldError("name", M_("taken"))],
        )
    item = RewardItem(
        store_id=store_id, name=name, cost=cost, stock=stock, active=True, created_ms=now_ms
    )
    session.add(item)
    session.flush()
    audit.record(
        session,
        "reward.created",
        store_id=store_id,
        target=audit.Target("reward", item.id, name),
        details={"cost": cost, "stock": stock},
    )
    return item


def restock(session: Session, item: RewardItem, stock: int, active: bool) -> None:
    """Set an item's stock and whether people can redeem it (admins)."""
    if not 0 <= stock <= MAX_STOCK:
        raise _bad(
            "stock", M_("must be a whole number from %(min)s to %(max)s", min=0, max=MAX_STOCK)
        )
    item.stock, item.active = stock, active
    session.flush()
    audit.record(
        session,
        "reward.updated",
        store_id=item.store_id,
        target=audit.Target("reward", item.id, item.name),
        details={"stock": stock, "active": active},
    )


def redeem(
    session: Session, store_id: int, person_id: int, item_id: int, now_ms: int
) -> Redemption:
    """Spend received points on one item; 409 naming what is short (points or stock)."""
    item = get_item(session, store_id, item_id)
    if not item.active:
        raise Conflict(
            at("item_id", M_("%(name)s is not offered now", name=repr(item.name))),
            [FieldError("item_id", M_("not offered"))],
        )
    paid = run(
        session,
        "UPDATE kudos_wallets SET redeemed = redeemed + ? "
        "WHERE person_id = ? AND store_id = ? AND received - redeemed >= ?",
        [item.cost, person_id, store_id, item.cost],
    )
    if paid.rowcount != 1:
        raise Conflict(
            at(
                "points",
                M_(
                    "%(name)s costs %(cost)s points, more than you have received and "
                    "not yet redeemed",
                    name=repr(item.name),
                    cost=item.cost,
                ),
            ),
            [FieldError("points", M_("%(cost)s needed", cost=item.cost))],
        )
    taken = run(
        session,
        "UPDATE reward_items SET stock = stock - 1 WHERE id = ? AND store_id = ? AND stock >= 1",
        [item.id, store_id],
    )
    if taken.rowcount != 1:
        raise Conflict(
            at("item_id", M_("%(name)s is out of stock", name=repr(item.name))),
            [FieldError("item_id", M_("out of stock"))],
        )
    redemption = Redemption(
        store_id=store_id, person_id=person_id, item_id=item.id, cost=item.cost, redeemed_ms=now_ms
    )
    session.add(redemption)
    session.flush()
    return redemption


def redemptions(
    session: Session, store_id: int, person_id: int | None = None, open_only: bool = False
) -> list[Redemption]:
    """Redemptions of the store (of one person), the ones to fulfil first, newest first."""
    query = select(Redemption).where(Redemption.store_id == store_id)
    if person_id is not None:
        query = query.where(Redemption.person_id == person_id)
    if open_only:
        query = query.where(Redemption.fulfilled_ms.is_(None))
    order = (Redemption.fulfilled_ms.is_not(None), Redemption.id.desc())
    return list(session.scalars(query.order_by(*order).limit(200)))


def fulfil(
    session: Session, store_id: int, redemption_id: int, admin_email: str, now_ms: int
) -> Redemption:
    """Mark a redemption handed over (admins); 409 if it already was."""
    redemption = session.get(Redemption, redemption_id)
    if redemption is None or redemption.store_id != store_id:
        raise Hidden(M_("no redemption %(id)s", id=redemption_id))
    if redemption.fulfilled_ms is not None:
        raise Conflict(M_("redemption %(id)s was already fulfilled", id=redemption_id))
    redemption.fulfilled_ms, redemption.fulfilled_by = now_ms, admin_email
    session.flush()
    audit.record(
        session,
        "reward.fulfilled",
        store_id=store_id,
        target=audit.Target("redemption", redemption.id, str(redemption.id)),
        details={"item_id": redemption.item_id, "person_id": redemption.person_id},
    )
    return redemption
