"""Benchmark the weekly digest (issue 21): 10,000 digest e-mails to a local SMTP server.

Makes a store of --managers managers and (--emails - managers) learners, each learner with a
review in an open cycle and one objective (met this week for every other one), so that every
person reads a digest; starts aiosmtpd in its own process (the ``Sink`` handler: it accepts and
drops every message, so the server is not what is measured); asks for a digest now; then one
worker drains the queue as ``learnloop worker`` does: the digest job (pick the readers, leave one
e-mail job per ``DIGEST_BATCH`` of them), then every e-mail job (for each reader: build the
digest from the database, render both parts, hand the message over SMTP on the kept connection;
then log the batch's deliveries in one transaction).

Prints the digest job's time, messages/s of the e-mail jobs, and the process's peak RSS.
SQLite by default (a throw-away file); --database-url runs against PostgreSQL. Usage:
    python bench/bench_digest.py [--emails 10000] [--managers 100] [--database-url URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [ROOT, HERE]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"the SMTP server did not listen on {port}")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def seed(sessions, store_id: int, emails: int, managers: int, now: dt.datetime) -> None:
    """People, reporting lines, one open cycle, a review and an objective per learner."""
    from sqlalchemy import insert, select

    from lrs.db import write_transaction
    from lrs.people.models import Person
    from objectives.models import Objective, ReportingLine, Review, ReviewCycle

    with write_transaction(sessions) as session:
        session.execute(
            insert(Person),
            [
                {"store_id": store_id, "name": f"Person {i}", "email": f"p{i}@bench.test"}
                for i in range(emails)
            ],
        )
        ids = list(
            session.scalars(
                select(Person.id).where(Person.store_id == store_id).order_by(Person.id)
            )
        )
        boss, learners = ids[:managers], ids[managers:]
        session.execute(
            insert(ReportingLine),
            [
                {"store_id": store_id, "person_id": p, "manager_id": boss[i % managers]}
                for i, p in enumerate(learners)
            ],
        )
        cycle = ReviewCycle(
            store_id=store_id,
            name="Bench",
            starts_on=(now - dt.timedelta(days=30)).date(),
            ends_on=(now + dt.timedelta(days=5)).date(),
        )
        session.add(cycle)
        session.flush()
        session.execute(
            insert(Review),
            [{"store_id": store_id, "cycle_id": cycle.id, "person_id": p} for p in learners],
        )
        reviews = session.execute(
            select(Review.id, Review.person_id).where(Review.cycle_id == cycle.id)
        ).all()
        met = now - dt.timedelta(days=1)
        session.execute(
            insert(Objective),
            [
                {
                    "store_id": store_id,
                    "review_id": review_id,
                    "title": f"Objective of {person_id}",
                    "criteria": "[]",
                    "satisfied_at": met if n % 2 else None,
                }
                for n, (review_id, person_id) in enumerate(reviews)
            ],
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--emails", type=int, default=10_000)
    parser.add_argument("--managers", type=int, default=100)
    parser.add_argument("--database-url")
    args = parser.parse_args()

    from learnloop import create_app
    from learnloop.cli import upgrade_database
    from learnloop.worker import Worker
    from lrs.auth import get_or_create_store
    from lrs.db import read_transaction, write_transaction
    from lrs.sql import run
    from notifications import tasks
    from notifications.settings import EXTENSION, MailConfig

    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Sink",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        folder = tempfile.mkdtemp(prefix="bench-digest-")
        url = args.database_url or f"sqlite:///{folder}/bench.sqlite3"
        upgrade_database(url)
        app = create_app({"database_url": url, "public_url": "https://learnloop.example"})
        app.extensions[EXTENSION] = MailConfig(
            host="127.0.0.1",
            port=port,
            security="none",
            from_address="Learnloop <learnloop@bench.test>",
        )
        runtime = app.extensions["learnloop"]
        now = dt.datetime.now(dt.UTC)
        with write_transaction(runtime.sessions) as session:
            store_id = get_or_create_store(session, f"bench-digest-{uuid.uuid4().hex[:8]}").id
        started = time.perf_counter()
        seed(runtime.sessions, store_id, args.emails, args.managers, now)
        print(
            f"seeded {args.emails:,} people ({args.managers} managers) "
            f"in {time.perf_counter() - started:.1f} s; {url.split(':')[0]}"
        )
        with write_transaction(runtime.sessions) as session:
            tasks.digest_now(session, store_id, runtime.clock())
        worker = Worker(app)
        started = time.perf_counter()
        assert worker.run_one()  # the digest job: readers picked, one e-mail job each
        picked = time.perf_counter() - started
        with read_transaction(runtime.sessions) as session:
            jobs = run(session, "SELECT COUNT(*) FROM jobs WHERE kind = 'email'").scalar()
        print(f"digest job: {jobs:,} e-mail jobs of {tasks.DIGEST_BATCH} left in {picked:.2f} s")
        started = time.perf_counter()
        worker.drain()
        seconds = time.perf_counter() - started
        with read_transaction(runtime.sessions) as session:
            sent = run(
                session,
                "SELECT COUNT(*) FROM deliveries WHERE store_id = ? AND channel = ? "
                "AND outcome = 'delivered'",
                [store_id, tasks.CHANNEL],
            ).scalar()
        assert sent == args.emails, (sent, args.emails)
        print(
            f"sent {sent:,} digest e-mails in {seconds:.1f} s: {sent / seconds:,.0f} messages/s "
            f"(one worker; build, render, SMTP, delivery log)"
        )
        print(f"peak RSS of the process: {peak_rss_mib():.0f} MiB")
        runtime.engine.dispose()
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
