"""The database schema's state: which migrations a database has, and bringing it up to date.

``db upgrade``, ``demo``, ``doctor``, the readiness check and the tests all ask the same two
questions (where is this database, where is the code), so they are answered here once.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

from sqlalchemy import inspect, text

#: Alembic's table of applied revisions (its default name; ``migrations/env.py`` keeps it).
VERSION_TABLE = "alembic_version"


@dataclass(frozen=True)
class Migration:
    """One applied migration: its revision id and the first line of its docstring."""

    revision: str
    title: str


def alembic_config(database_url: str):
    """Alembic's configuration for ``database_url``, with the migrations shipped in the package."""
    from alembic.config import Config as AlembicConfig

    import migrations

    here = os.path.dirname(migrations.__file__)
    cfg = AlembicConfig(os.path.join(here, "alembic.ini"))
    cfg.set_main_option("script_location", here)
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def scripts():
    """The migrations the code ships (Alembic's script directory)."""
    from alembic.script import ScriptDirectory

    import migrations

    return ScriptDirectory(os.path.dirname(migrations.__file__))


@functools.cache
def code_heads() -> frozenset[str]:
    """The revisions the code expects (read once per process; the migrations have one head)."""
    return frozenset(scripts().get_heads())


def head_revision() -> str:
    """The one revision the code expects."""
    return max(code_heads())


def database_heads(connection) -> frozenset[str]:
    """The revisions ``connection``'s database is at; empty when it was never migrated.

    Read from Alembic's table directly: its MigrationContext logs two lines each time, and
    readiness is asked every few seconds.
    """
    if not inspect(connection).has_table(VERSION_TABLE):
        return frozenset()
    return frozenset(
        row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))
    )


def current_revision(connection) -> str | None:
    """The revision ``connection``'s database is at; None when it has never been migrated."""
    heads = database_heads(connection)
    return max(heads) if heads else None


def upgrade_database(database_url: str) -> list[Migration]:
    """Apply every missing migration (creating the SQLite file if needed); return those applied."""
    from alembic import command

    from lrs.db import make_engine

    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            before = current_revision(connection)
    finally:
        engine.dispose()
    command.upgrade(alembic_config(database_url), "heads")
    pending = list(scripts().iterate_revisions("heads", before or "base"))
    pending.reverse()
    return [
        Migration(script.revision, (script.doc or "").strip().splitlines()[0] if script.doc else "")
        for script in pending
        if script.revision != before
    ]
