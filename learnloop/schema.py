"""The database schema's state: which migrations a database has, and bringing it up to date.

``db upgrade``, ``demo``, ``doctor``, the readiness check and the tests all ask the same two
questions (where is this database, where is the code), so they are answered here once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


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


def _scripts():
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def head_revision() -> str:
    """The revision the code expects (the migrations have a single head)."""
    return _scripts().get_current_head()


def current_revision(connection) -> str | None:
    """The revision ``connection``'s database is at; None when it has never been migrated."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


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
    scripts = _scripts()
    pending = list(scripts.iterate_revisions("heads", before or "base"))
    pending.reverse()
    return [
        Migration(script.revision, (script.doc or "").strip().splitlines()[0] if script.doc else "")
        for script in pending
        if script.revision != before
    ]
