"""Learnloop at millions of statements: bulk load, then the HTTP paths measured at that size.

1. Bulk load ``--statements`` statements into a fresh database (PostgreSQL by default, a
   throw-away server on disk; or SQLite). Statements are prepared by the write path's own
   ``prepare_batch`` (ids, authority, index terms, JSON as stored) from the same realistic mix
   as bench_statements.py (1,000 actors, 10,000 activities, 20 verbs, registrations), then
   written with COPY (PostgreSQL) or executemany (SQLite), ``stored`` spread over the last
   twelve months so PostgreSQL's monthly partitions fill as a year of use would. 100,000
   prepared statements are reused with fresh ids to keep the client off the CPU the server
   needs. Prints rows/s of the load.
2. Serves that database with ``learnloop serve`` and measures, over HTTP with the same client
   as bench_statements.py: POST batches of 100 (statements/s), GET filtered by agent, verb and
   activity (first page and a ``more`` page, p50/p95), single-statement POSTs.
3. Prints bytes on disk per stored statement (tables and indexes, statements and their index
   rows; SQLite: the database file).

Usage:
    python bench/bench_scale.py --statements 10000000                  # PostgreSQL
    python bench/bench_scale.py --statements 1000000 --database sqlite
The throw-away PostgreSQL runs with fsync off (tests/support/postgres.py); --database-url
measures a server as configured.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.bench_statements import (  # noqa: E402
    StatementFactory,
    measure_at_size,
    start_server,
)
from lrs.auth import Principal  # noqa: E402
from lrs.core.timefmt import format_ms  # noqa: E402
from lrs.statements.write import prepare_batch  # noqa: E402

POOL = 100_000
CHUNK = 20_000
YEAR_MS = 365 * 86_400_000
KEY, SECRET = "bench", "bench-secret-of-the-benchmark"


def prepared_pool(principal: Principal, size: int) -> list[tuple]:
    """(payload with placeholders, id, terms, object_ref, voiding, version) made by the path."""
    factory = StatementFactory(seed=11)
    out = []
    for start in range(0, size, 1000):
        raw = [json.loads(factory.statement()) for _ in range(min(1000, size - start))]
        batch = prepare_batch(principal, raw, "2.0.0")
        for p, payload in zip(batch.statements, batch.payloads, strict=True):
            out.append(
                (
                    payload.replace(batch.placeholder, "\u0000STORED\u0000"),
                    p.id,
                    tuple(p.terms.items()),
                    p.object_ref,
                    p.voids is not None,
                    p.statement["version"],
                )
            )
    return out


def rows(pool: list[tuple], count: int, store_id: int, now_ms: int):
    """Chunks of (statement rows, index rows): stored_ms rising over the last twelve months."""
    start_ms = now_ms - YEAR_MS
    step = YEAR_MS / count
    seq = 0
    for begin in range(0, count, CHUNK):
        statements, index = [], []
        for n in range(begin, min(count, begin + CHUNK)):
            payload, old_id, terms, object_ref, voiding, version = pool[n % len(pool)]
            seq += 1
            stored_ms = int(start_ms + n * step)
            new_id = str(uuid.uuid4())
            text = payload.replace(old_id, new_id).replace(
                "\u0000STORED\u0000", format_ms(stored_ms)
            )
            statements.append(
                (seq, store_id, new_id, stored_ms, False, voiding, object_ref, version, text)
            )
            index.extend((store_id, key, stored_ms, seq, direct) for key, direct in terms)
        yield statements, index


STATEMENT_COLUMNS = (
    "seq, store_id, statement_id, stored_ms, voided, voiding, object_ref, version, payload"
)


def load_postgresql(url: str, pool, count: int, store_id: int, now_ms: int) -> tuple[int, int]:
    import psycopg

    made_months(url, now_ms - YEAR_MS, now_ms)
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    statements = index_rows = 0
    with psycopg.connect(conninfo, autocommit=True) as connection:
        for chunk, index in rows(pool, count, store_id, now_ms):
            with connection.transaction(), connection.cursor() as cursor:
                with cursor.copy(f"COPY statements ({STATEMENT_COLUMNS}) FROM STDIN") as copy:
                    for row in chunk:
                        copy.write_row(row)
                with cursor.copy(
                    "COPY statement_index (store_id, key, stored_ms, seq, direct) FROM STDIN"
                ) as copy:
                    for row in index:
                        copy.write_row(row)
            statements += len(chunk)
            index_rows += len(index)
            if statements % 1_000_000 < CHUNK:
                print(f"  {statements:,} statements loaded", flush=True)
        connection.execute("SELECT setval(pg_get_serial_sequence('statements', 'seq'), %s)",
                           (statements,))  # fmt: skip
    return statements, index_rows


def settle_postgresql(url: str) -> float:
    """VACUUM ANALYZE and CHECKPOINT after the load: what autovacuum and the checkpointer do over
    a year of use, done at once so the measurements do not share the disk with them."""
    import psycopg

    started = time.perf_counter()
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE) statements")
        connection.execute("VACUUM (ANALYZE) statement_index")
        connection.execute("CHECKPOINT")
    os.sync()
    return time.perf_counter() - started


def made_months(url: str, first_ms: int, last_ms: int) -> None:
    """The monthly partitions a year of use would have made (the worker makes them ahead)."""
    from lrs import partitions
    from lrs.db import make_engine, make_session_factory, write_transaction

    engine = make_engine(url)
    with write_transaction(make_session_factory(engine)) as session:
        have = set(partitions.months(session))
        wanted = partitions.months_between(
            partitions.month_of(first_ms), partitions.month_of(last_ms)
        )
        for month in wanted:
            if month not in have:
                partitions.create(session, month)
    engine.dispose()


def load_sqlite(path: str, pool, count: int, store_id: int, now_ms: int) -> tuple[int, int]:
    statements = index_rows = 0
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    for chunk, index in rows(pool, count, store_id, now_ms):
        connection.execute("BEGIN")
        connection.executemany(
            f"INSERT INTO statements ({STATEMENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            chunk,
        )
        connection.executemany(
            "INSERT INTO statement_index (store_id, key, stored_ms, seq, direct) "
            "VALUES (?, ?, ?, ?, ?)",
            index,
        )
        connection.execute("COMMIT")
        statements += len(chunk)
        index_rows += len(index)
        if statements % 1_000_000 < CHUNK:
            print(f"  {statements:,} statements loaded", flush=True)
    connection.execute("ANALYZE")
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return statements, index_rows


def bytes_on_disk(url: str, sqlite_path: str | None) -> int:
    if sqlite_path:
        return sum(
            os.path.getsize(sqlite_path + suffix)
            for suffix in ("", "-wal")
            if os.path.exists(sqlite_path + suffix)
        )
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        return connection.execute(
            "SELECT SUM(pg_total_relation_size(relid)) FROM ("
            "SELECT relid FROM pg_partition_tree('statements') UNION ALL "
            "SELECT relid FROM pg_partition_tree('statement_index')) parts"
        ).fetchone()[0]


def principal_of(database_url: str) -> Principal:
    """The bench credential's principal, as the server will authenticate it."""
    from learnloop.config import Config
    from learnloop.services import build_services
    from lrs.db import read_transaction
    from lrs.models import Credential

    services = build_services(Config.from_env({}, database_url=database_url))
    with read_transaction(services.sessions) as session:
        credential = session.query(Credential).filter_by(key=KEY).one()
        principal = Principal.of(credential)
    services.engine.dispose()
    return principal


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--statements", type=int, default=10_000_000)
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--database-url", default=None, help="an existing PostgreSQL database")
    parser.add_argument("--data-dir", default="/var/tmp", help="where throw-away data goes")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="client threads")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30.0, help="per write measurement")
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="learnloop-scale-", dir=args.data_dir)
    postgres = None
    sqlite_path = None
    try:
        if args.database == "sqlite":
            sqlite_path = f"{tmp}/scale.sqlite3"
            url = f"sqlite:///{sqlite_path}"
            where = "SQLite (WAL, synchronous=FULL)"
        elif args.database_url:
            url, where = args.database_url, "PostgreSQL (as configured)"
        else:
            os.environ["TMPDIR"] = tempfile.tempdir = tmp  # on disk, not /dev/shm: tens of GB
            from tests.support.postgres import ThrowawayPostgres

            postgres = ThrowawayPostgres(tcp=True)
            postgres.start()
            url = postgres.url
            where = f"PostgreSQL {postgres.version} (throw-away, fsync off), data in {tmp}"
        print(f"database: {where}")
        server, base, key, secret = start_server(url, args.workers, queue_worker=False)
        os.killpg(server.pid, signal.SIGTERM)  # made the schema and credential; load first
        server.wait(timeout=30)
        principal = principal_of(url)

        started = time.perf_counter()
        pool = prepared_pool(principal, min(POOL, args.statements))
        prepared = time.perf_counter() - started
        print(f"prepared {len(pool):,} statements by the write path in {prepared:.1f} s")
        now_ms = int(time.time() * 1000)
        started = time.perf_counter()
        if sqlite_path:
            count, index_rows = load_sqlite(sqlite_path, pool, args.statements,
                                            principal.store_id, now_ms)  # fmt: skip
        else:
            count, index_rows = load_postgresql(url, pool, args.statements,
                                                principal.store_id, now_ms)  # fmt: skip
        seconds = time.perf_counter() - started
        print(
            f"bulk load: {count:,} statements and {index_rows:,} index rows in {seconds:,.0f} s: "
            f"{count / seconds:,.0f} statements/s, {(count + index_rows) / seconds:,.0f} rows/s"
        )
        if not sqlite_path:
            print(f"VACUUM ANALYZE and CHECKPOINT: {settle_postgresql(url):,.0f} s")
        size = bytes_on_disk(url, sqlite_path)
        print(f"on disk: {size / 2**30:,.2f} GiB, {size / count:,.0f} bytes per stored statement")

        server, base, key, secret = start_server(url, args.workers, False, set_up=False)
        try:
            measure_at_size(base, key, secret, count, args.threads, args.samples, args.seconds)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    finally:
        if postgres is not None:
            postgres.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
