"""Per-store sign-in settings and the email domains that route a sign-in to a store."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from lrs.models import Base


class SignInSettings(Base):
    """How a store's people sign in. No row: passwords only, no single sign-on."""

    __tablename__ = "sign_in_settings"

    store_id: Mapped[int] = mapped_column(
        ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True
    )
    password_enabled: Mapped[bool] = mapped_column(
        Boolean, default=True, comment="false: pages and POST /api/tokens refuse passwords"
    )
    oidc_issuer: Mapped[str | None] = mapped_column(
        String(500), comment="https issuer; its /.well-known/openid-configuration is read"
    )
    oidc_client_id: Mapped[str | None] = mapped_column(String(500))
    oidc_client_secret: Mapped[str | None] = mapped_column(
        Text, comment="AES-GCM sealed under LEARNLOOP_SECRET_KEY (directory.sign_in.services)"
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class SignInDomain(Base):
    """An email domain of a store: it routes sign-ins there, and limits single sign-on.

    A domain belongs to one store at most (the primary key), so routing never guesses.
    """

    __tablename__ = "sign_in_domains"

    domain: Mapped[str] = mapped_column(String(253), primary_key=True, comment="lower-case")
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0, comment="order shown")
