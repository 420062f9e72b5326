"""The directory's own tables: one-time links that let an invited account set its password."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from lrs.models import Base


class AccountLink(Base):
    """A one-time link to set an account's password: an invitation or a reset.

    Only the SHA-256 of the token is stored; the link works once, until ``expires_at``.
    """

    __tablename__ = "account_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, comment="SHA-256 of the token")
    purpose: Mapped[str] = mapped_column(String(20), comment="invite or reset")
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
