"""The organisation's set-up for scripting: the admin pages as commands.

``learnloop stores``, ``people import|list``, ``accounts list|disable|enable|reset-password|
invite``, ``cycles create|close|list`` and ``reviews create``.

Every command names its organisation with ``--store``; an unknown one is an error, never a new
store (``learnloop stores create NAME`` makes one). Errors are one plain line and exit 1.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

import click

from lrs.cli_params import EMAIL

STORE = click.option(
    "--store", "store_name", required=True, help="The organisation (store) to work in."
)


def _runtime():
    from lrs.runtime import for_command

    return for_command()


def _now() -> dt.datetime:
    return dt.datetime.fromtimestamp(_runtime().clock() / 1000, dt.UTC)


@contextmanager
def _admin(store_name: str, write: bool = True):
    """A transaction and an admin viewer of the store; LrsError becomes one plain line."""
    from lrs.auth import require_store
    from lrs.db import read_transaction, write_transaction
    from lrs.errors import LrsError
    from objectives.accounts import Viewer

    transaction = write_transaction if write else read_transaction
    try:
        with transaction(_runtime().sessions) as session:
            store = require_store(session, store_name)
            yield session, Viewer(account_id=0, store_id=store.id, person_id=None, is_admin=True)
    except LrsError as exc:
        raise click.ClickException(exc.message) from None


def _link(token: str) -> str:
    return f"{_runtime().public_url.rstrip('/')}/welcome/{token}"


# --- stores ------------------------------------------------------------------------------------


@click.group("stores")
def stores_cli() -> None:
    """Organisations (stores): every person, statement and account belongs to one."""


@stores_cli.command("create")
@click.argument("name")
def create_store_command(name: str) -> None:
    """Create an empty organisation; then `learnloop accounts create --store NAME --admin`."""
    from lrs.auth import create_store
    from lrs.db import write_transaction

    # A bad or taken name is an LrsError: one line, by the command group.
    with write_transaction(_runtime().sessions) as session:
        store = create_store(session, name)
    click.echo(f"store {store.name} created")


@stores_cli.command("list")
def list_stores_command() -> None:
    """Every organisation's name."""
    from sqlalchemy import select

    from lrs.db import read_transaction
    from lrs.models import Store

    with read_transaction(_runtime().sessions) as session:
        for name in session.scalars(select(Store.name).order_by(Store.name)):
            click.echo(name)


# --- people ------------------------------------------------------------------------------------


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@STORE
@click.option("--dry-run", is_flag=True, help="Show what would change; change nothing.")
def import_people_command(file: str, store_name: str, dry_run: bool) -> None:
    """Import people and their managers from a CSV file.

    Columns: email, name, manager_email, github, gitlab, gerrit, lms_account, lms_home_page.
    Prints each created, updated and rejected row and a summary; exits 2 if a row was rejected
    (the others are imported). Importing the same file again changes nothing.
    """
    from directory.importing import apply_import, plan_import

    with click.open_file(file, "rb") as handle:
        data = handle.read()
    with _admin(store_name, write=not dry_run) as (session, viewer):
        plan = plan_import(session, viewer, data)
        if not dry_run:
            apply_import(session, viewer, plan)
    for line in plan.lines():
        click.echo(line)
    click.echo(("dry run: would be " if dry_run else "") + plan.summary())
    if plan.counts()["rejected"]:
        click.get_current_context().exit(2)


@click.command("list")
@STORE
@click.option("--deactivated/--active-only", default=True, help="Include deactivated people.")
def list_people_command(store_name: str, deactivated: bool) -> None:
    """Every person: email, name, manager's email, state (tab-separated)."""
    from directory.people import list_people

    with _admin(store_name, write=False) as (session, viewer):
        rows = list_people(session, viewer, active_only=not deactivated)
        emails = {r.id: r.email or "" for r in rows}
        for r in rows:
            state = "deactivated" if r.deactivated else "active"
            manager = emails.get(r.manager_id, "") if r.manager_id else ""
            click.echo(f"{r.email or ''}\t{r.name}\t{manager}\t{state}")


# --- accounts ----------------------------------------------------------------------------------


@click.command("list")
@STORE
def list_accounts_command(store_name: str) -> None:
    """Every account: email, name, roles and state (tab-separated)."""
    from directory.admin_accounts import list_accounts

    with _admin(store_name, write=False) as (session, viewer):
        for a in list_accounts(session, viewer, _now()):
            state = "disabled" if a.disabled else ("invited" if a.pending else "active")
            if not a.has_password and not a.pending and not a.disabled:
                state = "no password"
            role = "admin" if a.is_admin else "member"
            click.echo(f"{a.email}\t{a.name}\t{role}\t{state}")


@click.command("disable")
@STORE
@click.option("--email", required=True, type=EMAIL)
def disable_account_command(store_name: str, email: str) -> None:
    """Stop an account signing in and end every sign-in of it now."""
    from directory.admin_accounts import account_by_email, disable

    with _admin(store_name) as (session, viewer):
        account = disable(session, viewer, account_by_email(session, viewer, email).id, _now())
    click.echo(f"{account.email} disabled; its sign-ins have ended")


@click.command("enable")
@STORE
@click.option("--email", required=True, type=EMAIL)
def enable_account_command(store_name: str, email: str) -> None:
    """Let a disabled account sign in again."""
    from directory.admin_accounts import account_by_email, enable

    with _admin(store_name) as (session, viewer):
        account = enable(session, viewer, account_by_email(session, viewer, email).id)
    click.echo(f"{account.email} enabled")


@click.command("reset-password")
@STORE
@click.option("--email", required=True, type=EMAIL)
@click.option(
    "--link/--password",
    "as_link",
    default=True,
    help="Print a one-time link to set a new password (default), or type the new one.",
)
def reset_password_command(store_name: str, email: str, as_link: bool) -> None:
    """End every sign-in of the account and reset its password (a one-time link, or typed)."""
    from directory.admin_accounts import account_by_email, reset_password, set_password

    password = None
    if not as_link:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    with _admin(store_name) as (session, viewer):
        account = account_by_email(session, viewer, email)
        if password is None:
            _, token = reset_password(session, viewer, account.id, _now())
        else:
            set_password(session, viewer, account.id, password)
    if password is None:
        click.echo(f"{account.email}: its sign-ins have ended; the link to set a password:")
        click.echo(_link(token))
    else:
        click.echo(f"{account.email}: password set; its sign-ins have ended")


@click.command("invite")
@STORE
@click.option("--email", required=True, type=EMAIL)
@click.option("--name", default="", help="The person's name, when they are not in Learnloop.")
@click.option("--admin", is_flag=True, help="Administers the whole store.")
def invite_account_command(store_name: str, email: str, name: str, admin: bool) -> None:
    """Make an account and print its one-time link to set a password (valid 7 days)."""
    from directory.admin_accounts import invite

    with _admin(store_name) as (session, viewer):
        account, token = invite(session, viewer, email, _now(), name=name, is_admin=admin)
    click.echo(f"account for {account.email}" + (", admin" if admin else "") + "; send them:")
    click.echo(_link(token))


# --- cycles and reviews -----------------------------------------------------------------------


@click.group("cycles")
def cycles_cli() -> None:
    """Review cycles."""


@cycles_cli.command("create")
@STORE
@click.option("--name", required=True, help="e.g. 2027 H1")
@click.option("--starts", required=True, type=click.DateTime(["%Y-%m-%d"]), help="YYYY-MM-DD")
@click.option("--ends", required=True, type=click.DateTime(["%Y-%m-%d"]), help="YYYY-MM-DD")
def create_cycle_command(store_name: str, name: str, starts, ends) -> None:
    """Open a review cycle."""
    from directory.reviews import open_cycle

    with _admin(store_name) as (session, viewer):
        cycle = open_cycle(session, viewer, name, starts.date(), ends.date())
    click.echo(f"cycle {cycle.name} ({cycle.starts_on} to {cycle.ends_on}) opened")


@cycles_cli.command("close")
@STORE
@click.option("--name", required=True)
def close_cycle_command(store_name: str, name: str) -> None:
    """Close a review cycle: no new reviews in it."""
    from directory.reviews import close_cycle, cycle_by_name

    with _admin(store_name) as (session, viewer):
        cycle = close_cycle(session, viewer, cycle_by_name(session, viewer, name).id, _now())
    click.echo(f"cycle {cycle.name} closed")


@cycles_cli.command("list")
@STORE
def list_cycles_command(store_name: str) -> None:
    """Every cycle: name, first and last day, open or closed (tab-separated)."""
    from objectives.services import list_cycles

    with _admin(store_name, write=False) as (session, viewer):
        for c in list_cycles(session, viewer):
            state = "closed" if c.closed_at else "open"
            click.echo(f"{c.name}\t{c.starts_on}\t{c.ends_on}\t{state}")


@click.group("reviews")
def reviews_cli() -> None:
    """Reviews."""


@reviews_cli.command("create")
@STORE
@click.option("--cycle", "cycle_name", required=True, help="The cycle's name.")
@click.option("--team", "manager_email", required=True, type=EMAIL, help="The manager's email.")
@click.option("--template", "template_title", default=None, help="Attach this template too.")
def create_reviews_command(
    store_name: str, cycle_name: str, manager_email: str, template_title: str | None
) -> None:
    """Create the reviews of a cycle for everyone in a manager's team (direct and indirect)."""
    from sqlalchemy import select

    from directory.people import clean_email, person_by_email
    from directory.reviews import create_team_reviews, cycle_by_name
    from lrs.errors import NotFound
    from objectives.models import ObjectiveTemplate

    with _admin(store_name) as (session, viewer):
        cycle = cycle_by_name(session, viewer, cycle_name)
        manager = person_by_email(session, viewer.store_id, clean_email(manager_email, "team"))
        if manager is None:
            raise NotFound(f"nobody has the email {manager_email.strip().lower()}")
        template_id = None
        if template_title:
            template_id = session.scalar(
                select(ObjectiveTemplate.id).where(
                    ObjectiveTemplate.store_id == viewer.store_id,
                    ObjectiveTemplate.title == template_title,
                )
            )
            if template_id is None:
                raise NotFound(f"no template called {template_title!r}")
        done = create_team_reviews(session, viewer, cycle.id, manager.id, template_id)
    click.echo(
        f"{done.created} reviews created, {done.existing} already there"
        + (f", template attached to {done.attached}" if template_title else "")
        + f" (cycle {cycle.name}, team of {manager.name or manager.email})"
    )
