"""Health checks and pulses, after-action reviews, mentoring. Every row has a store.

Anonymity of health-check answers is a property of these tables, not of the code that reads
them: ``health_answers`` has no person, no account, no time and no sequential id (its key is a
random 128-bit hex, and on SQLite the table is ``WITHOUT ROWID`` so not even the hidden rowid
keeps the order of arrival); each answer row holds one question's answer, so not even one
person's answers to several questions are tied together. ``health_check_members`` says who may
answer and whether they have, never what; the one-time token on it is the only thing that
lets an answer in, and it is spent in the transaction that stores the answers.
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
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from lrs.models import Base


class FeedbackSettings(Base):
    """A store's anonymity threshold: results need at least ``k`` answers (or people)."""

    __tablename__ = "feedback_settings"

    store_id: Mapped[int] = mapped_column(
        ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True
    )
    k: Mapped[int] = mapped_column(Integer, comment="smallest group whose results are shown")
    updated_ms: Mapped[int] = mapped_column(BigInteger)


class HealthCheck(Base):
    """A squad health check or a pulse, for one lead's team, open over a window of days."""

    __tablename__ = "health_checks"
    __table_args__ = (
        CheckConstraint("closes_on >= opens_on", name="window_in_order"),
        Index("ix_health_checks_lead", "store_id", "lead_id", "opens_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    lead_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), comment="the team is the lead and reports"
    )
    kind: Mapped[str] = mapped_column(String(10), comment="squad (traffic lights) or pulse (1-5)")
    title: Mapped[str] = mapped_column(String(200))
    questions: Mapped[str] = mapped_column(Text, comment="JSON list of {key, label}")
    opens_on: Mapped[dt.date] = mapped_column(Date)
    closes_on: Mapped[dt.date] = mapped_column(Date, comment="last day answers are taken")
    closed_ms: Mapped[int | None] = mapped_column(BigInteger, comment="closed early by the lead")
    cycle_id: Mapped[int | None] = mapped_column(
        ForeignKey("review_cycles.id", ondelete="SET NULL"), comment="the initiative it pulses"
    )
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("objective_templates.id", ondelete="SET NULL")
    )
    created_ms: Mapped[int] = mapped_column(BigInteger)


class HealthCheckMember(Base):
    """Who may answer a check and whether they have; never what they answered."""

    __tablename__ = "health_check_members"

    check_id: Mapped[int] = mapped_column(
        ForeignKey("health_checks.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    token_hash: Mapped[str | None] = mapped_column(
        String(64), comment="SHA-256 of the one-time participation token; NULL once spent"
    )
    answered: Mapped[bool] = mapped_column(Boolean, default=False)


class HealthAnswer(Base):
    """One answer to one question: no person, no time, a random key (see the module)."""

    __tablename__ = "health_answers"
    __table_args__ = (
        Index("ix_health_answers_check", "check_id", "question"),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, comment="random, never ordered")
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    check_id: Mapped[int] = mapped_column(ForeignKey("health_checks.id", ondelete="CASCADE"))
    question: Mapped[str] = mapped_column(String(40))
    value: Mapped[int] = mapped_column(SmallInteger, comment="squad: 1 red 2 amber 3 green; 1-5")
    trend: Mapped[int | None] = mapped_column(SmallInteger, comment="-1 worse, 0 same, 1 better")


class AfterActionReview(Base):
    """A blameless after-action review, published to everyone in the store."""

    __tablename__ = "after_action_reviews"
    __table_args__ = (Index("ix_after_action_reviews_store", "store_id", "occurred_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    expected: Mapped[str] = mapped_column(Text, comment="what was supposed to happen")
    happened: Mapped[str] = mapped_column(Text, comment="what actually happened")
    went_well: Mapped[str] = mapped_column(Text, comment="what's working")
    went_badly: Mapped[str] = mapped_column(Text, comment="what's not")
    to_fix: Mapped[str] = mapped_column(Text, comment="needs fixin'")
    author_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    published_ms: Mapped[int] = mapped_column(BigInteger)


class AarParticipant(Base):
    __tablename__ = "aar_participants"

    aar_id: Mapped[int] = mapped_column(
        ForeignKey("after_action_reviews.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )


class AarLink(Base):
    """An incident, a pull request, a document the review is about."""

    __tablename__ = "aar_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    aar_id: Mapped[int] = mapped_column(
        ForeignKey("after_action_reviews.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(String(200), default="")


class AarAction(Base):
    """An action with an owner; it may become a learning objective on the owner's review."""

    __tablename__ = "aar_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    aar_id: Mapped[int] = mapped_column(
        ForeignKey("after_action_reviews.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(String(300))
    owner_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    objective_id: Mapped[int | None] = mapped_column(
        ForeignKey("objectives.id", ondelete="SET NULL"), comment="the objective it became"
    )


class AarLesson(Base):
    """A lesson a review learned; later reviews cite it."""

    __tablename__ = "aar_lessons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    aar_id: Mapped[int] = mapped_column(
        ForeignKey("after_action_reviews.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)


class AarCitation(Base):
    """A later review reused an earlier lesson."""

    __tablename__ = "aar_citations"

    aar_id: Mapped[int] = mapped_column(
        ForeignKey("after_action_reviews.id", ondelete="CASCADE"), primary_key=True
    )
    lesson_id: Mapped[int] = mapped_column(
        ForeignKey("aar_lessons.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class MentoringPair(Base):
    """A mentor and a mentee of the store's mentoring programme."""

    __tablename__ = "mentoring_pairs"
    __table_args__ = (
        UniqueConstraint("store_id", "mentor_id", "mentee_id"),
        CheckConstraint("mentor_id <> mentee_id", name="not_oneself"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    mentor_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    mentee_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    created_ms: Mapped[int] = mapped_column(BigInteger)


class MentoringSession(Base):
    """A session logged by one side; it counts once the other side confirms it."""

    __tablename__ = "mentoring_sessions"
    __table_args__ = (CheckConstraint("minutes > 0", name="minutes_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    pair_id: Mapped[int] = mapped_column(
        ForeignKey("mentoring_pairs.id", ondelete="CASCADE"), index=True
    )
    held_on: Mapped[dt.date] = mapped_column(Date)
    minutes: Mapped[int] = mapped_column(Integer)
    topic: Mapped[str] = mapped_column(String(300))
    logged_by: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    logged_ms: Mapped[int] = mapped_column(BigInteger)
    confirmed_ms: Mapped[int | None] = mapped_column(BigInteger, comment="by the other side")
