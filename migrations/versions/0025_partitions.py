"""statements partitioned by stored time on PostgreSQL (issue 18)

On PostgreSQL, ``statements`` and ``statement_index`` become tables partitioned by RANGE of
``stored_ms``, one partition per month (``lrs.partitions``, docs/scaling.md), and the rows are
copied across. SQLite is left as it is.

PostgreSQL cannot keep a UNIQUE constraint across partitions unless it holds the partition key,
so (store_id, statement_id) becomes a plain index per partition: its uniqueness is kept by the
one write path, which checks for the ids while holding the store's transaction-scoped advisory
lock (``lrs.sql.lock_store_for_writing``), as it already did. The primary key becomes
(seq, stored_ms).

The copy rewrites both tables in one transaction: plan a window on a large database
(docs/scaling.md gives the rate measured).

Revision ID: 0025
Revises: 0024
"""

import time

from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

STATEMENT_INDEXES = (
    "CREATE INDEX ix_statements_order ON statements (store_id, stored_ms, seq)",
    "CREATE INDEX ix_statements_voided ON statements (store_id, seq) WHERE voided",
    "CREATE INDEX ix_statements_object_ref ON statements (store_id, object_ref) "
    "WHERE object_ref IS NOT NULL",
    "CREATE INDEX ix_statements_statement_id ON statements (store_id, statement_id)",
)


def _month_ranges(first_ms: int, last_ms: int) -> list[tuple[str, int, int]]:
    """(suffix, lo, hi) of every month from ``first_ms``'s to ``last_ms``'s, UTC."""
    import datetime as dt

    def start(year: int, month: int) -> int:
        return int(dt.datetime(year, month, 1, tzinfo=dt.UTC).timestamp() * 1000)

    first = dt.datetime.fromtimestamp(first_ms / 1000, dt.UTC)
    last = dt.datetime.fromtimestamp(last_ms / 1000, dt.UTC)
    year, month, out = first.year, first.month, []
    while (year, month) <= (last.year, last.month):
        following = (year + month // 12, month % 12 + 1)
        out.append((f"y{year:04d}m{month:02d}", start(year, month), start(*following)))
        year, month = following
    return out


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    run = bind.exec_driver_sql
    now_ms = int(time.time() * 1000)
    lo, hi = run("SELECT MIN(stored_ms), MAX(stored_ms) FROM statements").one()
    # A month of rows older than three years ago or newer than a year ahead stays in DEFAULT
    # (a test clock, a bad import): a partition per month between would be mostly empty.
    floor, ceiling = now_ms - 3 * 365 * 86_400_000, now_ms + 365 * 86_400_000
    first = max(lo, floor) if lo is not None else now_ms
    last = max(min(hi, ceiling), now_ms) if hi is not None else now_ms
    months = _month_ranges(min(first, now_ms), last + 3 * 31 * 86_400_000)

    run("ALTER SEQUENCE statements_seq_seq OWNED BY NONE")
    run("ALTER TABLE statements RENAME TO statements_unpartitioned")
    run("ALTER TABLE statement_index RENAME TO statement_index_unpartitioned")
    for name in (
        "ix_statements_order",
        "ix_statements_voided",
        "ix_statements_object_ref",
    ):
        run(f"DROP INDEX {name}")
    run(
        "ALTER TABLE statements_unpartitioned "
        "RENAME CONSTRAINT pk_statements TO pk_statements_unpartitioned"
    )
    run(
        "ALTER TABLE statement_index_unpartitioned "
        "RENAME CONSTRAINT pk_statement_index TO pk_statement_index_unpartitioned"
    )
    run(
        "ALTER TABLE statements_unpartitioned RENAME CONSTRAINT "
        "fk_statements_store_id_stores TO fk_statements_unpartitioned_store_id"
    )
    run(
        """
        CREATE TABLE statements (
            seq bigint NOT NULL DEFAULT nextval('statements_seq_seq'),
            store_id integer NOT NULL,
            statement_id varchar(36) NOT NULL,
            stored_ms bigint NOT NULL,
            voided boolean NOT NULL,
            voiding boolean NOT NULL,
            object_ref varchar(36),
            version varchar(16) NOT NULL,
            payload text NOT NULL,
            CONSTRAINT pk_statements PRIMARY KEY (seq, stored_ms),
            CONSTRAINT fk_statements_store_id_stores FOREIGN KEY (store_id)
                REFERENCES stores (id) ON DELETE CASCADE
        ) PARTITION BY RANGE (stored_ms)
        """
    )
    run("COMMENT ON COLUMN statements.statement_id IS 'lower-case UUID'")
    run("COMMENT ON COLUMN statements.stored_ms IS 'stored, ms since the epoch'")
    run("COMMENT ON COLUMN statements.voiding IS 'verb is voided'")
    run("COMMENT ON COLUMN statements.object_ref IS 'StatementRef target'")
    run("ALTER SEQUENCE statements_seq_seq OWNED BY statements.seq")
    run(
        """
        CREATE TABLE statement_index (
            store_id integer NOT NULL,
            key bigint NOT NULL,
            stored_ms bigint NOT NULL,
            seq bigint NOT NULL,
            direct boolean NOT NULL,
            CONSTRAINT pk_statement_index PRIMARY KEY (store_id, key, stored_ms, seq)
        ) PARTITION BY RANGE (stored_ms)
        """
    )
    for table in ("statements", "statement_index"):
        run(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")
        for suffix, start, end in months:
            run(
                f"CREATE TABLE {table}_{suffix} PARTITION OF {table} "
                f"FOR VALUES FROM ({start}) TO ({end})"
            )
    for sql in STATEMENT_INDEXES:
        run(sql)
    run("INSERT INTO statements SELECT * FROM statements_unpartitioned")
    run("INSERT INTO statement_index SELECT * FROM statement_index_unpartitioned")
    run("DROP TABLE statements_unpartitioned")
    run("DROP TABLE statement_index_unpartitioned")
    run("ANALYZE statements")
    run("ANALYZE statement_index")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    run = bind.exec_driver_sql
    run("ALTER SEQUENCE statements_seq_seq OWNED BY NONE")
    run("ALTER TABLE statements RENAME TO statements_partitioned")
    run("ALTER TABLE statement_index RENAME TO statement_index_partitioned")
    for name in (*(s.split()[2] for s in STATEMENT_INDEXES),):
        run(f"DROP INDEX {name}")
    run(
        "ALTER TABLE statements_partitioned "
        "RENAME CONSTRAINT pk_statements TO pk_statements_partitioned"
    )
    run(
        "ALTER TABLE statement_index_partitioned "
        "RENAME CONSTRAINT pk_statement_index TO pk_statement_index_partitioned"
    )
    run(
        "ALTER TABLE statements_partitioned RENAME CONSTRAINT "
        "fk_statements_store_id_stores TO fk_statements_partitioned_store_id"
    )
    run(
        """
        CREATE TABLE statements (
            seq bigint NOT NULL DEFAULT nextval('statements_seq_seq'),
            store_id integer NOT NULL,
            statement_id varchar(36) NOT NULL,
            stored_ms bigint NOT NULL,
            voided boolean NOT NULL,
            voiding boolean NOT NULL,
            object_ref varchar(36),
            version varchar(16) NOT NULL,
            payload text NOT NULL,
            CONSTRAINT pk_statements PRIMARY KEY (seq),
            CONSTRAINT uq_statements_store_id_statement_id UNIQUE (store_id, statement_id),
            CONSTRAINT fk_statements_store_id_stores FOREIGN KEY (store_id)
                REFERENCES stores (id) ON DELETE CASCADE
        )
        """
    )
    run("ALTER SEQUENCE statements_seq_seq OWNED BY statements.seq")
    run(
        """
        CREATE TABLE statement_index (
            store_id integer NOT NULL,
            key bigint NOT NULL,
            stored_ms bigint NOT NULL,
            seq bigint NOT NULL,
            direct boolean NOT NULL,
            CONSTRAINT pk_statement_index PRIMARY KEY (store_id, key, stored_ms, seq)
        )
        """
    )
    for sql in STATEMENT_INDEXES[:3]:
        run(sql)
    run("INSERT INTO statements SELECT * FROM statements_partitioned")
    run("INSERT INTO statement_index SELECT * FROM statement_index_partitioned")
    run("DROP TABLE statements_partitioned")
    run("DROP TABLE statement_index_partitioned")
