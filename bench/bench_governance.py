"""Benchmark erasure, a person's archive and retention (issue 17) as a store grows.

Loads --others statements of 1,000 other actors (bench_statements' factory) plus --hers
statements whose actor is one person, of which one in ten name her as instructor in someone
else's statement instead, through the LRS write path; the facts projection then counts them.
Then it times, each in its own transaction as the service runs it:

- the dry run (``inventory``: what belongs to her),
- the archive of her data, streamed to nowhere (MB/s),
- the erasure itself (one transaction),
- retention deleting the other statements in batches of 1,000 (statements/s).

SQLite by default (a throw-away file); --database-url runs against PostgreSQL (a fresh store in
the database it names, which must be upgraded or upgradable). Usage:
    python bench/bench_governance.py [--others 100000] [--hers 5000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [ROOT, HERE]

HER = {"objectType": "Agent", "name": "Bench Person", "mbox": "mailto:bench.person@example.com"}
MONTH_MS = 31 * 24 * 3600 * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--others", type=int, default=100_000)
    parser.add_argument("--hers", type=int, default=5_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()

    from bench_statements import StatementFactory

    from directory.governance import archive, erasure, inventory, retention
    from learnloop import create_app
    from learnloop.cli import upgrade_database
    from lrs import api
    from lrs.auth import get_or_create_store
    from lrs.core.versions import V200
    from lrs.db import read_transaction, write_transaction
    from lrs.people.services import ensure_person
    from lrs.statements.write import store_statements
    from tests.support.worker import drain

    folder = tempfile.mkdtemp(prefix="bench-governance-")
    url = args.database_url or f"sqlite:///{folder}/bench.sqlite3"
    upgrade_database(url)
    app = create_app({"database_url": url, "public_url": "http://localhost"})
    services = app.extensions["learnloop"]
    sessions = services.sessions
    with write_transaction(sessions) as session:
        store_id = get_or_create_store(session, f"bench-{uuid.uuid4().hex[:8]}").id
        person_id = ensure_person(session, store_id, HER, name=HER["name"]).id
    principal = api.source_principal(store_id, "bench")
    factory = StatementFactory(seed=11)
    real_clock = services.clock

    def old() -> int:  # the others are eight months old: retention's part
        return real_clock() - 8 * MONTH_MS

    def write(statements: list[dict], clock) -> None:
        with write_transaction(sessions) as session:
            store_statements(session, principal, statements, V200, clock=clock)

    began = time.perf_counter()
    batch: list[dict] = []
    for n in range(args.others + args.hers):
        statement = json.loads(factory.statement())
        if n >= args.others:
            if n % 10:
                statement["actor"] = HER
            else:
                statement.setdefault("context", {})["instructor"] = HER
        batch.append(statement)
        if len(batch) == 5_000 or n == args.others - 1:
            write(batch, old if n < args.others else real_clock)
            batch = []
    if batch:
        write(batch, real_clock)
    drain(app)
    total = args.others + args.hers
    print(
        f"database: {url.split(':')[0]}; {total:,} statements loaded and counted in "
        f"{time.perf_counter() - began:.1f} s"
    )

    began = time.perf_counter()
    with read_transaction(sessions) as session:
        inv = inventory.inventory(session, store_id, person_id)
    seconds = time.perf_counter() - began
    print(
        f"dry run (inventory): {seconds * 1000:,.0f} ms; hers {len(inv.theirs):,}, "
        f"naming her {len(inv.mentioning):,}"
    )

    began = time.perf_counter()
    size = 0
    with read_transaction(sessions) as session:
        for piece in archive.archive_parts(session, store_id, person_id):
            size += len(piece.encode())
    seconds = time.perf_counter() - began
    print(f"archive: {size / 1e6:,.1f} MB in {seconds:.2f} s ({size / 1e6 / seconds:,.1f} MB/s)")

    began = time.perf_counter()
    with write_transaction(sessions) as session:
        done = erasure.erase_person(
            session, store_id, person_id, secret="bench", public_url="http://localhost"
        )
    seconds = time.perf_counter() - began
    print(
        f"erasure (one transaction): {seconds:.2f} s; deleted {done.counts['statements']:,}, "
        f"pseudonymised {done.counts['statements_pseudonymised']:,}"
    )

    with write_transaction(sessions) as session:
        due = retention.set_policy(session, store_id, 6, True, real_clock())
    began = time.perf_counter()
    deleted = retention.apply_policy(sessions, store_id, real_clock)
    seconds = time.perf_counter() - began
    print(
        f"retention: {deleted:,} of {due:,} due deleted in {seconds:.2f} s "
        f"({deleted / seconds:,.0f} statements/s, batches of {retention.BATCH:,})"
    )
    services.engine.dispose()


if __name__ == "__main__":
    main()
