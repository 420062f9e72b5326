"""``learnloop accounts …`` and ``learnloop objectives …``."""

from __future__ import annotations

import click

from lrs.cli_params import EMAIL, PASSWORD


def _sessions():
    """The command's engine and sessions, opened by the shell from its configuration."""
    from lrs.runtime import for_command

    runtime = for_command()
    return runtime.engine, runtime.sessions


@click.group("accounts")
def accounts_cli() -> None:
    """Accounts that sign in to the pages and the /api routes."""


@accounts_cli.command("create")
@click.option("--store", "store_name", required=True)
@click.option("--email", required=True, type=EMAIL)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, type=PASSWORD)
@click.option("--name", default="", help="The person's name (a person is created if needed).")
@click.option("--admin", is_flag=True, help="Administers the whole store.")
def create_account_command(store_name, email, password, name, admin) -> None:
    """Create an account (and its person, identified by the email) in a store."""
    from lrs.auth import require_store
    from lrs.db import write_transaction
    from lrs.errors import LrsError
    from lrs.people.services import ensure_person
    from objectives.accounts import create_account

    engine, sessions = _sessions()
    try:
        with write_transaction(sessions) as session:
            store = require_store(session, store_name)
            person = ensure_person(
                session, store.id, {"mbox": "mailto:" + email.strip().lower()}, name=name
            )
            account = create_account(
                session, store.id, email, password, person_id=person.id, is_admin=admin
            )
            click.echo(
                f"account {account.id} for {account.email} (person {person.id})"
                + (", admin" if admin else "")
            )
    except LrsError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        engine.dispose()


@click.group("objectives")
def objectives_cli() -> None:
    """Objectives and their progress."""


@objectives_cli.command("refresh")
@click.option("--store", "store_name", required=True)
def refresh_command(store_name) -> None:
    """Count every new statement now and mark the objectives they meet (the worker's job)."""
    from lrs.auth import require_store
    from lrs.db import read_transaction
    from lrs.runtime import for_command
    from objectives.tasks import catch_up

    runtime = for_command()
    with read_transaction(runtime.sessions) as session:
        store_id = require_store(session, store_name).id
    counted = catch_up(runtime.sessions, store_id, runtime.public_url, runtime.clock)
    click.echo(f"{counted} statements projected")
