"""Connectors and the deliveries they received. Every row belongs to a store."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from lrs.models import Base


class Connector(Base):
    """One webhook receiver (``/connectors/<kind>/<id>``) of one store, with its own secret."""

    __tablename__ = "connectors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20), comment="github, gitlab or gerrit")
    label: Mapped[str] = mapped_column(String(200), default="")
    secret: Mapped[str] = mapped_column(
        String(500), comment="AES-GCM sealed under LEARNLOOP_SECRET_KEY (connectors.crypto)"
    )
    signing_token: Mapped[str | None] = mapped_column(
        String(1000), comment="GitLab's signing token, sealed like secret"
    )
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class Delivery(Base):
    """A verified delivery, recorded once: a redelivery with the same id stores nothing new."""

    __tablename__ = "connector_deliveries"
    __table_args__ = (UniqueConstraint("connector_id", "delivery_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    connector_id: Mapped[int] = mapped_column(ForeignKey("connectors.id", ondelete="CASCADE"))
    delivery_id: Mapped[str] = mapped_column(String(200), comment="the forge's id of the delivery")
    event: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), comment="stored or ignored")
    note: Mapped[str] = mapped_column(Text, default="")
    statement_ids: Mapped[str] = mapped_column(Text, default="[]", comment="JSON array")
    received_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
