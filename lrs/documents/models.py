"""The table of the Document Resources: one row per stored document, in every store.

State, Activity Profile and Agent Profile documents share it, told apart by ``kind``. A scope
(activity + agent IFI + registration, an activity, or an agent) is addressed by ``scope_key``,
a SHA-256 of its parts, so index rows stay small whatever the length of an IRI; the parts are
kept beside it for people and for future queries.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from lrs.models import Base, Seq


class Document(Base):
    """A stored document: bytes exactly as received, their content type, ETag and update time."""

    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("store_id", "kind", "scope_key", "document_id"),
        # Serves the id lists, ``since`` included, as a range scan within one scope.
        Index("ix_documents_scope_updated", "store_id", "kind", "scope_key", "updated_ms"),
    )

    id: Mapped[int] = mapped_column(Seq, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(
        String(16), comment="state, activity_profile or agent_profile"
    )
    scope_key: Mapped[str] = mapped_column(
        String(64), comment="SHA-256 hex of kind, activity id, agent IFI, registration"
    )
    activity_id: Mapped[str | None] = mapped_column(Text)
    agent_ifi: Mapped[str | None] = mapped_column(Text, comment="lrs.core.agents.ifi_string")
    registration: Mapped[str | None] = mapped_column(String(36), comment="lower-case UUID")
    document_id: Mapped[str] = mapped_column(Text, comment="stateId or profileId")
    content_type: Mapped[str] = mapped_column(Text)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    etag: Mapped[str] = mapped_column(String(42), comment="quoted SHA-1 hex of content")
    updated_ms: Mapped[int] = mapped_column(BigInteger, comment="updated, ms since the epoch")
