"""People and identities. Every row belongs to a store."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from lrs.models import Base


class Person(Base):
    """One human, as known to one store."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(300), default="")
    email: Mapped[str | None] = mapped_column(String(320), comment="for sign-in and display")
    #: Left the organisation (or deprovisioned by the identity provider): kept with their
    #: learning record, out of teams and new reviews; their accounts are disabled.
    deactivated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class Identity(Base):
    """One xAPI identity (Inverse Functional Identifier) of a person, unique within a store."""

    __tablename__ = "identities"
    __table_args__ = (
        UniqueConstraint("store_id", "ifi"),
        Index("ix_identities_person", "store_id", "person_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    ifi: Mapped[str] = mapped_column(Text, comment="lrs.core.agents.ifi_string of the agent")
    agent: Mapped[str] = mapped_column(Text, comment="the Agent object, as JSON")
    source: Mapped[str] = mapped_column(
        String(50), default="manual", comment="lti, github, gitlab, gerrit, manual, …"
    )
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
