"""The durable work queue: jobs written in the same transaction as the event that causes them.

A transactional outbox in the ``jobs`` table. Writers call ``enqueue`` inside their write
transaction, so a job exists exactly when its event committed, and nothing is lost if a
process dies between the commit and the work. Workers ``claim`` a due job (PostgreSQL:
``FOR UPDATE SKIP LOCKED``, so any number of workers on any number of machines take distinct
jobs; SQLite: its single write lock), run it outside the claim's transaction, then ``finish``
it or ``retry`` it with exponential backoff until it ends ``failed``. A claim is a lease: the
job of a worker that died is claimed again once ``locked_until_ms`` has passed.

Idle workers poll (a due-job lookup on a small indexed table, a few times a second).
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exc
from sqlalchemy.orm import Session, sessionmaker

from lrs.db import write_transaction
from lrs.sql import run

#: Kind of the job every committed batch of statements leaves: "store S has new statements".
STATEMENTS = "statements"
#: "What counts for person P changed": an identity linked, people merged, an objective attached.
PERSON = "person"
#: "Something happened that people may hear about": the notifications floor tells them.
NOTIFY = "notify"
#: A statements job waits this long before it can be claimed, so the batches committed meanwhile
#: join it and the worker counts them in one transaction instead of one each (under a stream of
#: single POSTs a busy worker would otherwise take the write lock three times per statement).
STATEMENTS_DELAY_MS = 150
BACKOFF_BASE_MS = 2_000
BACKOFF_CAP_MS = 15 * 60_000


@dataclass(frozen=True)
class ClaimedJob:
    """A job a worker holds until ``locked_until_ms``."""

    id: int
    store_id: int
    kind: str
    key: str
    payload: dict[str, Any]
    attempts: int


class JobFailed(Exception):
    """Raised by a job's handler: ``permanent`` ends it at once, otherwise it is retried.

    ``message`` says the real cause in words an administrator can act on; it is stored as the
    job's last error (never a secret, never a platform's whole body).
    """

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent


def enqueue(
    session: Session,
    store_id: int,
    kind: str,
    key: str,
    payload: dict[str, Any] | None = None,
    *,
    now_ms: int,
    delay_ms: int = 0,
    replace: bool = False,
) -> None:
    """Add a job in the caller's write transaction.

    A pending job of the same kind and key absorbs it: its handler reads the current state when
    it runs, so nothing is missed; with ``replace`` the pending job takes the new payload.
    """
    on_conflict = "DO UPDATE SET payload = excluded.payload" if replace else "DO NOTHING"
    run(
        session,
        "INSERT INTO jobs (store_id, kind, key, payload, state, attempts, run_at_ms, created_ms) "
        "VALUES (?, ?, ?, ?, 'pending', 0, ?, ?) "
        f"ON CONFLICT (kind, key) WHERE state = 'pending' {on_conflict}",
        [store_id, kind, key, json.dumps(payload or {}), now_ms + delay_ms, now_ms],
    )


def statements_stored(session: Session, store_id: int, now_ms: int) -> None:
    """Leave the job of a committed batch ("store S has new statements").

    Its consumers read from their own cursors, so one pending job per store says it all.
    """
    enqueue(
        session,
        store_id,
        STATEMENTS,
        f"store:{store_id}",
        now_ms=now_ms,
        delay_ms=STATEMENTS_DELAY_MS,
    )


def person_changed(
    session: Session, store_id: int, person_id: int, now_ms: int | None = None
) -> None:
    """Leave the job that re-reads what counts for one person."""
    enqueue(
        session,
        store_id,
        PERSON,
        f"person:{person_id}",
        {"person": person_id},
        now_ms=int(time.time() * 1000) if now_ms is None else now_ms,
    )


def notify(
    session: Session, store_id: int, event: str, data: dict[str, Any], now_ms: int | None = None
) -> None:
    """Leave an event for the notifications (inbox, e-mail, chat) in the caller's transaction.

    ``event`` names a kind the notifications floor knows (``notifications.kinds``); ``data``
    holds the ids it reads when the worker runs (never names: they may change meanwhile).
    """
    enqueue(
        session,
        store_id,
        NOTIFY,
        f"notify:{uuid.uuid4().hex}",
        {"event": event, **data},
        now_ms=int(time.time() * 1000) if now_ms is None else now_ms,
    )


def claim(
    sessions: sessionmaker[Session], now_ms: int, lease_ms: int, kinds: tuple[str, ...] = ()
) -> ClaimedJob | None:
    """Take the oldest due job (or one whose worker's lease ran out); None when there is none."""
    kind_filter = f" AND kind IN ({', '.join('?' * len(kinds))})" if kinds else ""
    with write_transaction(sessions) as session:
        skip_locked = (
            " FOR UPDATE SKIP LOCKED" if session.get_bind().dialect.name == "postgresql" else ""
        )
        row = run(
            session,
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_until_ms = ? "
            "WHERE id = (SELECT id FROM jobs WHERE ((state = 'pending' AND run_at_ms <= ?) "
            f"OR (state = 'running' AND locked_until_ms < ?)){kind_filter} "
            f"ORDER BY run_at_ms, id LIMIT 1{skip_locked}) "
            "RETURNING id, store_id, kind, key, payload, attempts",
            [now_ms + lease_ms, now_ms, now_ms, *kinds],
        ).first()
    if row is None:
        return None
    return ClaimedJob(row[0], row[1], row[2], row[3], json.loads(row[4] or "{}"), row[5])


def finish(sessions: sessionmaker[Session], job: ClaimedJob) -> None:
    """The job is done: it leaves the table."""
    with write_transaction(sessions) as session:
        run(session, "DELETE FROM jobs WHERE id = ?", [job.id])


def backoff_ms(attempts: int, base_ms: int = BACKOFF_BASE_MS) -> int:
    """Exponential backoff: base, 2×base, 4×base, … capped at 15 minutes."""
    return min(base_ms * 2 ** max(attempts - 1, 0), BACKOFF_CAP_MS)


def retry(
    sessions: sessionmaker[Session],
    job: ClaimedJob,
    error: str,
    now_ms: int,
    *,
    max_attempts: int,
    base_ms: int = BACKOFF_BASE_MS,
    permanent: bool = False,
) -> str:
    """Put a failed job back with backoff, or end it ``failed``; returns the new state.

    A job put back while a newer pending one of the same key waits is simply dropped: the newer
    one does the same work.
    """
    error = error[:2000]
    if permanent or job.attempts >= max_attempts:
        with write_transaction(sessions) as session:
            run(
                session,
                "UPDATE jobs SET state = 'failed', locked_until_ms = NULL, last_error = ? "
                "WHERE id = ?",
                [error, job.id],
            )
        return "failed"
    for _ in range(2):
        try:
            with write_transaction(sessions) as session:
                dropped = run(
                    session,
                    "DELETE FROM jobs WHERE id = ? AND EXISTS (SELECT 1 FROM jobs o WHERE "
                    "o.kind = ? AND o.key = ? AND o.state = 'pending')",
                    [job.id, job.kind, job.key],
                ).rowcount
                if dropped:
                    return "superseded"
                run(
                    session,
                    "UPDATE jobs SET state = 'pending', locked_until_ms = NULL, run_at_ms = ?, "
                    "last_error = ? WHERE id = ?",
                    [now_ms + backoff_ms(job.attempts, base_ms), error, job.id],
                )
            return "pending"
        except exc.IntegrityError:  # a pending twin appeared meanwhile: drop this one
            continue
    return "superseded"
