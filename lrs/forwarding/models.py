"""Forwarding destinations and their rules."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lrs.models import Base

ACTIVE = "active"
DEAD = "dead"
PAUSED = "paused"
BASIC = "basic"
OAUTH = "oauth"


class Destination(Base):
    """Another xAPI endpoint that receives a store's matching statements, in stored order."""

    __tablename__ = "forward_destinations"
    __table_args__ = (UniqueConstraint("store_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    endpoint: Mapped[str] = mapped_column(String(2000), comment="xAPI base URL, no /statements")
    auth: Mapped[str] = mapped_column(String(10), comment="basic, oauth")
    username: Mapped[str] = mapped_column(String(400), comment="Basic key or OAuth client id")
    secret_sealed: Mapped[str] = mapped_column(Text, comment="lrs.sealing, context forward:<id>")
    token_url: Mapped[str] = mapped_column(String(2000), default="", comment="OAuth only")
    scope: Mapped[str] = mapped_column(String(400), default="", comment="OAuth scope asked")
    version: Mapped[str] = mapped_column(String(16), default="2.0.0", comment="xAPI version sent")
    state: Mapped[str] = mapped_column(String(10), default=ACTIVE, comment="active, paused, dead")
    cursor_seq: Mapped[int] = mapped_column(
        BigInteger, default=0, comment="last statements.seq this destination is past"
    )
    failures: Mapped[int] = mapped_column(Integer, default=0, comment="failed attempts in a row")
    next_attempt_ms: Mapped[int] = mapped_column(BigInteger, default=0, comment="backoff")
    last_error: Mapped[str] = mapped_column(Text, default="")
    delivered: Mapped[int] = mapped_column(BigInteger, default=0, comment="statements accepted")
    created_ms: Mapped[int] = mapped_column(BigInteger)


class Rule(Base):
    """One filter of a destination: every field given must match (empty fields match all).

    A statement goes to the destination when any of its rules matches.
    """

    __tablename__ = "forward_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    destination_id: Mapped[int] = mapped_column(
        ForeignKey("forward_destinations.id", ondelete="CASCADE"), index=True
    )
    verb: Mapped[str] = mapped_column(String(2000), default="", comment="verb IRI, exact")
    activity_prefix: Mapped[str] = mapped_column(String(2000), default="")
    source: Mapped[str] = mapped_column(String(50), default="", comment="xapi, lti, connector...")
    actor_domain: Mapped[str] = mapped_column(String(255), default="", comment="mbox domain")
