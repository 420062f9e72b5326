"""The delivery log shared by statement forwarding and outbound webhooks (issue 17).

One row per attempt to hand something to someone else's server: a batch of statements to a
forwarding destination (``channel = 'forward'``) or one event to a webhook endpoint
(``channel = 'webhook'``). It says when, what (the statements' stored sequence range, or the
event's id and type), the answer (HTTP status, or 0 when none came) and the outcome in words an
administrator can act on. Rows are written by the worker in the transaction that records the
attempt's consequence (the cursor moved, the retry planned), so the log and the state agree.

The log is for reading, never for deciding (cursors and jobs hold the state): the worker's
hourly upkeep deletes attempts older than ``LEARNLOOP_DELIVERY_LOG_KEEP_DAYS`` (90 by default),
so a busy destination's log does not grow for ever.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from lrs.models import Base, Seq
from lrs.settings import from_env

FORWARD = "forward"
WEBHOOK = "webhook"
#: Outcomes: ``delivered`` (2xx, or an identical statement already there), ``retrying`` (a
#: failure that will be tried again), ``dead`` (forwarding stopped until an administrator
#: resumes), ``failed`` (a webhook event given up, or a test-send that failed).
OUTCOMES = ("delivered", "retrying", "dead", "failed")


class Delivery(Base):
    """One attempt to deliver statements or an event."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_target", "store_id", "channel", "target_id", "id"),)

    id: Mapped[int] = mapped_column(Seq, primary_key=True, autoincrement=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(10), comment="forward, webhook")
    target_id: Mapped[int] = mapped_column(Integer, comment="destination or endpoint id")
    occurred_ms: Mapped[int] = mapped_column(BigInteger, comment="ms since the epoch, UTC")
    outcome: Mapped[str] = mapped_column(String(10), comment="delivered, retrying, dead, ...")
    status: Mapped[int] = mapped_column(Integer, comment="the peer's HTTP status; 0: none")
    attempt: Mapped[int] = mapped_column(Integer)
    items: Mapped[int] = mapped_column(Integer, comment="statements in the batch; 1 event")
    first_seq: Mapped[int | None] = mapped_column(BigInteger, comment="forward: stored order")
    last_seq: Mapped[int | None] = mapped_column(BigInteger)
    event_id: Mapped[str | None] = mapped_column(String(100), comment="webhook-id")
    event_type: Mapped[str | None] = mapped_column(String(100))
    message: Mapped[str] = mapped_column(Text, default="", comment="what happened, in words")


@dataclass(frozen=True)
class Attempt:
    """What one attempt did, for ``record``."""

    outcome: str
    status: int
    attempt: int
    items: int
    message: str
    first_seq: int | None = None
    last_seq: int | None = None
    event_id: str | None = None
    event_type: str | None = None


def record(
    session: Session, store_id: int, channel: str, target_id: int, now_ms: int, attempt: Attempt
) -> None:
    """Add one row to the log in the caller's write transaction."""
    session.add(
        Delivery(
            store_id=store_id,
            channel=channel,
            target_id=target_id,
            occurred_ms=now_ms,
            outcome=attempt.outcome,
            status=attempt.status,
            attempt=attempt.attempt,
            items=attempt.items,
            first_seq=attempt.first_seq,
            last_seq=attempt.last_seq,
            event_id=attempt.event_id,
            event_type=attempt.event_type,
            message=attempt.message[:2000],
        )
    )


def recent(
    session: Session, store_id: int, channel: str, target_id: int | None = None, limit: int = 50
) -> list[Delivery]:
    """The newest ``limit`` attempts of a channel (of one target), newest first."""
    query = select(Delivery).where(Delivery.store_id == store_id, Delivery.channel == channel)
    if target_id is not None:
        query = query.where(Delivery.target_id == target_id)
    return list(session.scalars(query.order_by(Delivery.id.desc()).limit(limit)))


@dataclass(frozen=True)
class LogSettings:
    """How long the log keeps an attempt (``LEARNLOOP_DELIVERY_LOG_KEEP_DAYS``)."""

    keep_days: int = 90


def log_settings(environ: dict[str, str] | None = None) -> LogSettings:
    """The settings from the environment; ConfigError names a variable that does not parse."""
    return from_env(LogSettings, "LEARNLOOP_DELIVERY_LOG_", environ, {})


def prune(session: Session, now_ms: int, keep_days: int, batch: int = 10_000) -> int:
    """Delete up to ``batch`` attempts older than ``keep_days``; returns how many went.

    Ids grow with time, so the oldest are the lowest: the primary key finds them without a scan
    of the rest, and a long backlog goes a batch per upkeep.
    """
    cutoff = now_ms - keep_days * 86_400_000
    oldest = (
        select(Delivery.id).where(Delivery.occurred_ms < cutoff).order_by(Delivery.id).limit(batch)
    )
    gone = session.execute(delete(Delivery).where(Delivery.id.in_(oldest.scalar_subquery())))
    return gone.rowcount or 0
