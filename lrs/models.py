"""Tables of the LRS. Every row belongs to a store (tenant) and every query filters by it.

Statements keep the JSON as stored plus the columns the hot paths need; ``statement_index`` holds
one row per (statement, term) so that every filter of GET /statements is an index range scan
ordered by (stored, seq), which is also the keyset of the ``more`` cursor.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# A 64-bit integer that is SQLite's rowid alias when it is the primary key.
Seq = BigInteger().with_variant(Integer(), "sqlite")

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Store(Base):
    """A tenant: its own statements, documents, credentials and everything built on them."""

    __tablename__ = "stores"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class Credential(Base):
    """An HTTP Basic key/secret pair with xAPI scopes; the secret is stored only as a KDF hash."""

    __tablename__ = "credentials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(300), comment="scrypt$n$r$p$salt$hash")
    scopes: Mapped[str] = mapped_column(String(500), comment="space-separated xAPI scopes")
    label: Mapped[str] = mapped_column(String(200), default="")
    authority: Mapped[str] = mapped_column(Text, comment="the statement authority, as JSON")
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Statement(Base):
    """One stored statement. ``payload`` is the statement exactly as the LRS returns it."""

    __tablename__ = "statements"
    __table_args__ = (
        UniqueConstraint("store_id", "statement_id"),
        Index("ix_statements_order", "store_id", "stored_ms", "seq"),
        Index(
            "ix_statements_voided",
            "store_id",
            "seq",
            sqlite_where=text("voided"),
            postgresql_where=text("voided"),
        ),
        Index(
            "ix_statements_object_ref",
            "store_id",
            "object_ref",
            sqlite_where=text("object_ref IS NOT NULL"),
            postgresql_where=text("object_ref IS NOT NULL"),
        ),
    )

    seq: Mapped[int] = mapped_column(Seq, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    statement_id: Mapped[str] = mapped_column(String(36), comment="lower-case UUID")
    stored_ms: Mapped[int] = mapped_column(BigInteger, comment="stored, ms since the epoch")
    voided: Mapped[bool] = mapped_column(Boolean, default=False)
    voiding: Mapped[bool] = mapped_column(Boolean, default=False, comment="verb is voided")
    object_ref: Mapped[str | None] = mapped_column(String(36), comment="StatementRef target")
    version: Mapped[str] = mapped_column(String(16))
    payload: Mapped[str] = mapped_column(Text)


class StatementIndex(Base):
    """One index term of a statement: an agent, activity, verb, registration or authority key.

    ``direct`` marks actor/object terms (the plain ``agent``/``activity`` filters); related-only
    terms have it false. A statement targeting another by StatementRef carries the target's terms
    too (Communication 2.1.3, filter conditions for StatementRefs).
    """

    __tablename__ = "statement_index"
    __table_args__ = {"sqlite_with_rowid": False}

    store_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    stored_ms: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    direct: Mapped[bool] = mapped_column(Boolean)


class Activity(Base):
    """The canonical definition of an Activity, merged from the statements that defined it."""

    __tablename__ = "activities"
    __table_args__ = (UniqueConstraint("store_id", "activity_id"),)

    id: Mapped[int] = mapped_column(Seq, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(Integer)
    activity_id: Mapped[str] = mapped_column(Text)
    definition: Mapped[str] = mapped_column(Text, comment="JSON")


class AttachmentContent(Base):
    """Attachment data, stored once per store and SHA-2 hash however many statements use it."""

    __tablename__ = "attachments"

    store_id: Mapped[int] = mapped_column(
        ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True
    )
    sha2: Mapped[str] = mapped_column(String(128), primary_key=True, comment="lower-case hex")
    content_type: Mapped[str] = mapped_column(String(255))
    length: Mapped[int] = mapped_column(BigInteger)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class Job(Base):
    """Work that follows an event, written in the event's own transaction (a durable queue).

    ``key`` coalesces: at most one *pending* job per (kind, key), so a thousand batches of one
    store leave one "new statements" job, not a thousand. A claimed job is ``running`` until
    ``locked_until_ms``; a worker that dies leaves it to be claimed again when that passes.
    Done jobs are deleted; ``failed`` ones stay, with their last error, for people to read.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        Index(
            "uq_jobs_pending",
            "kind",
            "key",
            unique=True,
            sqlite_where=text("state = 'pending'"),
            postgresql_where=text("state = 'pending'"),
        ),
        Index("ix_jobs_due", "state", "run_at_ms"),
    )

    id: Mapped[int] = mapped_column(Seq, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(50), comment="statements, grade, …")
    key: Mapped[str] = mapped_column(String(300), comment="coalesces pending jobs of a kind")
    payload: Mapped[str] = mapped_column(Text, default="{}", comment="JSON")
    state: Mapped[str] = mapped_column(String(10), default="pending", comment="pending…failed")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    run_at_ms: Mapped[int] = mapped_column(BigInteger, comment="not before; backoff moves it")
    locked_until_ms: Mapped[int | None] = mapped_column(BigInteger)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    last_error: Mapped[str | None] = mapped_column(Text)


class StatementSeqFloor(Base):
    """SQLite only: the highest statement ``seq`` handed out, kept when statements are deleted.

    SQLite numbers statements MAX(seq) + 1 (``lrs.sql.next_seqs``); once the newest statements
    are deleted (erasure, retention) that would hand their numbers out again, behind the cursors
    that read statements in ``seq`` order (the facts projection, forwarding). One row, id 1.
    """

    __tablename__ = "statement_seq_floor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)


class AuthFailure(Base):
    """Failed credential checks of one counter in its current window (``lrs.throttle``)."""

    __tablename__ = "auth_failures"

    name: Mapped[str] = mapped_column(
        String(400), primary_key=True, comment="scope:kind:who[:address]"
    )
    window_start_ms: Mapped[int] = mapped_column(BigInteger)
    failures: Mapped[int] = mapped_column(Integer)
