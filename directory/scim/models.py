"""The SCIM tables: bearer tokens per store, the SCIM view of people, and groups.

A person provisioned by SCIM has one ``scim_users`` row beside their ``people`` row: the SCIM
id (a random UUID, never reused), the userName, the externalId and the attributes the identity
provider sent that Learnloop keeps but does not use (phone numbers, title, ...), as JSON.
What Learnloop uses lives in its own tables and is read from there: name and email on
``people``, active as ``people.deactivated_at``, the manager as ``reporting_lines``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from lrs.models import Base


class ScimToken(Base):
    """A bearer token an identity provider provisions one store with; stored as its SHA-256."""

    __tablename__ = "scim_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="", comment="e.g. Okta, Entra ID")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, comment="SHA-256, hex")
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ScimUser(Base):
    """The SCIM side of a provisioned person (one per person)."""

    __tablename__ = "scim_users"
    __table_args__ = (
        UniqueConstraint("store_id", "user_name"),
        Index("ix_scim_users_external_id", "store_id", "external_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scim_id: Mapped[str] = mapped_column(String(36), unique=True, comment="the SCIM id, a UUID")
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), unique=True)
    user_name: Mapped[str] = mapped_column(String(320), comment="lower-case, unique per store")
    external_id: Mapped[str | None] = mapped_column(String(300))
    attributes: Mapped[str] = mapped_column(Text, comment="the other attributes sent, as JSON")
    version: Mapped[int] = mapped_column(Integer, default=1, comment="bumped by every SCIM write")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ScimGroup(Base):
    """A group the identity provider keeps; members are provisioned people."""

    __tablename__ = "scim_groups"
    __table_args__ = (Index("ix_scim_groups_store", "store_id", "display_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scim_id: Mapped[str] = mapped_column(String(36), unique=True, comment="the SCIM id, a UUID")
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    display_name: Mapped[str] = mapped_column(String(300))
    external_id: Mapped[str | None] = mapped_column(String(300))
    attributes: Mapped[str] = mapped_column(Text, comment="the other attributes sent, as JSON")
    version: Mapped[int] = mapped_column(Integer, default=1, comment="bumped by every SCIM write")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ScimGroupMember(Base):
    """A person in a group."""

    __tablename__ = "scim_group_members"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("scim_groups.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    display: Mapped[str | None] = mapped_column(String(300), comment="as the provider sent it")
