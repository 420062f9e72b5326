"""The notifications' tables: the inbox, each person's preferences, and the teams' chat hooks."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from lrs.models import Base, Seq


class Notification(Base):
    """One thing one person is told: a row of their inbox, and the source of their e-mail.

    ``dedupe`` makes an event that can be noticed twice (a review due, scanned every day) one
    row; ``held`` is set when the person wants this kind in their weekly digest, and
    ``digested_ms`` when a digest took it.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_inbox", "store_id", "person_id", "id"),
        UniqueConstraint("store_id", "person_id", "dedupe"),
    )

    id: Mapped[int] = mapped_column(Seq, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40), comment="objective.met, review.due, ...")
    title: Mapped[str] = mapped_column(String(400), comment="one line, as the inbox shows it")
    data: Mapped[str] = mapped_column(Text, comment="JSON: the names and ids the templates use")
    link: Mapped[str] = mapped_column(String(500), comment="path of the page it is about")
    dedupe: Mapped[str | None] = mapped_column(String(200))
    created_ms: Mapped[int] = mapped_column(BigInteger, comment="ms since the epoch, UTC")
    read_ms: Mapped[int | None] = mapped_column(BigInteger)
    held: Mapped[bool] = mapped_column(Boolean, default=False, comment="for the weekly digest")
    digested_ms: Mapped[int | None] = mapped_column(BigInteger)


class Preference(Base):
    """How one person wants e-mail of one kind: ``immediately``, ``digest`` or ``off``.

    No row: the kind's default (``notifications.kinds``).
    """

    __tablename__ = "notification_preferences"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    mode: Mapped[str] = mapped_column(String(12), comment="immediately, digest, off")
    updated_ms: Mapped[int] = mapped_column(BigInteger)


class ChatHook(Base):
    """A team's Slack or Microsoft Teams incoming webhook: the team opted in to hear its events.

    A team is a manager's people (direct and indirect reports). The URL is a secret (whoever has
    it can post to the channel): kept sealed, shown by its host only.
    """

    __tablename__ = "chat_hooks"
    __table_args__ = (UniqueConstraint("store_id", "manager_id", "flavor"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    manager_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    flavor: Mapped[str] = mapped_column(String(10), comment="slack or teams")
    url_sealed: Mapped[str] = mapped_column(Text, comment="lrs.sealing, context chat:<id>")
    url_host: Mapped[str] = mapped_column(String(300), comment="shown on the admin page")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_ms: Mapped[int] = mapped_column(BigInteger)
