"""The worker's jobs of recognition: badges awarded as learning facts arrive.

``after_objectives(handler)`` wraps the objectives' ``statements`` handler: once it has
projected a store's new statements into ``learning_facts``, ``on_statements`` reads the facts
after the store's badge cursor, finds the people they belong to and evaluates only the badges
those facts can move (``objectives.tasks.could_match``, as objectives do). ``on_badge``
(``BADGE``) evaluates a new badge for everyone in the store; ``after_person`` wraps the
objectives' ``person`` handler (an identity linked later: earlier facts may count now). All
run in one write transaction per chunk that holds the badge cursor row (``FOR UPDATE`` on
PostgreSQL), so any number of workers award each badge once.
"""

from __future__ import annotations

import json
from collections import defaultdict

from lrs.core import statements as core
from lrs.db import read_transaction, write_transaction
from lrs.queue import ClaimedJob, enqueue
from lrs.runtime import lrs_runtime
from lrs.sql import run
from objectives.criteria import Criterion
from objectives.progress import NewFact
from objectives.tasks import could_match
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


def after_person(handler):
    """The ``person`` handler: ``handler`` (the objectives'), then that person's badges."""

    def on_person_then_badges(job: ClaimedJob) -> None:
        handler(job)
        on_person(job)

    return on_person_then_badges


def on_person(job: ClaimedJob) -> None:
    """Award every active badge one person now meets (an identity linked, people merged)."""
    runtime = lrs_runtime()
    with read_transaction(runtime.sessions) as session:
        if not [b for b in badges.list_badges(session, job.store_id) if b.active]:
            return
    box = key_box(runtime.instance_secret())
    with write_transaction(runtime.sessions) as session:
        _lock_cursor(session, job.store_id)
        badges.evaluate(
            session,
            job.store_id,
            [int(job.payload["person"])],
            runtime.public_url,
            runtime.clock(),
            box,
        )


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


def _projected(session, store_id: int) -> int:
    """How far the objectives' projection has counted the store's statements."""
    return (
        run(
            session, "SELECT last_seq FROM projection_cursors WHERE store_id = ?", [store_id]
        ).scalar()
        or 0
    )


def owners_of_keys(session, store_id: int, keys: set[int]) -> dict[int, int]:
    """The person of each of these actor keys (``learning_facts.actor_key``) known in the store.

    Facts hold a hash of the actor's IFI, not the IFI: each identity of the store is hashed the
    same way to find them (one pass over the store's identities per chunk).
    """
    rows = run(session, "SELECT person_id, ifi FROM identities WHERE store_id = ?", [store_id])
    owners = {}
    for person_id, ifi in rows:
        key = core.term_key(core.AGENT, ifi)
        if key in keys:
            owners[key] = person_id
    return owners


def affected(session, store_id: int, rows: list, active: list) -> dict[int, list]:
    """Each person these facts belong to, with the badges the facts can move."""
    owners = owners_of_keys(session, store_id, {row[1] for row in rows})
    facts: dict[int, list[NewFact]] = defaultdict(list)
    for _, key, verb, activity, kind, parent, source in rows:
        if key in owners:
            facts[owners[key]].append(NewFact(None, verb, activity, kind, parent, source, None))
    criteria = {b.id: [Criterion.from_dict(c) for c in json.loads(b.criteria)] for b in active}
    return {
        person_id: [
            b for b in active if any(could_match(c, f) for c in criteria[b.id] for f in found)
        ]
        for person_id, found in facts.items()
    }


def on_statements(job: ClaimedJob) -> None:
    """Award the badges that the facts projected since the badge cursor make met."""
    runtime = lrs_runtime()
    with read_transaction(runtime.sessions) as session:
        if not [b for b in badges.list_badges(session, job.store_id) if b.active]:
            return  # nothing to award; a badge defined later is evaluated for all (on_badge)
    box = key_box(runtime.instance_secret())
    while True:
        with write_transaction(runtime.sessions) as session:
            after = _lock_cursor(session, job.store_id)
            upto = _projected(session, job.store_id)
            rows = run(
                session,
                "SELECT seq, actor_key, verb_id, activity_id, activity_type, parent_id, source "
                "FROM learning_facts WHERE store_id = ? AND seq > ? AND seq <= ? "
                "ORDER BY seq LIMIT ?",
                [job.store_id, after, upto, CHUNK],
            ).all()
            active = [b for b in badges.list_badges(session, job.store_id) if b.active]
            for person_id, movable in affected(session, job.store_id, rows, active).items():
                if movable:
                    badges.evaluate(
                        session,
                        job.store_id,
                        [person_id],
                        runtime.public_url,
                        runtime.clock(),
                        box,
                        movable,
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
    """Evaluate a new badge, and every other active one, for every active person of the store.

    Everyone is then evaluated for every badge up to the facts projected now, so the badge
    cursor moves there (facts projected later are the next ``statements`` job's); a store
    without badges never moved it, and its ``statements`` jobs stay read-only.
    """
    runtime = lrs_runtime()
    box = key_box(runtime.instance_secret())
    with write_transaction(runtime.sessions) as session:
        after = _lock_cursor(session, job.store_id)
        badge = session.get(badges.Badge, int(job.payload["badge"]))
        if badge is None or badge.store_id != job.store_id:
            return
        active = [b for b in badges.list_badges(session, job.store_id) if b.active]
        people = list(
            run(
                session,
                "SELECT id FROM people WHERE store_id = ? AND deactivated_at IS NULL ORDER BY id",
                [job.store_id],
            ).scalars()
        )
        badges.evaluate(
            session, job.store_id, people, runtime.public_url, runtime.clock(), box, active
        )
        run(
            session,
            "UPDATE badge_cursors SET last_seq = ? WHERE store_id = ?",
            [max(after, _projected(session, job.store_id)), job.store_id],
        )
