"""The tables of data governance: erasure records and retention policies."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lrs.models import Base, Seq


class ErasureRecord(Base):
    """That a person was erased: when, by whom, how much. It holds no personal data.

    ``identifier_hashes`` are keyed hashes (HMAC-SHA256 under the instance secret) of the erased
    identities, so an import that brings one back can be recognised without keeping it.
    """

    __tablename__ = "erasure_records"
    __table_args__ = (Index("ix_erasure_records_store", "store_id", "id"),)

    id: Mapped[int] = mapped_column(Seq, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    erased_at_ms: Mapped[int] = mapped_column(BigInteger, comment="ms since the epoch, UTC")
    actor_kind: Mapped[str] = mapped_column(String(20), comment="account, command_line, …")
    actor_id: Mapped[str] = mapped_column(String(200), comment="account id, os user@host")
    counts: Mapped[str] = mapped_column(Text, comment="JSON: rows erased per kind")
    identifier_hashes: Mapped[str] = mapped_column(
        Text, comment="JSON list of HMAC-SHA256 hex of each erased identity"
    )


class RetentionPolicy(Base):
    """How long a store keeps raw statements; the worker applies it on a schedule."""

    __tablename__ = "retention_policies"

    store_id: Mapped[int] = mapped_column(
        ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True
    )
    keep_months: Mapped[int] = mapped_column(Integer, comment="statements older go")
    keep_aggregates: Mapped[bool] = mapped_column(
        Boolean, default=True, comment="learning facts (progress, met) stay when statements go"
    )
    updated_ms: Mapped[int] = mapped_column(BigInteger)
    last_run_ms: Mapped[int | None] = mapped_column(BigInteger)
    last_deleted: Mapped[int] = mapped_column(BigInteger, default=0, comment="at the last run")
