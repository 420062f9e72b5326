"""Kudos, the reward catalogue, badges and their awards, leaderboard opt-ins. Every row has a store.

Balances are columns the database keeps exact under concurrency: a gift or a redemption is one
conditional ``UPDATE`` (``… WHERE given + :points <= :allowance``), never a read in Python
followed by a write; the CHECK constraints say what may never happen even if code is wrong.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from lrs.models import Base, Seq


class RecognitionSettings(Base):
    """A store's kudos allowance: how many points each person may give per period."""

    __tablename__ = "recognition_settings"

    store_id: Mapped[int] = mapped_column(
        ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True
    )
    allowance: Mapped[int] = mapped_column(Integer, comment="points per person and period")
    period: Mapped[str] = mapped_column(String(10), comment="month or quarter (UTC)")
    updated_ms: Mapped[int] = mapped_column(BigInteger)


class KudosAllowance(Base):
    """What a person has given in one period; what is left of the allowance expires with it."""

    __tablename__ = "kudos_allowances"
    __table_args__ = (CheckConstraint("given >= 0", name="given_not_negative"),)

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    period_start: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    given: Mapped[int] = mapped_column(Integer, default=0, comment="points given in the period")


class KudosWallet(Base):
    """Points received (they never expire) and redeemed; never more redeemed than received."""

    __tablename__ = "kudos_wallets"
    __table_args__ = (
        CheckConstraint("redeemed >= 0 AND redeemed <= received", name="redeemed_within_received"),
    )

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    received: Mapped[int] = mapped_column(Integer, default=0)
    redeemed: Mapped[int] = mapped_column(Integer, default=0)


class KudosGift(Base):
    """One gift: points from a giver's allowance to a colleague, with a message; its statement."""

    __tablename__ = "kudos_gifts"
    __table_args__ = (
        CheckConstraint("points > 0", name="points_positive"),
        CheckConstraint("giver_id <> receiver_id", name="not_to_oneself"),
        Index("ix_kudos_gifts_receiver", "store_id", "receiver_id", "given_ms"),
        Index("ix_kudos_gifts_giver", "store_id", "giver_id", "given_ms"),
    )

    id: Mapped[int] = mapped_column(Seq, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    giver_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    receiver_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    points: Mapped[int] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(30), comment="help, mentoring, code-review, …")
    link: Mapped[str | None] = mapped_column(Text, comment="what it was for: an IRI")
    period_start: Mapped[dt.date] = mapped_column(Date, comment="the allowance it came from")
    given_ms: Mapped[int] = mapped_column(BigInteger, comment="ms since the epoch")
    statement_id: Mapped[str] = mapped_column(String(36), comment="its xAPI statement")


class RewardItem(Base):
    """An item of the catalogue people redeem received points for."""

    __tablename__ = "reward_items"
    __table_args__ = (
        UniqueConstraint("store_id", "name"),
        CheckConstraint("cost > 0", name="cost_positive"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    cost: Mapped[int] = mapped_column(Integer, comment="points")
    stock: Mapped[int] = mapped_column(Integer, comment="how many are left")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_ms: Mapped[int] = mapped_column(BigInteger)


class Redemption(Base):
    """A person redeemed points for an item; an admin fulfils it."""

    __tablename__ = "redemptions"
    __table_args__ = (Index("ix_redemptions_store", "store_id", "fulfilled_ms", "id"),)

    id: Mapped[int] = mapped_column(Seq, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("reward_items.id", ondelete="CASCADE"))
    cost: Mapped[int] = mapped_column(Integer, comment="points, as the item cost then")
    redeemed_ms: Mapped[int] = mapped_column(BigInteger)
    fulfilled_ms: Mapped[int | None] = mapped_column(BigInteger)
    fulfilled_by: Mapped[str | None] = mapped_column(String(320), comment="the admin's email")


class Badge(Base):
    """A badge of the store: criteria in the objectives' engine, awarded once per person."""

    __tablename__ = "badges"
    __table_args__ = (UniqueConstraint("store_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    rule: Mapped[str] = mapped_column(String(10), default="all", comment="all, any, k_of_n")
    k: Mapped[int | None] = mapped_column(Integer)
    criteria: Mapped[str] = mapped_column(Text, comment="JSON: objectives.criteria.Criterion")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_ms: Mapped[int] = mapped_column(BigInteger)


class BadgeAward(Base):
    """A badge a person earned, once: its statement and its signed Open Badges 3.0 credential."""

    __tablename__ = "badge_awards"
    __table_args__ = (
        UniqueConstraint("badge_id", "person_id"),
        Index("ix_badge_awards_person", "store_id", "person_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    badge_id: Mapped[int] = mapped_column(ForeignKey("badges.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    awarded_ms: Mapped[int] = mapped_column(BigInteger)
    statement_id: Mapped[str] = mapped_column(String(36))
    credential: Mapped[str] = mapped_column(Text, comment="VC-JWT (Open Badges 3.0)")


class IssuerKey(Base):
    """The key a store signs its badge credentials with; the private half sealed at rest."""

    __tablename__ = "badge_issuer_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    kid: Mapped[str] = mapped_column(String(100), unique=True)
    private_jwk: Mapped[str] = mapped_column(Text, comment="sealed (lrs.sealing)")
    public_jwk: Mapped[str] = mapped_column(Text, comment="JSON")
    created_ms: Mapped[int] = mapped_column(BigInteger)


class LeaderboardOptIn(Base):
    """A person who chose to appear on leaderboards (nobody does by default)."""

    __tablename__ = "leaderboard_opt_ins"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    opted_in_ms: Mapped[int] = mapped_column(BigInteger)


class BadgeCursor(Base):
    """How far the badge evaluation has read a store's learning facts (by ``seq``)."""

    __tablename__ = "badge_cursors"

    store_id: Mapped[int] = mapped_column(
        ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True
    )
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
