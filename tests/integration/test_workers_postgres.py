"""Three ``learnloop worker`` processes share one PostgreSQL queue over a 50,000-statement backlog.

Ten stores of 5,000 statements each, five people per store with an objective that their
statements meet. Three real worker processes drain the queue at once; every statement is
projected exactly once, every objective gets exactly one ``satisfied`` statement dated by its
deciding statement, the queue ends empty, no worker reports an error or a deadlock, and more
than one worker did the work (``FOR UPDATE SKIP LOCKED`` hands them different jobs).
"""

import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from learnloop import create_app
from learnloop.cli import upgrade_database
from lrs import api
from lrs import vocabulary as v
from lrs.auth import get_or_create_store
from lrs.db import read_transaction, write_transaction
from lrs.people.services import ensure_person
from lrs.sql import run
from objectives.models import Objective, Review, ReviewCycle

pytestmark = pytest.mark.postgres

STORES, PEOPLE, EACH, NEEDED = 10, 5, 1000, 100
VERB = v.COMPLETED
START = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)


def when(i):
    return (START + dt.timedelta(seconds=i)).isoformat().replace("+00:00", "Z")


@pytest.fixture(scope="module")
def pg_app(postgres_url):
    upgrade_database(postgres_url)
    app = create_app({"database_url": postgres_url})
    yield app
    app.extensions["lrs"].engine.dispose()


def backlog(app):
    """Stores, people, reviews and objectives, then 50,000 statements with no worker running."""
    sessions = app.extensions["lrs"].sessions
    objectives = []
    for s in range(STORES):
        with write_transaction(sessions) as session:
            store = get_or_create_store(session, f"pg-workers-{s}-{uuid.uuid4().hex[:6]}")
            cycle = ReviewCycle(
                store_id=store.id,
                name="2026 H2",
                starts_on=dt.date(2026, 7, 1),
                ends_on=dt.date(2026, 12, 31),
            )
            session.add(cycle)
            session.flush()
            people = []
            for p in range(PEOPLE):
                agent = {"mbox": f"mailto:p{p}@store{s}.example.com"}
                person = ensure_person(session, store.id, agent, name=f"P{p}")
                review = Review(store_id=store.id, cycle_id=cycle.id, person_id=person.id)
                session.add(review)
                session.flush()
                activity = f"https://learn.example.com/s{s}/p{p}"
                objective = Objective(
                    store_id=store.id,
                    review_id=review.id,
                    title=f"Complete {NEEDED} units",
                    rule="all",
                    criteria=f'[{{"verbs": ["{VERB}"], "activity_prefix": "{activity}", '
                    f'"min_count": {NEEDED}, "count": "statements"}}]',
                )
                session.add(objective)
                session.flush()
                objectives.append(objective.id)
                people.append((agent, activity))
            principal = api.source_principal(store.id, "bench")
        for start in range(0, EACH, 250):
            statements = [
                {
                    "actor": agent,
                    "verb": {"id": VERB},
                    "object": {"id": f"{activity}/unit-{i}"},
                    "timestamp": when(i),
                }
                for agent, activity in people
                for i in range(start, start + 250)
            ]
            with write_transaction(sessions) as session:
                api.write_statements(session, principal, statements)
    return objectives


def start_worker(url, tmp_path, n):
    env = {
        **os.environ,
        "LEARNLOOP_DATABASE_URL": url,
        "LEARNLOOP_INSTANCE_PATH": str(tmp_path),
    }
    with open(tmp_path / f"worker-{n}.log", "w") as log:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "learnloop.cli",
                "worker",
                "--poll",
                "0.05",
                "--log-level",
                "debug",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )


def queue_left(app):
    """Jobs still to run: all but those scheduled for later (a weekly digest, a daily scan)."""
    with read_transaction(app.extensions["lrs"].sessions) as session:
        return run(
            session,
            "SELECT COUNT(*) FROM jobs WHERE NOT (state = 'pending' AND run_at_ms > ?)",
            [int(time.time() * 1000) + 60_000],
        ).scalar()


def test_three_workers_share_a_50000_statement_backlog(pg_app, postgres_url, tmp_path):
    objectives = backlog(pg_app)
    workers = [start_worker(postgres_url, tmp_path, n) for n in range(3)]
    started = time.monotonic()
    try:
        deadline = started + 240
        while time.monotonic() < deadline and queue_left(pg_app):
            time.sleep(0.2)
        took = time.monotonic() - started
        assert queue_left(pg_app) == 0, "the queue did not drain"
    finally:
        for process in workers:
            process.send_signal(signal.SIGTERM)
        for process in workers:
            process.wait(30)
    logs = [(tmp_path / f"worker-{n}.log").read_text() for n in range(3)]
    for text in logs:
        assert "Traceback" not in text and "deadlock" not in text.lower(), text[-3000:]
    done = [text.count(") done") for text in logs]
    assert sum(1 for count in done if count) >= 2, f"jobs done per worker: {done}"

    with read_transaction(pg_app.extensions["lrs"].sessions) as session:
        statements = run(session, "SELECT COUNT(*) FROM statements").scalar()
        facts = run(session, "SELECT COUNT(*) FROM learning_facts").scalar()
        assert facts == statements  # every statement projected exactly once
        rows = session.execute(
            Objective.__table__.select().where(Objective.id.in_(objectives))
        ).all()
        assert len(rows) == STORES * PEOPLE
        for row in rows:
            assert row.satisfied_at is not None
            moment = row.satisfied_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
            assert moment == when(NEEDED - 1)  # dated by the deciding (100th) statement
        satisfied = run(
            session,
            "SELECT COUNT(*), COUNT(DISTINCT statement_id) FROM statements WHERE payload LIKE ?",
            [f"%{v.SATISFIED}%"],
        ).one()
        assert satisfied[0] == satisfied[1] == STORES * PEOPLE
    print(f"3 workers drained {statements} statements in {took:.1f} s")  # noqa: T201
