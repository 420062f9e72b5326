"""The database engine and sessions. SQLite is the embedded default; PostgreSQL is production.

SQLite runs in WAL mode with ``synchronous=FULL``, so a statement is on disk before the LRS
answers, while readers never wait for the writer.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def make_engine(
    url: str, *, pool_size: int = 10, max_overflow: int = 10, pgbouncer: bool = False
) -> Engine:
    """An engine tuned per backend. Creates the SQLite file's directory if needed.

    ``hide_parameters``: a database error's message names the SQL but not the values bound to
    it (statements, e-mail addresses, token hashes), so logging an error never logs a body.
    ``pgbouncer``: no server-side prepared statements, which PgBouncer in transaction mode
    cannot route to the connection that prepared them (docs/scaling.md).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(parsed.database)), exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,
        hide_parameters=True,
        connect_args={"prepare_threshold": None} if pgbouncer else {},
    )


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Let SQLAlchemy drive transactions (pysqlite's implicit BEGIN would defer locking).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA cache_size=-65536")
    # Checkpoint every 64 MB of WAL: hot index pages rewritten by many commits are copied to the
    # database once per checkpoint instead of once every few commits (about +25% batch writes).
    cursor.execute("PRAGMA wal_autocheckpoint=16384")
    cursor.execute("PRAGMA journal_size_limit=67108864")
    cursor.close()


def _sqlite_begin_immediate(connection) -> None:
    """Take the write lock at BEGIN for writers, so a conflict check and its insert are atomic.

    Readers use plain deferred transactions; a writer opens its session with ``write_session``.
    """
    # Straight to the driver: every request begins a transaction, and SQLAlchemy's statement
    # execution around a bare BEGIN cost more than the BEGIN itself.
    driver = connection.connection.driver_connection
    if connection.get_execution_options().get("learnloop_write"):
        driver.execute("BEGIN IMMEDIATE")
    else:
        driver.execute("BEGIN")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


class _WriterQueue:
    """Serialises SQLite writers of one database file across threads and processes.

    SQLite allows one writer; when several wait on its lock they poll with sleeps of up to
    25 ms (its busy handler). Queueing on a thread lock plus ``flock`` wakes the next writer as
    soon as the lock is free instead.
    """

    _queues: dict[str, _WriterQueue] = {}
    _guard = threading.Lock()

    def __init__(self, path: str) -> None:
        self._pid = os.getpid()
        self._thread_lock = threading.Lock()
        self._fd = os.open(path + ".writelock", os.O_RDWR | os.O_CREAT, 0o600)

    @classmethod
    def for_path(cls, path: str) -> _WriterQueue:
        with cls._guard:
            queue = cls._queues.get(path)
            if queue is None or os.getpid() != queue._pid:
                queue = cls._queues[path] = cls(path)
            return queue

    @contextmanager
    def hold(self) -> Iterator[None]:
        with self._thread_lock:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)


def _writer_queue(factory: sessionmaker[Session]) -> _WriterQueue | None:
    engine = factory.kw.get("bind")
    url = engine.url if engine is not None else None
    if url is None or url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return _WriterQueue.for_path(os.path.abspath(url.database))


AFTER_COMMIT = "learnloop.after_commit"


def after_commit(session: Session, callback) -> None:
    """Run ``callback()`` once the write transaction of ``session`` has committed.

    Side effects that leave the database (a grade sent to an LMS) wait for the commit, so a
    rolled-back transaction never reaches the outside world; the write lock is released first.
    """
    session.info.setdefault(AFTER_COMMIT, []).append(callback)


@contextmanager
def write_transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session in one transaction that holds the write lock from its start, committed on exit.

    On SQLite the transaction begins IMMEDIATE, so a conflict check and the insert that follows
    cannot interleave with another writer; writers queue on a file lock first. Rolled back if
    the block raises; callbacks registered with ``after_commit`` run after a commit only.
    """
    queue = _writer_queue(factory)
    with queue.hold() if queue else nullcontext():
        session = factory()
        try:
            session.connection(execution_options={"learnloop_write": True})
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
    for callback in session.info.pop(AFTER_COMMIT, []):
        callback()


@contextmanager
def read_transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for reads; one snapshot for the whole block."""
    session = factory()
    try:
        yield session
        session.rollback()
    finally:
        session.close()
