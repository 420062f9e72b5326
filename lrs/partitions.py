"""Statements partitioned by month of ``stored`` on PostgreSQL (docs/scaling.md says why).

``statements`` and ``statement_index`` are both partitioned by RANGE of ``stored_ms``, one
partition per calendar month (UTC) and a DEFAULT partition that catches anything else, so a
write never fails for want of a partition. Every query path already bounds or orders by
``stored_ms`` (GET pages, the ``more`` cursor, since/until, retention), so PostgreSQL prunes to
the months a query can touch, and each month's indexes stay the size of one month.

The worker keeps the next months' partitions made ahead (``ensure``, hourly); retention drops
a month whole, with its index rows, when every statement in it is past its store's policy
(``droppable`` and ``drop``), instead of deleting it row by row. SQLite has one table and none
of this: every function here returns at once there.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from lrs.core.attachments import referenced_hashes
from lrs.core.jsontext import loads

#: The two tables partitioned alike; a month's statements and index rows go together.
TABLES = ("statements", "statement_index")
#: How many months ahead of now ``ensure`` keeps partitions made.
AHEAD_MONTHS = 3
_NAME = re.compile(r"^(statements|statement_index)_y(\d{4})m(\d{2})$")


@dataclass(frozen=True)
class Month:
    """One monthly partition's range: ``lo`` ≤ stored_ms < ``hi``."""

    year: int
    month: int

    @property
    def lo(self) -> int:
        return _ms(dt.datetime(self.year, self.month, 1, tzinfo=dt.UTC))

    @property
    def hi(self) -> int:
        return self.next().lo

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def name(self, table: str) -> str:
        return f"{table}_y{self.year:04d}m{self.month:02d}"

    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def _ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def month_of(ms: int) -> Month:
    moment = dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
    return Month(moment.year, moment.month)


def months_between(first: Month, last: Month) -> list[Month]:
    """Every month from ``first`` to ``last``, both included."""
    out, month = [], first
    while (month.year, month.month) <= (last.year, last.month):
        out.append(month)
        month = month.next()
    return out


def is_partitioned(session: Session) -> bool:
    """True on a PostgreSQL database whose ``statements`` is partitioned (migration 0025)."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return False
    return bool(
        connection.exec_driver_sql(
            "SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
            "WHERE c.relname = 'statements' AND c.relnamespace = current_schema()::regnamespace"
        ).first()
    )


def months(session: Session) -> list[Month]:
    """The monthly partitions of ``statements`` there are, oldest first."""
    rows = session.connection().exec_driver_sql(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'statements' "
        "AND p.relnamespace = current_schema()::regnamespace"
    )
    found = []
    for (name,) in rows:
        if match := _NAME.match(name):
            found.append(Month(int(match[2]), int(match[3])))
    return sorted(found, key=lambda m: (m.year, m.month))


def create(session: Session, month: Month) -> None:
    """Make ``month``'s partition of both tables, moving its rows out of DEFAULT if any.

    PostgreSQL refuses a new partition while DEFAULT holds rows of its range; those are moved
    into the new table before it is attached (a write stored under a clock outside the months
    made ahead, or a database that was not maintained for months).
    """
    connection = session.connection()
    for table in TABLES:
        name, default = month.name(table), f"{table}_default"
        # Our own names and integers, never input.
        connection.exec_driver_sql(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        if connection.exec_driver_sql("SELECT to_regclass(%s)", (name,)).scalar():
            continue  # another worker made it while this one waited for the lock
        moving = connection.exec_driver_sql(
            f"SELECT 1 FROM {default} WHERE stored_ms >= %s AND stored_ms < %s LIMIT 1",  # noqa: S608
            (month.lo, month.hi),
        ).first()
        if moving is None:
            connection.exec_driver_sql(
                f"CREATE TABLE {name} PARTITION OF {table} "
                f"FOR VALUES FROM ({month.lo}) TO ({month.hi})"
            )
            continue
        connection.exec_driver_sql(
            f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
        )
        connection.exec_driver_sql(
            f"WITH moved AS (DELETE FROM {default} WHERE stored_ms >= %s AND stored_ms < %s "  # noqa: S608
            f"RETURNING *) INSERT INTO {name} SELECT * FROM moved",
            (month.lo, month.hi),
        )
        connection.exec_driver_sql(
            f"ALTER TABLE {table} ATTACH PARTITION {name} "
            f"FOR VALUES FROM ({month.lo}) TO ({month.hi})"
        )


def ensure(session: Session, now_ms: int, ahead: int = AHEAD_MONTHS) -> list[Month]:
    """Make the partitions of this month and the next ``ahead`` months that are missing."""
    if not is_partitioned(session):
        return []
    have = set(months(session))
    this = month_of(now_ms)
    last = this
    for _ in range(ahead):
        last = last.next()
    made = []
    for month in months_between(this, last):
        if month not in have:
            create(session, month)
            made.append(month)
    return made


def droppable(session: Session, cutoffs: dict[int, int], facts_read: dict[int, int]) -> list[Month]:
    """Months whose every statement is past its store's retention cutoff.

    ``cutoffs``: store id → stored_ms before which its policy deletes; a store with rows in a
    month and no cutoff (no policy) keeps the month. ``facts_read``: for stores whose policy
    keeps aggregates, the last seq the facts projection has read; a month with a statement it
    has not read yet stays until it has.
    """
    out = []
    connection = session.connection()
    newest = max(cutoffs.values(), default=0)
    for month in months(session):
        if month.hi > newest:
            # No policy reaches it: never scanned, and never dropped for being empty (the
            # current month and those made ahead hold no rows yet).
            continue
        name = month.name("statements")
        rows = connection.exec_driver_sql(
            f"SELECT store_id, MAX(seq) FROM {name} GROUP BY store_id"  # noqa: S608
        ).all()
        if all(
            store_id in cutoffs
            and month.hi <= cutoffs[store_id]
            and (store_id not in facts_read or last_seq <= facts_read[store_id])
            for store_id, last_seq in rows
        ):
            out.append(month)
    return out


def drop(session: Session, month: Month, *, keep_facts_of: set[int]) -> dict[int, int]:
    """Detach and drop ``month`` of both tables; returns how many statements went, per store.

    What row-wise retention does per statement is done here for the month as a set: a newer
    statement voided by a voiding statement of this month is voided no more; attachments only
    this month's statements used go; so do the learning facts of its statements, except for the
    stores in ``keep_facts_of`` (their policies keep aggregates).
    The caller holds every affected store's write lock.
    """
    connection = session.connection()
    name = month.name("statements")
    counts = dict(
        connection.exec_driver_sql(
            f"SELECT store_id, COUNT(*) FROM {name} GROUP BY store_id"  # noqa: S608
        ).all()
    )
    connection.exec_driver_sql(
        f"DELETE FROM learning_facts f USING {name} s "  # noqa: S608
        "WHERE f.store_id = s.store_id AND f.seq = s.seq AND NOT f.store_id = ANY(%s)",
        (sorted(keep_facts_of),),
    )
    hashes = {
        (store_id, sha2)
        for store_id, payload in connection.exec_driver_sql(
            f"SELECT store_id, payload FROM {name} "  # noqa: S608
            "WHERE strpos(payload, '\"attachments\"') > 0"
        )
        for sha2 in referenced_hashes(loads(payload))
    }
    targets = connection.exec_driver_sql(
        f"SELECT DISTINCT store_id, object_ref FROM {name} "  # noqa: S608
        "WHERE voiding AND object_ref IS NOT NULL"
    ).all()
    for table in TABLES:
        part = month.name(table)
        connection.exec_driver_sql(f"ALTER TABLE {table} DETACH PARTITION {part}")
        connection.exec_driver_sql(f"DROP TABLE {part}")
    for store_id, target in targets:
        connection.exec_driver_sql(
            "UPDATE statements SET voided = false WHERE store_id = %s AND statement_id = %s "
            "AND voided AND NOT EXISTS (SELECT 1 FROM statements v WHERE v.store_id = %s "
            "AND v.voiding AND v.object_ref = %s)",
            (store_id, target, store_id, target),
        )
    for store_id, sha2 in sorted(hashes):
        connection.exec_driver_sql(
            "DELETE FROM attachments WHERE store_id = %s AND sha2 = %s AND NOT EXISTS "
            "(SELECT 1 FROM statements WHERE store_id = %s AND strpos(payload, %s) > 0)",
            (store_id, sha2, store_id, sha2),
        )
    return counts
