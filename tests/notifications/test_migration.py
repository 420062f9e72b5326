"""Migration 0024 makes exactly the tables the notifications' models describe, on both databases."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import notifications.models  # noqa: F401  (its tables on Base.metadata)
from learnloop.cli import upgrade_database
from lrs.db import make_engine
from lrs.models import Base

TABLES = ("notifications", "notification_preferences", "chat_hooks")


def test_the_migration_matches_the_models(backend):
    upgrade_database(backend)
    engine = make_engine(backend)
    try:
        with engine.connect() as connection:
            assert set(TABLES) <= set(inspect(connection).get_table_names())
            diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
    ours = [d for d in diffs if any(f"'{t}'" in repr(d) or f"{t}." in repr(d) for t in TABLES)]
    assert ours == []
