"""``learnloop backup`` and ``learnloop restore`` on SQLite and PostgreSQL (issue 16).

A writer keeps posting statements through the app while a ``learnloop backup`` process copies
the database; the backup, restored into a fresh database, holds exactly the statements of the
first k write transactions (a consistent snapshot), at least every one acknowledged before
the backup began, each with its rows unchanged. A backup with no writer restores to an equal
database, table by table. Every refusal is one or two lines, exit status 1, no traceback.
"""

import os
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import MetaData, create_engine, select, text
from sqlalchemy.engine import make_url

from learnloop import create_app
from learnloop.backup import libpq_connection
from learnloop.cli import upgrade_database
from lrs import vocabulary as v
from lrs.auth import create_credential
from lrs.db import make_engine, make_session_factory, write_transaction
from tests.conftest import XapiClient, make_credential
from tests.support.databases import fresh_database

# The commands through the real `learnloop` group; registered here until learnloop/cli.py does.
LAUNCH = """
import sys
from learnloop.cli import main
if "backup" not in main.commands:
    from learnloop.backup import backup_command, restore_command
    main.add_command(backup_command)
    main.add_command(restore_command)
main(sys.argv[1:], prog_name="learnloop")
"""

BATCH = 5


@pytest.fixture(scope="module")
def tools(backend, request, tmp_path_factory):
    """The environment of a `learnloop` process: the database, its own instance folder, and
    (PostgreSQL) the test server's own pg_dump and pg_restore, so their version matches."""
    env = {
        "LEARNLOOP_DATABASE_URL": backend,
        "LEARNLOOP_INSTANCE_PATH": str(tmp_path_factory.mktemp("instance")),
    }
    if backend.startswith("postgresql"):
        bindir = request.getfixturevalue("postgres_server").bindir
        if bindir is not None:
            env["LEARNLOOP_PG_BINDIR"] = str(bindir)
    return env


def learnloop(tools, *args, url=None, **env):
    environment = {**os.environ, **tools, **env}
    if url is not None:
        environment["LEARNLOOP_DATABASE_URL"] = url
    return subprocess.run(
        [sys.executable, "-c", LAUNCH, *map(str, args)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )


def refused(result, *words):
    """Exit status 1, a short message naming ``words``, no traceback."""
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    message = result.stderr.strip()
    assert message.startswith("Error: ") and len(message.splitlines()) <= 2, message
    for word in words:
        assert word in message, message
    return message


def no_partial_files(folder):
    return not [p for p in Path(folder).iterdir() if p.name.endswith(".partial")]


def batch(tag, n):
    registration = str(uuid.uuid4())
    return [
        {
            "id": str(uuid.uuid4()),
            "actor": {"mbox": f"mailto:writer-{n % 7}@example.com", "name": f"Writer {n % 7}"},
            "verb": {"id": v.COMPLETED, "display": {"en-US": "completed"}},
            "object": {
                "id": f"https://learn.example.com/{tag}/unit-{n}-{i}",
                "definition": {"name": {"en-US": f"Unit {n}.{i}"}},
            },
            "result": {"score": {"scaled": (n % 10) / 10}, "success": True},
            "context": {
                "registration": registration,
                "contextActivities": {
                    "parent": [{"id": f"https://learn.example.com/{tag}/course-{n % 3}"}],
                    "grouping": [{"id": f"https://learn.example.com/{tag}"}],
                },
                "instructor": {"mbox": "mailto:teacher@example.com"},
            },
        }
        for i in range(BATCH)
    ]


class Writer(threading.Thread):
    """Posts batches of statements until stopped; ``acknowledged`` is the ordered list of the
    batches the LRS answered 200 to (each batch is one write transaction)."""

    def __init__(self, client, tag):
        super().__init__(daemon=True)
        self.client, self.tag = client, tag
        self.acknowledged: list[list[str]] = []
        self.stopping = threading.Event()
        self.error: BaseException | None = None

    def run(self):
        try:
            n = 0
            while not self.stopping.is_set():
                statements = batch(self.tag, n)
                response = self.client.post("/statements", json=statements)
                assert response.status_code == 200, response.get_data(as_text=True)
                self.acknowledged.append([s["id"] for s in statements])
                n += 1
        except BaseException as exc:  # noqa: BLE001 (reported by the test)
            self.error = exc

    def wait_for(self, batches, timeout=60):
        deadline = time.monotonic() + timeout
        while len(self.acknowledged) < batches:
            assert self.error is None, self.error
            assert time.monotonic() < deadline, "the writer made no progress"
            time.sleep(0.01)

    def stop(self):
        self.stopping.set()
        self.join(60)
        assert self.error is None, self.error


def rows(engine, table, where=None):
    """A table's rows as a sorted list of tuples (JSON and binary values compared as stored)."""
    with engine.connect() as connection:
        query = select(*table.columns)
        if where is not None:
            query = query.where(where)
        return sorted(tuple(row) for row in connection.execute(query))


def reflected(engine):
    metadata = MetaData()
    metadata.reflect(engine)
    return metadata


def test_a_backup_under_write_load_restores_a_consistent_snapshot(
    app, backend, tools, tmp_path, request
):
    store, key, secret = make_credential(app, ["all"])
    writer = Writer(XapiClient(app, key, secret), f"load-{uuid.uuid4().hex[:6]}")
    writer.start()
    try:
        writer.wait_for(20)
        before = len(writer.acknowledged)
        made = learnloop(tools, "backup", tmp_path / "load.backup")
        after = len(writer.acknowledged)
        writer.wait_for(after + 10)  # the source moves on past the snapshot
    finally:
        writer.stop()
    assert made.returncode == 0, made.stderr
    assert "Traceback" not in made.stderr
    assert after > before, "the writer waited for the backup"
    assert no_partial_files(tmp_path)
    summary, reminder = made.stdout.strip().splitlines()
    assert f"to {tmp_path / 'load.backup'}" in summary and "migration revision" in summary
    assert "secret_key" in reminder

    with fresh_database(request, backend, tmp_path) as fresh:
        restored = learnloop(tools, "restore", tmp_path / "load.backup", url=fresh)
        assert restored.returncode == 0, restored.stderr
        assert "db upgrade" not in restored.stdout

        source, copy = create_engine(backend), create_engine(fresh)
        try:
            tables = reflected(source).tables
            statements, index = tables["statements"], tables["statement_index"]
            with copy.connect() as connection:
                (store_id,) = connection.execute(
                    text("SELECT id FROM stores WHERE name = :name"), {"name": store}
                ).one()
                got = set(
                    connection.scalars(
                        select(statements.c.statement_id).where(statements.c.store_id == store_id)
                    )
                )
            # A snapshot: the first k write transactions of the writer, all of each, k at least
            # the number acknowledged before the backup began.
            k = len(got) // BATCH
            assert len(got) == k * BATCH
            assert got == {sid for ids in writer.acknowledged[:k] for sid in ids}
            assert before <= k < len(writer.acknowledged)

            # Each restored statement and its index rows are exactly the source's.
            mine = statements.c.store_id == store_id
            restored_rows = rows(copy, statements, mine)
            assert restored_rows == rows(
                source, statements, mine & statements.c.statement_id.in_(got)
            )
            with copy.connect() as connection:
                seqs = list(connection.scalars(select(statements.c.seq).where(mine)))
            in_copy = index.c.seq.in_(seqs) & (index.c.store_id == store_id)
            assert rows(copy, index, in_copy) == rows(source, index, in_copy)
            assert len(rows(copy, index, in_copy)) >= len(seqs) * 4

            # Every other row of the backup is in the source: nothing half-written or invented.
            for name, table in reflected(copy).tables.items():
                primary = list(table.primary_key.columns)
                # statements and statement_index, and their monthly partitions on PostgreSQL
                if name.startswith(("statements", "statement_index")) or not primary:
                    continue
                keys = {tuple(row[: len(primary)]) for row in rows(source, tables[name])}
                with copy.connect() as connection:
                    restored_keys = {tuple(r) for r in connection.execute(select(*primary))}
                assert restored_keys <= keys, name
        finally:
            source.dispose()
            copy.dispose()


def test_a_quiet_backup_restores_an_equal_database(app, backend, tools, tmp_path, request):
    store, key, secret = make_credential(app, ["all"])
    client = XapiClient(app, key, secret)
    assert client.post("/statements", json=batch("quiet", 0)).status_code == 200
    document = client.put(
        "/activities/state",
        query_string={
            "activityId": "https://learn.example.com/quiet",
            "agent": '{"mbox": "mailto:writer-0@example.com"}',
            "stateId": "bookmark",
        },
        data=b"\x00\x01 page 7",
        content_type="application/octet-stream",
    )
    assert document.status_code == 204

    made = learnloop(tools, "backup", tmp_path / "quiet.backup")
    assert made.returncode == 0, made.stderr

    with fresh_database(request, backend, tmp_path) as fresh:
        restored = learnloop(tools, "restore", tmp_path / "quiet.backup", url=fresh)
        assert restored.returncode == 0, restored.stderr
        assert restored.stdout.startswith(f"restored {tmp_path / 'quiet.backup'}")

        source, copy = create_engine(backend), create_engine(fresh)
        try:
            original, restored_tables = reflected(source).tables, reflected(copy).tables
            assert sorted(restored_tables) == sorted(original)
            assert {"statements", "statement_index", "alembic_version"} <= set(original)
            for name, table in original.items():
                assert rows(copy, restored_tables[name]) == rows(source, table), name
        finally:
            source.dispose()
            copy.dispose()

        # The restored database serves: credentials sign in, the sequences carry on.
        served = create_app({"database_url": fresh, "public_url": "http://localhost"})
        try:
            again = XapiClient(served, key, secret)
            listed = again.get("/statements", query_string={"limit": 100})
            assert listed.status_code == 200 and len(listed.get_json()["statements"]) == BATCH
            assert again.post("/statements", json=batch("after", 1)).status_code == 200
        finally:
            served.extensions["learnloop"].engine.dispose()


def test_an_older_backup_asks_for_db_upgrade(app, backend, tools, tmp_path, request):
    with fresh_database(request, backend, tmp_path) as older:
        upgrade_database(older)
        engine = create_engine(older)
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
        engine.dispose()
        made = learnloop(tools, "backup", tmp_path / "old.backup", url=older)
        assert made.returncode == 0, made.stderr
        assert "migration revision 0001" in made.stdout
    assert learnloop(tools, "backup", tmp_path / "current.backup").returncode == 0
    with fresh_database(request, backend, tmp_path) as fresh:
        restored = learnloop(tools, "restore", tmp_path / "old.backup", url=fresh)
        assert restored.returncode == 0, restored.stderr
        assert "run `learnloop db upgrade`" in restored.stdout.splitlines()[-1]

        # Over tables of another revision: SQLite replaces the whole file; pg_restore would
        # replace only the backup's objects, so PostgreSQL asks for an empty database.
        over = learnloop(tools, "restore", tmp_path / "current.backup", "--force", url=fresh)
        if backend.startswith("sqlite"):
            assert over.returncode == 0, over.stderr
            assert "db upgrade" not in over.stdout
        else:
            refused(over, "revision 0001", "new, empty database")


def test_an_existing_backup_is_replaced_only_with_force(app, tools, tmp_path):
    target = tmp_path / "kept.backup"
    target.write_bytes(b"an older backup")
    refused(learnloop(tools, "backup", target), "already exists", "--force")
    assert target.read_bytes() == b"an older backup"
    forced = learnloop(tools, "backup", target, "--force")
    assert forced.returncode == 0, forced.stderr
    assert target.read_bytes() != b"an older backup"
    assert no_partial_files(tmp_path)


def test_a_database_with_data_is_replaced_only_with_force(app, backend, tools, tmp_path, request):
    assert learnloop(tools, "backup", tmp_path / "b").returncode == 0
    count = "SELECT count(*) FROM credentials"
    with fresh_database(request, backend, tmp_path) as fresh:
        assert learnloop(tools, "restore", tmp_path / "b", url=fresh).returncode == 0
        engine = make_engine(fresh)
        try:
            with engine.connect() as connection:
                credentials = connection.execute(text(count)).scalar()
            with write_transaction(make_session_factory(engine)) as session:
                create_credential(session, "added-later", ["all"], "later", "later-secret")
            message = refused(
                learnloop(tools, "restore", tmp_path / "b", url=fresh), "already holds data"
            )
            assert "--force" in message and "credentials" in message
            with engine.connect() as connection:
                assert connection.execute(text(count)).scalar() == credentials + 1
            forced = learnloop(tools, "restore", tmp_path / "b", "--force", url=fresh)
            assert forced.returncode == 0, forced.stderr
            with engine.connect() as connection:
                assert connection.execute(text(count)).scalar() == credentials
        finally:
            engine.dispose()


def test_a_backup_of_the_other_kind_is_refused(backend, tools, tmp_path):
    other = tmp_path / "other.backup"
    if backend.startswith("sqlite"):
        other.write_bytes(b"PGDMP\x01\x0e\x00" + os.urandom(64))
        words = ("PostgreSQL backup", "SQLite database")
    else:
        with sqlite3.connect(other) as connection:
            connection.execute("CREATE TABLE alembic_version (version_num TEXT)")
        words = ("SQLite backup", "PostgreSQL database")
    refused(learnloop(tools, "restore", other), *words)


def test_a_garbage_or_missing_file_is_refused(backend, tools, tmp_path):
    garbage = tmp_path / "garbage.backup"
    garbage.write_bytes(os.urandom(4096))
    refused(learnloop(tools, "restore", garbage), "not a Learnloop backup")
    refused(learnloop(tools, "restore", tmp_path / "absent.backup"), "there is no file")
    lookalike = tmp_path / "lookalike.backup"
    if backend.startswith("sqlite"):
        lookalike.write_bytes(b"SQLite format 3\x00" + os.urandom(4096))
        refused(learnloop(tools, "restore", lookalike), str(lookalike))
    else:
        lookalike.write_bytes(b"PGDMP" + os.urandom(4096))
        refused(learnloop(tools, "restore", lookalike), "pg_restore failed")
    unreadable = tmp_path / "folder.backup"
    unreadable.mkdir()
    refused(learnloop(tools, "restore", unreadable), "is a directory")


def test_an_unreachable_database_is_one_line_without_its_password(backend, tools, tmp_path):
    if backend.startswith("sqlite"):
        missing = f"sqlite:///{tmp_path / 'missing.sqlite3'}"
        refused(
            learnloop(tools, "backup", tmp_path / "b", url=missing), "there is no SQLite database"
        )
        assert not (tmp_path / "missing.sqlite3").exists()
        return
    password = "hunter2-" + uuid.uuid4().hex
    with socketless_port() as port:
        url = f"postgresql+psycopg://learnloop:{password}@127.0.0.1:{port}/learnloop"
        dumped = learnloop(tools, "backup", tmp_path / "b", url=url)
        refused(dumped, "pg_dump failed", "connection")
        assert password not in dumped.stdout + dumped.stderr
        restored = learnloop(tools, "restore", tmp_path / "absent", url=url)
        refused(restored, "there is no file")
    assert no_partial_files(tmp_path) and not (tmp_path / "b").exists()


def test_missing_pg_dump_is_one_line(app, backend, tools, tmp_path):
    result = learnloop(tools, "backup", tmp_path / "b", LEARNLOOP_PG_BINDIR=str(tmp_path))
    if backend.startswith("sqlite"):  # needs no client tools
        assert result.returncode == 0, result.stderr
        return
    refused(result, "no pg_dump", "LEARNLOOP_PG_BINDIR")
    assert no_partial_files(tmp_path) and not (tmp_path / "b").exists()


def test_the_password_goes_to_the_environment_not_the_command_line():
    url = make_url("postgresql+psycopg://ll:s%40cret@db.example.com:5433/learnloop?sslmode=require")
    conninfo, password = libpq_connection(url)
    assert password == "s@cret" and "cret" not in conninfo
    assert "host=db.example.com" in conninfo and "port=5433" in conninfo
    assert "dbname=learnloop" in conninfo and "sslmode=require" in conninfo


class socketless_port:
    """A TCP port on 127.0.0.1 that nothing listens on while the block runs."""

    def __enter__(self):
        import socket

        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        return self.socket.getsockname()[1]

    def __exit__(self, *exc):
        self.socket.close()
