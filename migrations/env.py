"""Alembic environment: ``learnloop db upgrade`` sets the URL from Learnloop's configuration."""

from alembic import context

import connectors.models  # noqa: F401
import directory.governance.models  # noqa: F401  (erasure records, retention policies)
import directory.models  # noqa: F401
import directory.scim.models  # noqa: F401
import directory.sign_in.models  # noqa: F401
import feedback.models  # noqa: F401  (health checks, after-action reviews, mentoring)
import lrs.audit  # noqa: F401  (the audit_events table)
import lrs.deliveries  # noqa: F401  (the deliveries log of forwarding and webhooks)
import lrs.documents.models  # noqa: F401  (puts the documents table on Base.metadata)
import lrs.forwarding.models  # noqa: F401
import lrs.oauth_models  # noqa: F401
import lrs.people.models  # noqa: F401
import lrs.webhooks  # noqa: F401  (the webhook_endpoints table)
import lti.models  # noqa: F401
import notifications.models  # noqa: F401  (inbox, preferences, chat hooks)
import objectives.models  # noqa: F401
import recognition.models  # noqa: F401  (kudos, rewards, badges, opt-ins)
from lrs.db import make_engine
from lrs.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("run migrations with `learnloop db upgrade` (it sets the database URL)")
    return url


def run_migrations_offline() -> None:
    context.configure(
        url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is None:
        engine = make_engine(_url())
        with engine.connect() as connection:
            _run(connection)
        engine.dispose()
    else:
        _run(connectable)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
