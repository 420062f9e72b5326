"""The audit trail: who did which administrative action, when, from where (issue 16).

A service that changes something an administrator answers for (a credential, an account's role,
an LMS registration, a connector, an objective…) calls ``record`` with the session it changed
it in, so the row is written in the same transaction: an audit row exists exactly when the
change committed, and a rolled-back change leaves none.

Who and from where are not parameters: they come from the context, so the CLI, the pages, the
API and SCIM all record through the same service call.

- In a Flask request: the actor a higher floor declared with ``set_actor`` (the signed-in
  account, a SCIM client, an LMS's dynamic registration), else the xAPI credential the request
  authenticated with (``g.principal``), else "signed-out request"; the address is
  ``request.remote_addr`` (already corrected by the trusted-proxy middleware) and the request
  id is ``g.request_id`` (made here when no one has made it yet, so a later 500 quotes it too).
- Outside a request (a ``learnloop`` command, a worker): ``command line (<os user>@<host>)``.
- ``acting_as(actor)`` overrides both for a block (tests, a command acting for someone).

Details are JSON for people to read; they never hold a secret, a password, a token or key
material: ``record`` refuses a detail whose name says it is one, and callers pass only
identifiers and labels.
"""

from __future__ import annotations

import contextvars
import csv
import datetime as dt
import getpass
import io
import json
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import g, has_request_context, request
from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from lrs.errors import BadRequest
from lrs.models import Base, Seq


class AuditEvent(Base):
    """One administrative action. ``store_id`` is null only for instance-wide actions.

    Instance-wide actions (the LTI tool's signing keys, resealing secrets under a new instance
    secret) belong to no organisation; everything else, creating a store included, belongs to
    the store it concerns, so its administrators read it on their page.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_store_order", "store_id", "id"),
        Index("ix_audit_events_store_action", "store_id", "action", "id"),
    )

    id: Mapped[int] = mapped_column(Seq, primary_key=True, autoincrement=True)
    store_id: Mapped[int | None] = mapped_column(
        ForeignKey("stores.id", ondelete="CASCADE"), comment="null: instance-wide"
    )
    occurred_at_ms: Mapped[int] = mapped_column(BigInteger, comment="ms since the epoch, UTC")
    actor_kind: Mapped[str] = mapped_column(
        String(20), comment="account, credential, scim, lms, command_line, anonymous"
    )
    actor_id: Mapped[str] = mapped_column(
        String(200), default="", comment="account id, credential key, SCIM token id, os user@host"
    )
    actor_label: Mapped[str] = mapped_column(String(400), comment="who, in words")
    address: Mapped[str] = mapped_column(
        String(100), comment="client IP after trusted proxies, or 'command line'"
    )
    action: Mapped[str] = mapped_column(String(100), comment="dotted: credential.revoked")
    target_kind: Mapped[str] = mapped_column(String(50), default="")
    target_id: Mapped[str] = mapped_column(String(200), default="")
    target_label: Mapped[str] = mapped_column(String(400), default="")
    details: Mapped[str] = mapped_column(Text, default="{}", comment="JSON; never secrets")
    request_id: Mapped[str | None] = mapped_column(String(128))


@dataclass(frozen=True)
class Actor:
    """Who acts: a kind (account, credential, scim, lms, command_line, anonymous), an id, words."""

    kind: str
    id: str
    label: str


@dataclass(frozen=True)
class Target:
    """What an action is about: a kind (credential, account, …), its id and a label."""

    kind: str
    id: str | int
    label: str = ""


COMMAND_LINE = "command line"
_explicit: contextvars.ContextVar[Actor | None] = contextvars.ContextVar(
    "learnloop_audit_actor", default=None
)
#: Words a detail's name must not hold when its value is text: it would be a secret in clear.
_SECRET_WORDS = ("secret", "password", "token", "private", "credential_hash", "key_material")


def command_line_actor() -> Actor:
    """``command line (user@host)``: a ``learnloop`` command or worker of this machine."""
    try:
        user = getpass.getuser()
    except Exception:  # no login name (a container without passwd entry)
        user = "unknown"
    who = f"{user}@{socket.gethostname()}"
    return Actor("command_line", who, f"{COMMAND_LINE} ({who})")


def account_actor(account_id: int, email: str) -> Actor:
    return Actor("account", str(account_id), f"account {account_id} ({email})")


def set_actor(actor: Actor) -> None:
    """Declare who the current request acts for (once its caller is known).

    Outside a request this does nothing: a command is the command line's, whatever viewer
    it builds to call a service.
    """
    if has_request_context():
        g.audit_actor = actor


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    """Record the block's actions as ``actor``'s, inside or outside a request."""
    token = _explicit.set(actor)
    try:
        yield actor
    finally:
        _explicit.reset(token)


def current_actor() -> Actor:
    explicit = _explicit.get()
    if explicit is not None:
        return explicit
    if has_request_context():
        declared = g.get("audit_actor")
        if declared is not None:
            return declared
        principal = g.get("principal")
        if principal is not None:
            return Actor("credential", principal.key, f"credential {principal.key}")
        return Actor("anonymous", "", "signed-out request")
    return command_line_actor()


def _address_and_request() -> tuple[str, str | None]:
    if not has_request_context():
        return COMMAND_LINE, None
    rid = g.get("request_id")
    if rid is None:
        rid = g.request_id = uuid.uuid4().hex
    return (request.remote_addr or "unknown")[:100], rid


def _check_details(details: dict) -> None:
    for name, value in details.items():
        lowered = name.lower()
        # A text under a secret's name (flags such as password_enabled are fine).
        if isinstance(value, str) and any(word in lowered for word in _SECRET_WORDS):
            raise ValueError(f"audit details must not hold secrets: {name!r}")
        if isinstance(value, dict):
            _check_details(value)


def record(
    session: Session,
    action: str,
    *,
    store_id: int | None,
    target: Target | None = None,
    details: dict | None = None,
    now_ms: int | None = None,
) -> AuditEvent:
    """Add the audit row of ``action`` to the caller's transaction (flushed, not committed).

    ``store_id`` None is for instance-wide actions only. Raises ValueError if a detail is
    named like a secret (a programming error: secrets never reach the trail).
    """
    details = details or {}
    _check_details(details)
    actor = current_actor()
    address, request_id = _address_and_request()
    event = AuditEvent(
        store_id=store_id,
        occurred_at_ms=now_ms if now_ms is not None else int(time.time() * 1000),
        actor_kind=actor.kind,
        actor_id=actor.id[:200],
        actor_label=actor.label[:400],
        address=address,
        action=action,
        target_kind=target.kind if target else "",
        target_id=str(target.id)[:200] if target else "",
        target_label=target.label[:400] if target else "",
        details=json.dumps(details, separators=(",", ":"), sort_keys=True, default=str),
        request_id=request_id,
    )
    session.add(event)
    session.flush()
    return event


# --- reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilter:
    """Which events to read. ``store_id`` None: every store and the instance-wide events.

    ``action``: an exact action, or a family (``credential`` matches ``credential.created``…);
    ``actor``: words found in the actor's label (case-insensitive); ``since_ms``: not before.
    """

    store_id: int | None = None
    action: str = ""
    actor: str = ""
    since_ms: int | None = None
    all_stores: bool = False


def filter_of(store_id: int, action: str = "", actor: str = "") -> AuditFilter:
    """The filter of a page or API query; BadRequest naming a parameter that cannot be one.

    Control characters are refused (PostgreSQL cannot even compare a text holding NUL).
    """
    action, actor = action or "", actor or ""
    for name, value, limit in (("action", action, 100), ("actor", actor, 200)):
        if len(value) > limit:
            raise BadRequest(f"{name}: at most {limit} characters")
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise BadRequest(f"{name}: must not contain control characters")
    return AuditFilter(store_id=store_id, action=action.strip(), actor=actor.strip())


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _query(where: AuditFilter, before_id: int | None, limit: int):
    query = select(AuditEvent)
    if not where.all_stores:
        query = query.where(AuditEvent.store_id == where.store_id)
    if where.action:
        family = _like_escape(where.action.rstrip(".")) + ".%"
        query = query.where(
            or_(AuditEvent.action == where.action, AuditEvent.action.like(family, escape="\\"))
        )
    if where.actor:
        pattern = "%" + _like_escape(where.actor.lower()) + "%"
        query = query.where(AuditEvent.actor_label.ilike(pattern, escape="\\"))
    if where.since_ms is not None:
        query = query.where(AuditEvent.occurred_at_ms >= where.since_ms)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    return query.order_by(AuditEvent.id.desc()).limit(limit)


def list_events(
    session: Session, where: AuditFilter, *, before_id: int | None = None, limit: int = 50
) -> tuple[list[AuditEvent], int | None]:
    """One page, newest first, and the ``before`` key of the next page (None: no more).

    Keyset paging on the row id (the order rows were written in): fetch ``limit + 1``; the
    extra row says there is a next page, starting below the last row shown.
    """
    rows = list(session.scalars(_query(where, before_id, limit + 1)))
    if len(rows) > limit:
        return rows[:limit], rows[limit - 1].id
    return rows, None


def iter_events(session: Session, where: AuditFilter, batch: int = 500) -> Iterator[AuditEvent]:
    """Every matching event, newest first, read a keyset batch at a time (for exports)."""
    before = None
    while True:
        rows, before = list_events(session, where, before_id=before, limit=batch)
        yield from rows
        if before is None:
            return


def known_actions(session: Session, store_id: int) -> list[str]:
    """The actions the store's trail holds, for a filter's choices."""
    return list(
        session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.store_id == store_id)
            .distinct()
            .order_by(AuditEvent.action)
        )
    )


def utc_text(ms: int) -> str:
    """``2026-12-02T07:45:00.123Z``: an event's time in UTC, as the exports write it."""
    moment = dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


EXPORT_FIELDS = (
    "id",
    "occurred_at",
    "store_id",
    "actor_kind",
    "actor_id",
    "actor",
    "address",
    "action",
    "target_kind",
    "target_id",
    "target",
    "details",
    "request_id",
)


def event_json(event: AuditEvent) -> dict:
    """An event as the API and the JSON Lines export give it."""
    return {
        "id": event.id,
        "occurred_at": utc_text(event.occurred_at_ms),
        "store_id": event.store_id,
        "actor_kind": event.actor_kind,
        "actor_id": event.actor_id,
        "actor": event.actor_label,
        "address": event.address,
        "action": event.action,
        "target_kind": event.target_kind,
        "target_id": event.target_id,
        "target": event.target_label,
        "details": json.loads(event.details or "{}"),
        "request_id": event.request_id,
    }


def jsonl_lines(events: Iterator[AuditEvent]) -> Iterator[str]:
    """One JSON object per line, per event."""
    for event in events:
        yield json.dumps(event_json(event), separators=(",", ":"), ensure_ascii=False) + "\n"


def _csv_cell(value) -> str:
    if isinstance(value, int):
        return str(value)
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    # A cell a spreadsheet would run as a formula is quoted with an apostrophe (CSV injection).
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def csv_lines(events: Iterator[AuditEvent]) -> Iterator[str]:
    """A header line, then one CSV line per event (details as JSON in one cell)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def take(row) -> str:
        writer.writerow(row)
        line = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return line

    yield take(EXPORT_FIELDS)
    for event in events:
        data = event_json(event)
        yield take(["" if data[name] is None else _csv_cell(data[name]) for name in EXPORT_FIELDS])
