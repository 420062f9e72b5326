"""``learnloop backup`` and ``learnloop restore``: a consistent copy of the database, and back.

SQLite is copied with its online backup API (one read transaction: a snapshot, while the server
keeps writing in WAL mode); PostgreSQL with ``pg_dump --format=custom`` (one repeatable-read
snapshot) and ``pg_restore``. A backup is written beside its final name and renamed when
complete, so a file with the final name is always a whole backup. See docs/backup.md.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import click
from sqlalchemy.engine import URL, make_url

from learnloop.config import Config
from learnloop.schema import code_heads, scripts
from schemas.errors import ConfigError

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
KIND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
#: pg_restore's options: replace the objects the backup holds (dropping them first, quietly when
#: they are absent), owned by whoever restores (the backup's roles may not exist here), without
#: the backup's GRANTs (same reason). It writes a script that psql runs all or nothing
#: (``_PSQL_OPTIONS``), because the script needs one correction first (``_clean_line``).
PG_RESTORE_OPTIONS = ("--clean", "--if-exists", "--no-owner", "--no-privileges", "--file=-")
_PSQL_OPTIONS = ("--single-transaction", "--set=ON_ERROR_STOP=1", "--quiet", "--no-psqlrc")
#: A partition's own constraints and indexes (lrs.partitions names them so): pg_restore --clean
#: drops them one by one before their tables, which PostgreSQL refuses for a partition's share
#: of its parent's; dropping the partition itself, a few lines on, takes them with it.
_PARTITION_DROP = re.compile(
    r"^(ALTER TABLE IF EXISTS ONLY \S+\.\S+_(y\d{4}m\d{2}|default) DROP CONSTRAINT"
    r"|DROP INDEX IF EXISTS \S+\.\S+_(y\d{4}m\d{2}|default)_)"
)


@dataclass(frozen=True)
class _Target:
    """The configured database: its kind, and its file (SQLite) or URL (PostgreSQL)."""

    kind: str
    url: URL
    config: Config

    @property
    def path(self) -> Path:
        return Path(os.path.abspath(self.url.database or ""))

    def describe(self) -> str:
        if self.kind == "sqlite":
            return f"SQLite database {self.path}"
        where = self.url.host or dict(self.url.query).get("host") or "the local socket"
        return f"PostgreSQL database {self.url.database} on {where}"


def _target() -> _Target:
    """The configured database (``Config`` already refused one that is not SQLite or PostgreSQL)."""
    try:
        config = Config.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    url = make_url(config.database_url)
    kind = url.get_backend_name()
    if kind == "sqlite" and url.database in (None, "", ":memory:"):
        raise click.ClickException(
            "LEARNLOOP_DATABASE_URL is an in-memory SQLite database: there is nothing to keep"
        )
    return _Target(kind, url, config)


# ==== Revisions =============================================================================


def _known_revision(revision: str) -> bool:
    from alembic.util import CommandError

    try:
        return scripts().get_revision(revision) is not None
    except CommandError:
        return False


def _show(revisions: set[str]) -> str:
    return ", ".join(sorted(revisions)) or "none"


def _upgrade_advice(revisions: set[str]) -> str | None:
    """A line telling what to do when the restored revision is not the code's, else None."""
    heads = set(code_heads())
    if revisions == heads:
        return None
    unknown = sorted(r for r in revisions if not _known_revision(r))
    if unknown:
        return (
            f"the backup is at migration revision {', '.join(unknown)}, which this Learnloop "
            f"(at {_show(heads)}) does not know: install the version that made the backup"
        )
    return (
        f"the backup is at migration revision {_show(revisions)} and this Learnloop is at "
        f"{_show(heads)}: run `learnloop db upgrade` before serving"
    )


# ==== Files =================================================================================


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    size = n / 1024
    for unit in ("KB", "MB"):
        if size < 1024:
            return f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def _prepare_destination(file: Path, force: bool) -> Path:
    """Check that ``file`` may be written; return its absolute path."""
    file = Path(os.path.abspath(file))
    if file.is_dir():
        raise click.ClickException(f"{file} is a directory: name the backup file inside it")
    if file.exists() and not force:
        raise click.ClickException(
            f"{file} already exists: choose another name, or pass --force to replace it"
        )
    if not file.parent.is_dir():
        raise click.ClickException(f"there is no directory {file.parent}: create it first")
    if not os.access(file.parent, os.W_OK):
        raise click.ClickException(f"cannot write in {file.parent}: permission denied")
    return file


@contextlib.contextmanager
def _partial_file(final: Path):
    """A new private (0600) file beside ``final``; removed unless the block completes."""
    fd, name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".partial", dir=final.parent)
    os.close(fd)
    partial = Path(name)
    try:
        yield partial
    finally:
        for suffix in ("", "-journal", "-wal", "-shm"):  # SQLite's files beside it, if any
            with contextlib.suppress(FileNotFoundError):
                Path(f"{partial}{suffix}").unlink()


def _publish(partial: Path, final: Path, force: bool) -> None:
    """Make the complete ``partial`` durable and give it its final name (atomically)."""
    with open(partial, "rb") as handle:
        os.fsync(handle.fileno())
    if force:
        os.replace(partial, final)
    else:
        try:
            os.link(partial, final)  # fails if the name appeared meanwhile: never overwrite
        except FileExistsError:
            raise click.ClickException(
                f"{final} appeared while backing up: choose another name, or pass --force"
            ) from None
        except OSError:  # a file system without hard links
            if final.exists():
                raise click.ClickException(f"{final} appeared while backing up") from None
            os.replace(partial, final)
    directory = os.open(final.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _backup_kind(file: Path) -> str:
    """``sqlite`` or ``postgresql`` from the file's first bytes; a user error otherwise."""
    file = Path(os.path.abspath(file))
    if not file.exists():
        raise click.ClickException(f"there is no file {file}")
    if file.is_dir():
        raise click.ClickException(f"{file} is a directory, not a backup file")
    try:
        with open(file, "rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise click.ClickException(f"cannot read {file}: {exc.strerror}") from None
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "postgresql"
    raise click.ClickException(
        f"{file} is not a Learnloop backup: it is neither a SQLite database nor a pg_dump "
        "custom-format archive"
    )


# ==== SQLite ================================================================================


def _sqlite_open(path: Path, mode: str) -> sqlite3.Connection:
    """A connection to an existing database file (``ro`` or ``rw``; never creates one)."""
    uri = Path(path).absolute().as_uri().replace("file://", "file:", 1) + f"?mode={mode}"
    connection = sqlite3.connect(uri, uri=True, timeout=30, isolation_level=None)
    connection.execute("PRAGMA busy_timeout=30000")
    return connection


def _sqlite_revision(connection: sqlite3.Connection) -> set[str] | None:
    """The migration revisions recorded in the database, or None without ``alembic_version``."""
    has = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
    ).fetchone()
    if not has:
        return None
    return {row[0] for row in connection.execute("SELECT version_num FROM alembic_version")}


def _sqlite_tables_with_rows(connection: sqlite3.Connection) -> list[str]:
    names = [
        row[0]
        for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name != 'alembic_version' ORDER BY name"
        )
    ]
    quoted = (name.replace('"', '""') for name in names)
    return [
        name
        for name, q in zip(names, quoted, strict=True)
        if connection.execute(f'SELECT EXISTS (SELECT 1 FROM "{q}")').fetchone()[0]  # noqa: S608
    ]


def _sqlite_error(what: str, exc: sqlite3.Error) -> click.ClickException:
    return click.ClickException(f"{what}: {exc}")


def _backup_sqlite(target: _Target, file: Path, force: bool) -> tuple[str, set[str]]:
    source = target.path
    if not source.exists():
        raise click.ClickException(
            f"there is no SQLite database at {source}: check LEARNLOOP_DATABASE_URL "
            "(or LEARNLOOP_INSTANCE_PATH)"
        )
    with _partial_file(file) as partial:
        try:
            origin = _sqlite_open(source, "rw")
        except sqlite3.Error as exc:
            raise _sqlite_error(f"cannot open {source}", exc) from None
        try:
            try:
                copy = sqlite3.connect(partial, isolation_level=None)
                try:
                    # One step (pages=-1): one read transaction, so one snapshot; in WAL mode
                    # the server's writers never wait for it.
                    origin.backup(copy)
                    copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
                    revision = _sqlite_revision(copy)
                finally:
                    copy.close()
            except sqlite3.Error as exc:
                raise _sqlite_error(f"cannot back up {source}", exc) from None
        finally:
            origin.close()
        if revision is None:
            raise click.ClickException(
                f"{source} is not a Learnloop database (it has no alembic_version table): "
                "check LEARNLOOP_DATABASE_URL"
            )
        size = partial.stat().st_size
        _publish(partial, file, force)
    return _size(size), revision


def _restore_sqlite(target: _Target, file: Path, force: bool) -> set[str]:
    try:
        backup = _sqlite_open(file, "ro")
    except sqlite3.Error as exc:
        raise _sqlite_error(f"cannot open {file}", exc) from None
    try:
        try:
            revision = _sqlite_revision(backup)
            check = backup.execute("PRAGMA quick_check").fetchone()[0]
        except sqlite3.Error as exc:
            raise _sqlite_error(f"{file} is not a readable SQLite database", exc) from None
        if revision is None:
            raise click.ClickException(
                f"{file} is a SQLite database but not a Learnloop backup (no alembic_version)"
            )
        if check != "ok":
            raise click.ClickException(f"{file} is damaged (SQLite quick_check: {check})")
        destination = target.path
        if destination.exists():
            try:
                existing = _sqlite_open(destination, "rw")
                try:
                    occupied = _sqlite_tables_with_rows(existing)
                finally:
                    existing.close()
            except sqlite3.Error as exc:
                raise _sqlite_error(f"cannot open {destination}", exc) from None
            _refuse_occupied(target, occupied, force)
        else:
            try:
                destination.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise click.ClickException(
                    f"cannot create {destination.parent}: {exc.strerror}"
                ) from None
        try:
            restored = sqlite3.connect(destination, timeout=30, isolation_level=None)
            try:
                restored.execute("PRAGMA busy_timeout=30000")
                backup.backup(restored)  # replaces every page, in one write transaction
                restored.execute("PRAGMA journal_mode=WAL")
            finally:
                restored.close()
        except sqlite3.Error as exc:
            raise _sqlite_error(f"cannot restore into {destination}", exc) from None
    finally:
        backup.close()
    return revision


# ==== PostgreSQL ============================================================================


def _pg_tool(name: str) -> str:
    """The path of ``pg_dump`` or ``pg_restore``: in LEARNLOOP_PG_BINDIR if set, else on PATH."""
    bindir = os.environ.get("LEARNLOOP_PG_BINDIR")
    if bindir:
        path = os.path.join(bindir, name)
        if not os.access(path, os.X_OK):
            raise click.ClickException(
                f"there is no {name} in LEARNLOOP_PG_BINDIR ({bindir}): point it at the bin "
                "directory of PostgreSQL's client tools"
            )
        return path
    found = shutil.which(name)
    if found is None:
        raise click.ClickException(
            f"{name} was not found on PATH: install PostgreSQL's client tools (the server's "
            "major version or newer), or set LEARNLOOP_PG_BINDIR to their bin directory"
        )
    return found


def libpq_connection(url: URL) -> tuple[str, str | None]:
    """A libpq connection string for ``url`` without its password, and the password.

    The password travels in the PGPASSWORD environment variable of pg_dump and pg_restore, so
    it never appears on a command line (which every user of the machine can read).
    """
    from psycopg.conninfo import make_conninfo

    params: dict[str, str] = {}
    for key, value in url.query.items():
        params[key] = value if isinstance(value, str) else value[-1]
    password = url.password or params.pop("password", None)
    if url.host:
        params["host"] = url.host
    if url.port:
        params["port"] = str(url.port)
    if url.username:
        params["user"] = url.username
    if url.database:
        params["dbname"] = url.database
    return make_conninfo(**params), (str(password) if password is not None else None)


def _pg_connection(url: URL) -> tuple[dict[str, str], list[str]]:
    """The environment and arguments that connect a client tool to ``url``, password apart."""
    conninfo, password = libpq_connection(url)
    environment = dict(os.environ)
    environment.setdefault("PGCONNECT_TIMEOUT", "10")
    if password is not None:
        environment["PGPASSWORD"] = password
    return environment, ["--no-password", f"--dbname={conninfo}"]


def _pg_run(
    tool: str, arguments: list[str], url: URL | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``tool`` with ``arguments``, connected to ``url`` when given (``--dbname``)."""
    environment = dict(os.environ)
    command = [_pg_tool(tool), *arguments]
    if url is not None:
        environment, connection = _pg_connection(url)
        command += connection
    try:
        return subprocess.run(  # noqa: S603 (our own arguments, no shell)
            command, env=environment, capture_output=True, text=True, check=False
        )
    except OSError as exc:
        raise click.ClickException(f"cannot run {command[0]}: {exc.strerror}") from None


def _pg_failure(tool: str, result: subprocess.CompletedProcess[str], advice: str) -> str:
    """Two lines: the tool's last error (with its detail, if any), then what to do."""
    lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
    errors = [i for i, line in enumerate(lines) if "error:" in line]
    at = errors[-1] if errors else len(lines) - 1
    if at < 0:
        return f"{tool} failed with exit status {result.returncode}\n{advice}"
    last = lines[at].removeprefix(f"{tool}: ").removeprefix("error: ")
    if at + 1 < len(lines) and lines[at + 1].startswith(f"{tool}: detail: "):
        last += " (" + lines[at + 1].removeprefix(f"{tool}: detail: ") + ")"
    if "version mismatch" in last:
        advice = (
            f"Use a {tool} of the server's major version or newer: put its bin directory in "
            "LEARNLOOP_PG_BINDIR."
        )
    return f"{tool} failed: {last}\n{advice}"


def _pg_restore_script(file: Path, url: URL) -> subprocess.CompletedProcess[str]:
    """pg_restore's script of ``file``, less the drops PostgreSQL refuses, run by psql.

    Returns psql's result, or pg_restore's when it is the one that failed.
    """
    environment, connection = _pg_connection(url)
    restore = [_pg_tool("pg_restore"), *PG_RESTORE_OPTIONS, str(file)]
    psql = [_pg_tool("psql"), *_PSQL_OPTIONS, *connection]
    try:
        # Our own arguments, no shell.
        with (
            subprocess.Popen(  # noqa: S603
                restore, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            ) as script,
            subprocess.Popen(  # noqa: S603
                psql,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                env=environment,
                text=True,
            ) as runner,
        ):
            errors: list[str] = []
            reader = threading.Thread(target=lambda: errors.append(runner.stderr.read()))
            reader.start()
            try:
                for line in script.stdout:
                    if not _PARTITION_DROP.match(line):
                        runner.stdin.write(line)
            except BrokenPipeError:
                pass  # psql stopped at an error: its message says which
            finally:
                with contextlib.suppress(BrokenPipeError):
                    runner.stdin.close()
            restore_errors = script.stderr.read()
    except OSError as exc:
        raise click.ClickException(f"cannot run {exc.filename}: {exc.strerror}") from None
    reader.join()
    if script.returncode != 0:
        return subprocess.CompletedProcess(restore, script.returncode, "", restore_errors)
    return subprocess.CompletedProcess(psql, runner.returncode, "", _as_pg_restore("".join(errors)))


def _as_pg_restore(psql_errors: str) -> str:
    """The errors psql prints (``psql:<stdin>:12: ERROR:  …``) as pg_restore words them."""
    lines = []
    for line in psql_errors.splitlines():
        message = re.sub(r"^psql:<stdin>:\d+: ", "", line)
        for level in ("ERROR", "FATAL", "DETAIL"):
            if message.startswith(f"{level}:"):
                word = "detail" if level == "DETAIL" else "error"
                message = f"pg_restore: {word}: " + message.removeprefix(f"{level}:").strip()
        lines.append(message)
    return "\n".join(lines)


def _pg_dump_revision(file: Path) -> set[str] | None:
    """The revisions in a custom-format archive's ``alembic_version`` data, or None."""
    listed = _pg_run("pg_restore", ["--list", str(file)])
    if listed.returncode != 0:
        raise click.ClickException(
            _pg_failure("pg_restore", listed, f"{file} is not a readable pg_dump archive.")
        )
    if not any(
        "TABLE DATA" in line and " alembic_version " in f" {line} "
        for line in listed.stdout.splitlines()
    ):
        return None
    data = _pg_run(
        "pg_restore",
        ["--data-only", "--table=alembic_version", "--file=-", str(file)],
    )
    if data.returncode != 0:
        raise click.ClickException(
            _pg_failure("pg_restore", data, f"{file} is not a readable pg_dump archive.")
        )
    revisions: set[str] = set()
    copying = False
    for line in data.stdout.splitlines():
        if line.startswith("COPY ") and "alembic_version" in line:
            copying = True
        elif copying and line == "\\.":
            copying = False
        elif copying and line:
            revisions.add(line.split("\t")[0])
    return revisions


def _backup_postgresql(target: _Target, file: Path, force: bool) -> tuple[str, set[str]]:
    with _partial_file(file) as partial:
        # One snapshot of the whole database; writers never wait for it.
        result = _pg_run("pg_dump", ["--format=custom", f"--file={partial}"], target.url)
        if result.returncode != 0:
            raise click.ClickException(
                _pg_failure(
                    "pg_dump",
                    result,
                    "Check LEARNLOOP_DATABASE_URL and that the server is reachable.",
                )
            )
        revision = _pg_dump_revision(partial)
        if revision is None:
            raise click.ClickException(
                f"{target.describe()} is not a Learnloop database (it has no alembic_version "
                "table): check LEARNLOOP_DATABASE_URL"
            )
        size = partial.stat().st_size
        _publish(partial, file, force)
    return _size(size), revision


def _pg_contents(target: _Target) -> tuple[list[str], set[str] | None]:
    """The tables of the target that hold rows, and its migration revisions (None: no schema)."""
    from sqlalchemy import create_engine, inspect, text
    from sqlalchemy.exc import SQLAlchemyError

    engine = create_engine(target.url, hide_parameters=True)
    try:
        with engine.connect() as connection:
            tables = inspect(connection).get_table_names()
            quote = connection.dialect.identifier_preparer.quote
            occupied = [
                name
                for name in sorted(tables)
                if name != "alembic_version"
                and connection.execute(
                    text(f"SELECT EXISTS (SELECT 1 FROM {quote(name)})")  # noqa: S608
                ).scalar()
            ]
            revision = None
            if "alembic_version" in tables:
                revision = set(connection.scalars(text("SELECT version_num FROM alembic_version")))
            return occupied, revision
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise click.ClickException(
            f"cannot reach {target.describe()}: {reason}\nCheck LEARNLOOP_DATABASE_URL and "
            "that the server is running."
        ) from None
    finally:
        engine.dispose()


def _restore_postgresql(target: _Target, file: Path, force: bool) -> set[str]:
    revision = _pg_dump_revision(file)
    if revision is None:
        raise click.ClickException(
            f"{file} is a pg_dump archive but not a Learnloop backup (no alembic_version)"
        )
    occupied, existing = _pg_contents(target)
    _refuse_occupied(target, occupied, force)
    if existing is not None and existing != revision:
        # pg_restore --clean replaces only the backup's own objects: tables of another revision
        # would stay behind, and the schema would match neither revision.
        raise click.ClickException(
            f"{target.describe()} has Learnloop's tables at migration revision "
            f"{_show(existing)}, the backup is at {_show(revision)}: restore into a new, empty "
            "database (createdb)"
        )
    result = _pg_restore_script(file, target.url)
    if result.returncode != 0:
        raise click.ClickException(
            _pg_failure(
                "pg_restore",
                result,
                "Nothing was changed (the restore is one transaction). Restoring into a new, "
                "empty database (createdb) avoids conflicts.",
            )
        )
    return revision


# ==== The commands ==========================================================================


def _refuse_occupied(target: _Target, occupied: list[str], force: bool) -> None:
    if occupied and not force:
        shown = ", ".join(occupied[:3]) + (", ..." if len(occupied) > 3 else "")
        raise click.ClickException(
            f"{target.describe()} already holds data (in {shown}): restore into an empty "
            "database, or pass --force to replace it"
        )


def _sealing_key_reminder(config: Config) -> str:
    if config.secret_key:
        where = "LEARNLOOP_SECRET_KEY"
    else:
        where = os.path.join(os.path.abspath(config.instance_path), "secret_key")
    return (
        f"The sealing key ({where}) is not in the backup: keep a copy apart from it, or the "
        "sealed secrets (LTI tool keys, webhook and sign-in secrets) cannot be opened."
    )


@click.command("backup")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
def backup_command(file: Path, force: bool) -> None:
    """Write a consistent copy of the database (LEARNLOOP_DATABASE_URL) to FILE.

    The server may keep running and writing: the copy is one snapshot. SQLite is copied with
    its online backup API into a SQLite file; PostgreSQL with `pg_dump --format=custom` (from
    LEARNLOOP_PG_BINDIR, else PATH). FILE appears only when complete. The sealing key
    (instance/secret_key or LEARNLOOP_SECRET_KEY) is not in it: keep that too (docs/backup.md).
    """
    target = _target()
    file = _prepare_destination(file, force)
    if target.kind == "sqlite":
        size, revision = _backup_sqlite(target, file, force)
    else:
        size, revision = _backup_postgresql(target, file, force)
    click.echo(
        f"backed up {target.describe()} to {file}: {size}, migration revision {_show(revision)}"
    )
    click.echo(_sealing_key_reminder(target.config))


@click.command("restore")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that already holds data.")
def restore_command(file: Path, force: bool) -> None:
    """Restore a `learnloop backup` FILE into the database (LEARNLOOP_DATABASE_URL).

    Stop the server and workers first: on SQLite the file is overwritten in place, and a
    running server would keep serving what it had cached. A SQLite backup goes into SQLite, a
    PostgreSQL one (pg_restore, one transaction) into PostgreSQL. A database that already holds
    data is refused unless --force. Run `learnloop db upgrade` afterwards if the backup is
    older than this Learnloop.
    """
    target = _target()
    file = Path(os.path.abspath(file))
    kind = _backup_kind(file)
    if kind != target.kind:
        raise click.ClickException(
            f"{file} is a {KIND_NAMES[kind]} backup, but LEARNLOOP_DATABASE_URL is a "
            f"{KIND_NAMES[target.kind]} database: restore it into a {KIND_NAMES[kind]} database"
        )
    if kind == "sqlite":
        revision = _restore_sqlite(target, file, force)
    else:
        revision = _restore_postgresql(target, file, force)
    click.echo(f"restored {file} (migration revision {_show(revision)}) into {target.describe()}")
    advice = _upgrade_advice(revision)
    if advice:
        click.echo(advice)
