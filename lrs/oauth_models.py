"""The table of OAuth 2.0 access tokens (``lrs.oauth``): one row per token, never the token.

A token is 32 random bytes; the row keeps its SHA-256, so a copy of the database authenticates
nobody, and a request's token is found with one lookup of the unique hash. The scopes are the
ones granted (a subset of the credential's); the store is the credential's.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from lrs.models import Base


class OAuthToken(Base):
    """A bearer token issued to a credential by ``POST /oauth/token`` (client credentials)."""

    __tablename__ = "oauth_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    credential_id: Mapped[int] = mapped_column(
        ForeignKey("credentials.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, comment="SHA-256, hex")
    scopes: Mapped[str] = mapped_column(String(500), comment="space-separated xAPI scopes")
    issued_ms: Mapped[int] = mapped_column(BigInteger)
    expires_ms: Mapped[int] = mapped_column(BigInteger)
    revoked_ms: Mapped[int | None] = mapped_column(BigInteger)
