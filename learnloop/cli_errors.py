"""What a failed command tells its user: one or two lines, what is wrong and what to do.

A traceback is for the people who write Learnloop; the people who run it get a sentence. Every
exception a command lets escape passes through ``explain``; ``--debug`` (or
``LEARNLOOP_DEBUG=1``) shows the traceback instead.
"""

from __future__ import annotations

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from schemas.errors import ConfigError, LrsError

UPGRADE = "run `learnloop db upgrade` (with the same LEARNLOOP_DATABASE_URL) and try again"


def shown_url(database_url: str) -> str:
    """The database URL without its password, for messages."""
    try:
        return make_url(database_url).render_as_string(hide_password=True)
    except sa_exc.ArgumentError:
        return "LEARNLOOP_DATABASE_URL"


def explain(error: BaseException, database_url: str = "") -> str:
    """The message for ``error``: plain words, never a traceback, never a password."""
    where = shown_url(database_url) if database_url else "the database"
    if isinstance(error, ConfigError):
        return str(error)
    if isinstance(error, LrsError):
        details = "; ".join(str(e) for e in error.errors[:3])
        return error.message + (f" ({details})" if details else "")
    if isinstance(error, sa_exc.DBAPIError):
        return _database_error(error, where)
    if isinstance(error, sa_exc.NoSuchModuleError):
        return (
            f"{where} names a database Learnloop does not support; use sqlite:///path/file.sqlite3 "
            "or postgresql+psycopg://user:password@host:5432/name"
        )
    if isinstance(error, FileNotFoundError):
        return f"no such file or folder: {error.filename}"
    if isinstance(error, PermissionError):
        return f"permission denied: {error.filename} (check its owner and mode)"
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror}: {error.filename}" if error.filename else error.strerror
    first = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return (
        f"unexpected error: {type(error).__name__}{': ' + first if first else ''}\n"
        "Run the command again with --debug to see where it happened, and report it."
    )


def _database_error(error: sa_exc.DBAPIError, where: str) -> str:
    original = str(error.orig or error).strip().splitlines()[0]
    lowered = original.lower()
    if "no such table" in lowered or ("relation" in lowered and "does not exist" in lowered):
        return f"{where} has no Learnloop tables yet (or lacks some).\nTo fix: {UPGRADE}."
    if "no such column" in lowered or ("column" in lowered and "does not exist" in lowered):
        return f"{where} is older than this version of Learnloop.\nTo fix: {UPGRADE}."
    if "database is locked" in lowered:
        return f"{where} is busy: another process holds its write lock; try again in a moment"
    if "unable to open database file" in lowered:
        return f"cannot open {where}: check the path and that its folder is writable"
    if isinstance(error, sa_exc.OperationalError) or "connection" in lowered:
        reason = original.removeprefix("connection failed: ")
        return (
            f"cannot reach {where}: {reason}\n"
            "Check LEARNLOOP_DATABASE_URL and that the database server is running."
        )
    return f"the database refused the command: {original}"
