"""The worker's jobs of recognition: badges awarded as learning facts arrive.

``after_objectives(handler)`` wraps the objectives' ``statements`` handler: once it has
projected a store's new statements into ``learning_facts``, ``on_statements`` reads the facts
after the store's badge cursor, finds the people they belong to and awards the badges they now
meet. ``on_badge`` (``BADGE``) evaluates a new badge for everyone in the store. Both run in one
write transaction per chunk that holds the badge cursor row (``FOR UPDATE`` on PostgreSQL), so
any number of workers award each badge once.
"""

from __future__ import annotations

from lrs.core import statements as core
from lrs.db import write_transaction
from lrs.queue import ClaimedJob, enqueue
from lrs.runtime import lrs_runtime
from lrs.sql import run
from recognition import badges
from recognition.credentials import key_box

#: Kind of the job that evaluates one new badge for everyone in its store.
BADGE = "badge"
CHUNK = 5000


def after_objectives(handler):
    """The ``statements`` handler: ``handler`` (the objectives' projection), then badges."""

    def on_statements_then_badges(job: ClaimedJob) -> None:
        handler(job)
        on_statements(job)

    return on_statements_then_badges


def _lock_cursor(session, store_id: int) -> int:
    run(
        session,
        "INSERT INTO badge_cursors (store_id, last_seq) VALUES (?, 0) "
        "ON CONFLICT (store_id) DO NOTHING",
        [store_id],
    )
    sql = "SELECT last_seq FROM badge_cursors WHERE store_id = ?"
    if session.get_bind().dialect.name == "postgresql":
        sql = "SELECT last_seq FROM badge_cursors WHERE store_id = ? FOR UPDATE"
    return run(session, sql, [store_id]).scalar()


def people_of_keys(session, store_id: int, keys: set[int]) -> list[int]:
    """The people whose identities have these actor keys (``learning_facts.actor_key``)."""
    rows = run(session, "SELECT person_id, ifi FROM identities WHERE store_id = ?", [store_id])
    return sorted({person_id for person_id, ifi in rows if core.term_key(core.AGENT, ifi) in keys})


def on_statements(job: ClaimedJob) -> None:
    """Award the badges that the facts projected since the badge cursor make met."""
    runtime = lrs_runtime()
    box = key_box(runtime.instance_secret())
    while True:
        with write_transaction(runtime.sessions) as session:
            after = _lock_cursor(session, job.store_id)
            upto = (
                run(
                    session,
                    "SELECT last_seq FROM projection_cursors WHERE store_id = ?",
                    [job.store_id],
                ).scalar()
                or 0
            )
            rows = run(
                session,
                "SELECT seq, actor_key FROM learning_facts WHERE store_id = ? AND seq > ? "
                "AND seq <= ? ORDER BY seq LIMIT ?",
                [job.store_id, after, upto, CHUNK],
            ).all()
            if rows and badges.list_badges(session, job.store_id):
                people = people_of_keys(session, job.store_id, {key for _, key in rows})
                badges.evaluate(
                    session, job.store_id, people, runtime.public_url, runtime.clock(), box
                )
            last = rows[-1][0] if len(rows) == CHUNK else max(upto, after)
            run(
                session,
                "UPDATE badge_cursors SET last_seq = ? WHERE store_id = ?",
                [last, job.store_id],
            )
        if len(rows) < CHUNK:
            return


def badge_defined(session, store_id: int, badge_id: int, now_ms: int) -> None:
    """Leave the job that evaluates a new badge for everyone (in the defining transaction)."""
    enqueue(session, store_id, BADGE, f"badge:{badge_id}", {"badge": badge_id}, now_ms=now_ms)


def on_badge(job: ClaimedJob) -> None:
    """Evaluate one badge for every active person of the store."""
    runtime = lrs_runtime()
    box = key_box(runtime.instance_secret())
    with write_transaction(runtime.sessions) as session:
        _lock_cursor(session, job.store_id)
        badge = session.get(badges.Badge, int(job.payload["badge"]))
        if badge is None or badge.store_id != job.store_id:
            return
        people = list(
            run(
                session,
                "SELECT id FROM people WHERE store_id = ? AND deactivated_at IS NULL ORDER BY id",
                [job.store_id],
            ).scalars()
        )
        badges.evaluate(
            session, job.store_id, people, runtime.public_url, runtime.clock(), box, [badge]
        )
