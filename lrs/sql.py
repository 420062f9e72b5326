"""Small SQL helpers that differ between SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session


def upsert(
    session: Session,
    table: Table,
    rows: list[dict],
    conflict_columns: list[str],
    *,
    or_column: str | None = None,
    update_columns: list[str] | None = None,
) -> None:
    """INSERT … ON CONFLICT for both backends.

    ``or_column``: on conflict the boolean becomes ``old OR new``. ``update_columns``: on conflict
    those columns take the new values. Neither: conflicting rows are left alone.
    """
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table)
    if or_column:
        column = table.c[or_column]
        stmt = stmt.on_conflict_do_update(
            index_elements=conflict_columns, set_={or_column: column | stmt.excluded[or_column]}
        )
    elif update_columns:
        stmt = stmt.on_conflict_do_update(
            index_elements=conflict_columns,
            set_={name: stmt.excluded[name] for name in update_columns},
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=conflict_columns)
    session.execute(stmt, rows)


def run(session: Session, sql: str, params: tuple | list = ()):
    """Execute hot-path SQL through the driver, skipping SQLAlchemy's statement compilation.

    ``sql`` uses ``?`` placeholders (and never a literal ``?`` or ``%``); they become ``%s`` for
    psycopg. Returns the driver-level result.
    """
    connection = session.connection()
    if connection.dialect.paramstyle != "qmark":
        sql = sql.replace("?", "%s")
    return connection.exec_driver_sql(sql, tuple(params))


def marks(count: int) -> str:
    """``?, ?, ?`` for an IN list of ``count`` values."""
    return ", ".join(["?"] * count)


def insert_many(
    session: Session, table: Table, columns: tuple[str, ...], rows: list[tuple]
) -> None:
    """A multi-row INSERT of plain tuples through the driver, skipping per-row ORM processing.

    This is the statement write path's hot loop: SQLite's executemany takes the tuples as they
    are, and PostgreSQL a COPY.
    """
    if not rows:
        return
    connection = session.connection()
    # Table and column names come from our own models, never from input.
    if connection.dialect.name == "postgresql":
        _copy(connection, table, columns, rows)
        return
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "  # noqa: S608
        f"VALUES ({', '.join(['?'] * len(columns))})"
    )
    connection.exec_driver_sql(sql, rows)


def _copy(connection, table: Table, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """PostgreSQL: COPY the rows in, inside the session's transaction.

    Each INSERT, even pipelined and prepared, costs PostgreSQL a statement's start and end, and
    a batch of 100 statements is some 900 rows with their index terms: COPY is one statement.
    A violated constraint surfaces as SQLAlchemy's IntegrityError, as an INSERT's would.
    """
    import psycopg

    driver = connection.connection.driver_connection
    try:
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
    except psycopg.IntegrityError as error:
        raise IntegrityError(f"COPY {table.name}", None, error) from error


def next_seqs(session: Session, count: int) -> list[int]:
    """Allocate ``count`` increasing statement sequence numbers (the caller holds the lock)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        return list(
            connection.exec_driver_sql(
                "SELECT nextval(pg_get_serial_sequence('statements', 'seq')) "
                "FROM generate_series(1, %s)",
                (count,),
            ).scalars()
        )
    # MAX(seq) alone would hand out again the numbers of deleted statements (erasure,
    # retention): ``keep_seq_floor`` remembers the highest before they go.
    start = connection.exec_driver_sql(
        "SELECT MAX(m) FROM (SELECT COALESCE(MAX(seq), 0) AS m FROM statements "
        "UNION ALL SELECT COALESCE(MAX(seq), 0) FROM statement_seq_floor)"
    ).scalar()
    return list(range(start + 1, start + 1 + count))


def keep_seq_floor(session: Session) -> None:
    """Before deleting statements: remember the highest seq, so SQLite never reuses one.

    PostgreSQL's sequence never goes back; nothing to do there.
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        return
    connection.exec_driver_sql(
        "INSERT INTO statement_seq_floor (id, seq) SELECT 1, COALESCE(MAX(seq), 0) "
        "FROM statements WHERE 1 ON CONFLICT (id) DO UPDATE SET seq = MAX(seq, excluded.seq)"
    )


def lock_store_for_writing(session: Session, store_id: int) -> None:
    """Serialise the writers of one store until the transaction ends.

    SQLite already holds its database-wide write lock (BEGIN IMMEDIATE). On PostgreSQL a
    transaction-scoped advisory lock per store makes ``stored`` order equal commit order and the
    conflict check atomic with the insert, as on SQLite.
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(%s, %s)", (4242, store_id))
