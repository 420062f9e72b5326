"""Accounts, reporting lines, review cycles, reviews, objectives and the learning-facts projection.

Every row belongs to a store. ``LearningFact`` is a read model of the statements (one row per
statement, the columns criteria filter on), kept current from the statements table by sequence
number, so progress is computed with indexed queries and the LRS write path stays untouched.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from lrs.models import Base


class Account(Base):
    """Someone who signs in to Learnloop's pages and API; usually a person of the store."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("store_id", "email"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    email: Mapped[str] = mapped_column(String(320), comment="lower-case; the sign-in name")
    password_hash: Mapped[str | None] = mapped_column(String(300), comment="scrypt; None: LTI only")
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, comment="bump to sign out all")
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    locale: Mapped[str | None] = mapped_column(
        String(35), comment="the pages' language the person chose (de, fr); None: the browser's"
    )


class ApiToken(Base):
    """A bearer token for the /api routes; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ReportingLine(Base):
    """Who a person reports to; managers see their direct and indirect reports."""

    __tablename__ = "reporting_lines"

    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    manager_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)


class ReviewCycle(Base):
    """A review period, e.g. "2026 H2": its window is the default window of its objectives."""

    __tablename__ = "review_cycles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    #: Closed: no new reviews in it; its reviews stay readable.
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Review(Base):
    """One employee's review in one cycle."""

    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("cycle_id", "person_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("review_cycles.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="draft", comment="draft…closed")
    manager_comment: Mapped[str] = mapped_column(Text, default="")
    reviewer_comment: Mapped[str] = mapped_column(Text, default="")
    rating: Mapped[int | None] = mapped_column(SmallInteger, comment="outcome, 1-5")
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class ReviewGrant(Base):
    """A reviewer granted access to one review."""

    __tablename__ = "review_grants"

    review_id: Mapped[int] = mapped_column(
        ForeignKey("reviews.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )


class ObjectiveTemplate(Base):
    """An objective a manager reuses across a team: title, rule and criteria."""

    __tablename__ = "objective_templates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    rule: Mapped[str] = mapped_column(String(20), default="all", comment="all, any or k_of_n")
    k: Mapped[int | None] = mapped_column(Integer)
    criteria: Mapped[str] = mapped_column(Text, comment="JSON list of criteria")
    #: Retired: no longer offered for new objectives; objectives made from it stay.
    retired_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Objective(Base):
    """A measurable learning objective attached to a review."""

    __tablename__ = "objectives"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("objective_templates.id", ondelete="SET NULL")
    )
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    rule: Mapped[str] = mapped_column(String(20), default="all")
    k: Mapped[int | None] = mapped_column(Integer)
    criteria: Mapped[str] = mapped_column(Text, comment="JSON list of criteria")
    satisfied_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    satisfied_statement_id: Mapped[str | None] = mapped_column(String(36))
    grade_posted_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), comment="when the LMS gradebook received the met score"
    )
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class LearningFact(Base):
    """What criteria need to know of one statement, projected from the statements table.

    ``fingerprint`` identifies the learning event (verb, activity, time) so that the same event
    sent twice, or by two identities of one person, counts once. Voiding is read from the
    statements table at query time, so a voided statement stops counting at once.
    """

    __tablename__ = "learning_facts"
    __table_args__ = (
        # Covering: a criterion is answered from the index alone, without a row per candidate.
        Index(
            "ix_learning_facts_actor",
            "store_id",
            "actor_key",
            "verb_id",
            "at_ms",
            "source",
            "activity_id",
            "activity_type",
            "score",
            "success",
            "completion",
            "has_response",
            "fingerprint",
        ),
        Index("ix_learning_facts_actor_time", "store_id", "actor_key", "at_ms"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    store_id: Mapped[int] = mapped_column(Integer)
    actor_key: Mapped[int] = mapped_column(BigInteger, comment="index key of the actor's IFI")
    verb_id: Mapped[str] = mapped_column(Text)
    activity_id: Mapped[str | None] = mapped_column(Text)
    activity_type: Mapped[str | None] = mapped_column(Text)
    parent_id: Mapped[str | None] = mapped_column(
        Text, comment="the first contextActivities.parent: a trail, a course"
    )
    source: Mapped[str] = mapped_column(String(30), comment="lms, code_review, microlearning, xapi")
    at_ms: Mapped[int] = mapped_column(BigInteger, comment="timestamp, ms since the epoch")
    score: Mapped[float | None] = mapped_column(Float, comment="scaled score, or raw/max")
    success: Mapped[bool | None] = mapped_column(Boolean)
    completion: Mapped[bool | None] = mapped_column(Boolean)
    has_response: Mapped[bool] = mapped_column(Boolean, default=False)
    fingerprint: Mapped[int] = mapped_column(BigInteger)


class ProjectionCursor(Base):
    """How far the facts projection has read a store's statements (by ``seq``).

    Per store, because a store's writers are serialised (SQLite's write lock, PostgreSQL's
    per-store advisory lock): a statement that commits later always has a larger ``seq``.
    """

    __tablename__ = "projection_cursors"

    store_id: Mapped[int] = mapped_column(
        ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True
    )
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_ms: Mapped[int | None] = mapped_column(
        BigInteger, comment="when the worker last projected (pages say how fresh progress is)"
    )
