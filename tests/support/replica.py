"""A real streaming replica of the throw-away PostgreSQL server (``tests/support/postgres.py``).

``with StreamingReplica(postgres_server) as replica:`` takes a base backup of the running
server with ``pg_basebackup -R -X stream`` (so the copy starts as a standby that streams the
primary's WAL), starts it on its own port and socket directory as the same unprivileged OS
user, and waits until it accepts read-only connections. ``replica.url_for(name)`` is the
SQLAlchemy URL of a database on it (every database of the primary is there, including ones
created later). ``pause()``/``resume()`` stop and restart replaying WAL, to show lag.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg.conninfo import make_conninfo

from tests.support.postgres import SERVER_SETTINGS, SUPERUSER, ThrowawayPostgres, _free_port


class StreamingReplica:
    def __init__(self, primary: ThrowawayPostgres, timeout: float = 60.0) -> None:
        if primary.bindir is None or primary.tempdir is None or primary.socket_dir is None:
            raise RuntimeError("a replica needs a local throw-away server, not an external one")
        self.primary = primary
        self.timeout = timeout
        self.datadir: Path = primary.tempdir / f"replica-{os.getpid()}-{time.monotonic_ns()}"
        self.socket_dir: Path = Path(str(self.datadir) + "-socket")
        self.port = _free_port()
        self._process: subprocess.Popen | None = None

    def __enter__(self) -> StreamingReplica:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _run(self, args: list[str]) -> subprocess.CompletedProcess:
        return subprocess.run(
            args,
            cwd=self.primary.tempdir,
            env=self.primary._server_env(),
            capture_output=True,
            text=True,
            timeout=self.timeout,
            check=False,
            **self.primary._run_as(),
        )

    def start(self) -> None:
        bindir = self.primary.bindir
        backup = self._run(
            [str(bindir / "pg_basebackup"), "-D", str(self.datadir), "-R", "-X", "stream",
             "--no-sync", "-h", str(self.primary.socket_dir), "-p", str(self.primary.port),
             "-U", SUPERUSER, "-c", "fast"]
        )  # fmt: skip
        if backup.returncode != 0:
            raise RuntimeError(f"pg_basebackup failed: {backup.stderr}")
        self.socket_dir.mkdir(mode=0o700)
        if self.primary._running_as is not None:
            user = self.primary._running_as
            os.chown(self.socket_dir, user.pw_uid, user.pw_gid)
        settings = {
            **SERVER_SETTINGS,
            "listen_addresses": "",
            "unix_socket_directories": str(self.socket_dir),
            "port": str(self.port),
            "hot_standby": "on",
        }
        command = [str(bindir / "postgres"), "-D", str(self.datadir)]
        for key, value in settings.items():
            command += ["-c", f"{key}={value}"]
        log = open(str(self.datadir) + ".log", "ab")
        with log:
            self._process = subprocess.Popen(
                command,
                cwd=self.primary.tempdir,
                env=self.primary._server_env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **self.primary._run_as(),
            )
        deadline = time.monotonic() + self.timeout
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(
                    "the replica exited while starting:\n"
                    + Path(str(self.datadir) + ".log").read_text()[-3000:]
                )
            try:
                with psycopg.connect(self.conninfo("postgres"), connect_timeout=2) as conn:
                    if conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
                        return
            except psycopg.OperationalError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the replica did not accept connections in time")
            time.sleep(0.1)

    def conninfo(self, database: str) -> str:
        return make_conninfo(
            host=str(self.socket_dir), port=str(self.port), user=SUPERUSER, dbname=database
        )

    def url_for(self, database: str) -> str:
        host = quote(str(self.socket_dir), safe="")
        return f"postgresql+psycopg://{SUPERUSER}@/{database}?host={host}&port={self.port}"

    def _execute(self, sql: str):
        with psycopg.connect(self.conninfo("postgres"), autocommit=True) as conn:
            return conn.execute(sql).fetchall()

    def pause(self) -> None:
        """Stop replaying WAL: the replica keeps receiving but shows nothing new."""
        self._execute("SELECT pg_wal_replay_pause()")

    def resume(self) -> None:
        self._execute("SELECT pg_wal_replay_resume()")

    def wait_for_database(self, database: str) -> None:
        """Until the replica has replayed the primary's CREATE DATABASE of ``database``."""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            rows = self._execute(f"SELECT 1 FROM pg_database WHERE datname = '{database}'")
            if rows:
                return
            time.sleep(0.1)
        raise RuntimeError(f"the replica never saw database {database}")

    def caught_up(self) -> None:
        """Until the replica has replayed everything the primary has written so far."""
        with psycopg.connect(self.primary.conninfo("postgres"), autocommit=True) as conn:
            target = conn.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            done = self._execute(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn")[0][0]
            if done:
                return
            time.sleep(0.05)
        raise RuntimeError("the replica did not catch up")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        for sig, wait in ((signal.SIGINT, 20), (signal.SIGKILL, 10)):
            if process.poll() is not None:
                break
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(wait)
