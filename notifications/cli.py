"""``learnloop notifications digest``: send a store's weekly digest now (the worker sends it)."""

from __future__ import annotations

import click


@click.group("notifications")
def notifications_cli() -> None:
    """Notifications: the weekly digest on demand."""


@notifications_cli.command("digest")
@click.option("--store", "store_name", required=True, help="Organisation (store) name.")
def digest_command(store_name) -> None:
    """Leave the last week's digest for the worker to e-mail now (the weekly one still runs)."""
    from lrs.auth import require_store
    from lrs.db import write_transaction
    from lrs.errors import LrsError
    from lrs.runtime import for_command
    from notifications.settings import mail_config
    from notifications.tasks import digest_now

    runtime = for_command()
    try:
        with write_transaction(runtime.sessions) as session:
            store_id = require_store(session, store_name).id
            if not mail_config().configured:
                raise click.ClickException(
                    "e-mail is not set up: set LEARNLOOP_SMTP_HOST and LEARNLOOP_SMTP_FROM_ADDRESS"
                )
            digest_now(session, store_id, runtime.clock())
    except LrsError as exc:
        raise click.ClickException(exc.message) from None
    click.echo("digest queued: a running worker (serve, demo, worker) e-mails it now")
