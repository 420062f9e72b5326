"""Statement queries from a PostgreSQL streaming replica, without losing what a client wrote.

With ``LEARNLOOP_REPLICA_URL`` set, ``GET /statements`` lists come from the replica, so the
primary is left to writes. Two promises stay true:

- ``X-Experience-API-Consistent-Through`` says what the replica has applied: the moment the
  query began when the replica has replayed the primary's WAL up to where it was then, else the
  commit time of the last transaction it replayed (xAPI Communication 2.1.3: every statement
  stored before that moment is in the answer). A replica cannot know what it has not yet
  received, so the primary's WAL position is asked first (one cheap query).
- Read your writes: a statement asked for by id (``statementId``, ``voidedStatementId``)
  that the replica does not have yet is looked up on the primary. So a client that just wrote a
  statement and reads it back always finds it, whichever node and replica answer.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session


def primary_position(session: Session) -> str:
    """Where the primary's WAL is now: every transaction committed so far lies before it.

    The insert position, not the write position: with ``synchronous_commit = off`` a commit
    can still be in the WAL buffers, not yet written, and it counts.
    """
    return session.execute(text("SELECT pg_current_wal_insert_lsn()::text")).scalar_one()


def applied_through_ms(session: Session, primary_lsn: str, asked_ms: int) -> int:
    """Up to when ``session``'s replica has applied the primary's commits.

    ``primary_lsn`` was read from the primary at ``asked_ms``: a replica that has replayed up to
    it holds everything committed before ``asked_ms``. Otherwise the commit time of the last
    transaction it replayed (0 before it replayed any: nothing is promised).
    """
    caught_up, replayed_ms = session.execute(
        text(
            "SELECT COALESCE(pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn), true), "
            "(EXTRACT(EPOCH FROM pg_last_xact_replay_timestamp()) * 1000)::bigint"
        ),
        {"lsn": primary_lsn},
    ).one()
    if caught_up:
        return asked_ms
    return min(asked_ms, int(replayed_ms or 0))
