"""Retention: a store keeps raw statements for N months; the worker deletes older ones.

A policy is set (admin page, ``learnloop retention set``) after seeing how many statements it
would delete now. Setting it leaves a ``retention`` job; the worker runs it, deletes expired
statements oldest first in batches (each batch its own short write transaction, so writers are
never held up for long), then leaves the next run for a day later: a job that re-enqueues
itself with a ``run_at`` in the future. Removing the policy ends the chain at its next run.

"Keep aggregates" (the default) keeps the learning facts the objectives count, so progress,
"met" and counts stay when the raw statements go; to make that true, it deletes only
statements the facts projection has already read. Without it, the facts go with them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from directory.governance.models import RetentionPolicy
from directory.governance.rows import delete_statements
from lrs import audit, partitions, queue
from lrs.catalogue import M_, at
from lrs.core.attachments import referenced_hashes
from lrs.db import read_transaction, write_transaction
from lrs.errors import BadRequest, FieldError, NotFound
from lrs.sql import lock_store_for_writing, marks, run

#: The job kind the worker runs (registered by the shell in ``learnloop.app``).
RETENTION = "retention"
INTERVAL_MS = 24 * 3600 * 1000
BATCH = 1000
MAX_MONTHS = 1200


@dataclass(frozen=True)
class PolicyView:
    keep_months: int
    keep_aggregates: bool
    last_run_ms: int | None
    last_deleted: int


def utc(ms: int) -> str:
    """An ms timestamp in words: ``2026-12-02 08:40 UTC``."""
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def cutoff_ms(now_ms: int, months: int) -> int:
    """The instant N calendar months before ``now_ms`` (the day clamped to the month's end)."""
    now = dt.datetime.fromtimestamp(now_ms / 1000, dt.UTC)
    total = now.year * 12 + now.month - 1 - months
    year, month = divmod(total, 12)
    month += 1
    day = now.day
    while True:
        try:
            then = now.replace(year=year, month=month, day=day)
            break
        except ValueError:
            day -= 1
    return int(then.timestamp() * 1000)


def check_months(months: int) -> int:
    if not 1 <= months <= MAX_MONTHS:
        message = M_("must be a whole number of months from 1 to %(max)s", max=MAX_MONTHS)
        raise BadRequest(
            at("keep_months", message),
            [FieldError("keep_months", message)],
        )
    return months


def _where(session: Session, store_id: int, cutoff: int, keep_aggregates: bool):
    """The condition on ``statements`` of what a policy deletes now."""
    sql = "store_id = ? AND stored_ms < ?"
    params: list = [store_id, cutoff]
    if keep_aggregates:  # only what the facts projection has counted already
        sql += (
            " AND seq <= (SELECT COALESCE(MAX(last_seq), 0) FROM projection_cursors "
            "WHERE store_id = ?)"
        )
        params.append(store_id)
    return sql, params


def count_expiring(
    session: Session, store_id: int, months: int, keep_aggregates: bool, now_ms: int
) -> int:
    """How many statements a policy of ``months`` would delete if it ran now."""
    sql, params = _where(
        session, store_id, cutoff_ms(now_ms, check_months(months)), keep_aggregates
    )
    return run(session, f"SELECT COUNT(*) FROM statements WHERE {sql}", params).scalar()


def get_policy(session: Session, store_id: int) -> PolicyView | None:
    row = session.get(RetentionPolicy, store_id)
    if row is None:
        return None
    return PolicyView(row.keep_months, row.keep_aggregates, row.last_run_ms, row.last_deleted)


def set_policy(
    session: Session, store_id: int, months: int, keep_aggregates: bool, now_ms: int
) -> int:
    """Save the store's policy and schedule its first run now; returns how many would go."""
    expiring = count_expiring(session, store_id, months, keep_aggregates, now_ms)
    row = session.get(RetentionPolicy, store_id)
    if row is None:
        row = RetentionPolicy(store_id=store_id, last_deleted=0)
        session.add(row)
    row.keep_months = months
    row.keep_aggregates = keep_aggregates
    row.updated_ms = now_ms
    session.flush()
    audit.record(
        session,
        "retention.set",
        store_id=store_id,
        target=audit.Target("retention", store_id, f"keep statements {months} months"),
        details={
            "keep_months": months,
            "keep_aggregates": keep_aggregates,
            "expiring_now": expiring,
        },
        now_ms=now_ms,
    )
    run(  # the next run is now, not whenever the previous policy's run was due
        session,
        "DELETE FROM jobs WHERE kind = ? AND key = ? AND state = 'pending'",
        [RETENTION, f"retention:{store_id}"],
    )
    schedule(session, store_id, now_ms, delay_ms=0)
    return expiring


def clear_policy(session: Session, store_id: int, now_ms: int) -> None:
    """Keep statements for ever again; NotFound when the store has no policy."""
    row = session.get(RetentionPolicy, store_id)
    if row is None:
        raise NotFound(M_("this store has no retention policy"))
    session.delete(row)
    session.flush()
    audit.record(
        session,
        "retention.cleared",
        store_id=store_id,
        target=audit.Target("retention", store_id, "keep statements for ever"),
        now_ms=now_ms,
    )


def next_run_ms(session: Session, store_id: int) -> int | None:
    """When the worker applies the store's policy next (None: no run is waiting)."""
    return run(
        session,
        "SELECT MIN(run_at_ms) FROM jobs WHERE kind = ? AND key = ? AND state = 'pending'",
        [RETENTION, f"retention:{store_id}"],
    ).scalar()


def schedule(session: Session, store_id: int, now_ms: int, delay_ms: int = INTERVAL_MS) -> None:
    queue.enqueue(
        session, store_id, RETENTION, f"retention:{store_id}", now_ms=now_ms, delay_ms=delay_ms
    )


def delete_batch(session: Session, store_id: int, cutoff: int, keep_aggregates: bool) -> int:
    """Delete up to ``BATCH`` expired statements, oldest first; returns how many went."""
    lock_store_for_writing(session, store_id)
    sql, params = _where(session, store_id, cutoff, keep_aggregates)
    rows = run(
        session,
        f"SELECT seq, stored_ms, payload, voiding, object_ref FROM statements WHERE {sql} "
        f"ORDER BY stored_ms, seq LIMIT {BATCH}",
        params,
    ).all()
    if not rows:
        return 0
    hashes: set[str] = set()
    targets: set[str] = set()
    for _, _, payload, voiding, object_ref in rows:
        if '"attachments"' in payload:
            hashes.update(referenced_hashes(json.loads(payload)))
        if voiding and object_ref:
            targets.add(object_ref)
    delete_statements(
        session,
        store_id,
        [(seq, stored_ms, payload, ref) for seq, stored_ms, payload, _, ref in rows],
        facts=not keep_aggregates,
    )
    if targets:  # a newer statement whose voiding statement expired is voided no more
        run(
            session,
            f"UPDATE statements SET voided = ? WHERE store_id = ? "
            f"AND statement_id IN ({marks(len(targets))}) AND NOT EXISTS (SELECT 1 FROM "
            f"statements v WHERE v.store_id = statements.store_id AND v.voiding = ? "
            f"AND v.object_ref = statements.statement_id)",
            [False, store_id, *sorted(targets), True],
        )
    contains = (
        "strpos(payload, ?) > 0"
        if session.get_bind().dialect.name == "postgresql"
        else "instr(payload, ?) > 0"
    )
    for sha2 in sorted(hashes):
        if (
            run(
                session,
                f"SELECT 1 FROM statements WHERE store_id = ? AND {contains} LIMIT 1",
                [store_id, sha2],
            ).first()
            is None
        ):
            run(
                session, "DELETE FROM attachments WHERE store_id = ? AND sha2 = ?", [store_id, sha2]
            )
    return len(rows)


def drop_expired_months(session: Session, store_id: int, now_ms: int) -> int:
    """PostgreSQL: drop whole months every statement of which is past its store's policy.

    Far cheaper than deleting them row by row (no dead rows to vacuum, no index entries to
    remove); a month that holds a statement some policy keeps is left to row-wise deletion.
    Returns how many of ``store_id``'s statements went.
    """
    if not partitions.is_partitioned(session):
        return 0
    policies = session.query(RetentionPolicy).all()
    cutoffs = {p.store_id: cutoff_ms(now_ms, p.keep_months) for p in policies}
    read = dict(
        run(
            session, "SELECT store_id, MAX(last_seq) FROM projection_cursors GROUP BY store_id"
        ).all()
    )
    facts_read = {p.store_id: read.get(p.store_id, 0) for p in policies if p.keep_aggregates}
    months = partitions.droppable(session, cutoffs, facts_read)
    if not months:
        return 0
    for store in sorted(cutoffs):  # one order, so two droppers never deadlock
        lock_store_for_writing(session, store)
    gone = 0
    for month in months:
        # A store's facts go with its statements unless its policy keeps aggregates.
        counts = partitions.drop(session, month, keep_facts_of=set(facts_read))
        gone += counts.get(store_id, 0)
    return gone


def apply_policy(
    sessions: sessionmaker[Session], store_id: int, clock: Callable[[], int]
) -> int | None:
    """Run the store's policy now, batch by batch; None when it has none. Schedules the next."""
    with read_transaction(sessions) as session:
        policy = get_policy(session, store_id)
    if policy is None:
        return None
    started = clock()
    cutoff = cutoff_ms(started, policy.keep_months)
    with write_transaction(sessions) as session:
        deleted = drop_expired_months(session, store_id, started)
    while True:
        with write_transaction(sessions) as session:
            went = delete_batch(session, store_id, cutoff, policy.keep_aggregates)
        deleted += went
        if went < BATCH:
            break
    with write_transaction(sessions) as session:
        row = session.get(RetentionPolicy, store_id)
        if row is not None:  # removed meanwhile: the chain ends here
            row.last_run_ms = started
            row.last_deleted = deleted
            schedule(session, store_id, clock())
    return deleted
