"""Commands of data governance: ``learnloop people erase`` and ``learnloop retention``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from lrs.cli_params import EMAIL, POSITIVE_INT
from lrs.runtime import for_command

MONTHS = click.IntRange(1, 1200)


@contextmanager
def _database() -> Iterator:
    """The command's runtime; LrsError becomes ``Error: ...`` in one line."""
    from lrs.errors import LrsError

    runtime = for_command()
    try:
        yield runtime
    except LrsError as exc:
        raise click.ClickException(exc.message) from None


@click.command("erase")
@click.option("--store", "store_name", required=True, help="The store (organisation).")
@click.option("--email", type=EMAIL, help="The person's e-mail address.")
@click.option(
    "--person", "person_id", type=POSITIVE_INT, help="The person's id (when they have no e-mail)."
)
@click.option("--dry-run", is_flag=True, help="Only list what would be erased.")
def erase_command(store_name: str, email: str | None, person_id: int | None, dry_run: bool) -> None:
    """Erase a person and everything of theirs (GDPR art. 17); --dry-run lists it first.

    Their statements, documents, identities, accounts, reviews and objectives are deleted;
    others' statements that name them keep a pseudonym instead. One transaction.
    """
    from directory.governance import services as svc
    from lrs.db import read_transaction, write_transaction

    if (email is None) == (person_id is None):
        raise click.UsageError("give exactly one of --email and --person")
    transaction = read_transaction if dry_run else write_transaction  # a dry run locks nothing
    with _database() as runtime:
        with transaction(runtime.sessions) as session:
            store = svc.store_named(session, store_name)
            if email is not None:
                person_id = svc.person_with_email(
                    session, store.id, email, secret=runtime.instance_secret()
                ).id
            erasure = svc.erase(
                session,
                store.id,
                person_id,
                secret=runtime.instance_secret(),
                public_url=runtime.public_url,
                dry_run=dry_run,
                now_ms=runtime.clock(),
            )
        verb = "would erase" if dry_run else "erased"
        click.echo(f"person {erasure.person_id}: {verb}")
        for words, count in svc.counts_in_words(erasure.counts):
            click.echo(f"  {count:>7}  {words}")
        for name, count in erasure.recipients.items():
            click.echo(
                f"  forwarded before to {name} ({count} statements of or about them): "
                "ask them to erase these too"
            )
        if dry_run:
            click.echo("nothing changed (dry run)")
        else:
            click.echo(
                f"erasure record {erasure.record_id}; pseudonym "
                f"{erasure.pseudonym['account']['name']}"
            )


@click.group("retention")
def retention_cli() -> None:
    """How long a store keeps raw statements (the worker deletes older ones daily)."""


@retention_cli.command("show")
@click.option("--store", "store_name", required=True)
def retention_show(store_name: str) -> None:
    """The store's policy and how many statements it would delete now."""
    from directory.governance import retention
    from directory.governance import services as svc
    from lrs.db import read_transaction

    with _database() as runtime:
        with read_transaction(runtime.sessions) as session:
            store = svc.store_named(session, store_name)
            policy = retention.get_policy(session, store.id)
            if policy is None:
                click.echo("no retention policy: statements are kept for ever")
                return
            due = retention.count_expiring(
                session, store.id, policy.keep_months, policy.keep_aggregates, runtime.clock()
            )
            next_ms = retention.next_run_ms(session, store.id)
        aggregates = "kept" if policy.keep_aggregates else "deleted with them"
        click.echo(f"statements are kept {policy.keep_months} months; aggregates {aggregates}")
        click.echo(f"{due} statements are due for deletion now")
        if policy.last_run_ms is not None:
            click.echo(
                f"last run {retention.utc(policy.last_run_ms)} deleted {policy.last_deleted}"
            )
        if next_ms is None:
            click.echo("no run is waiting: set the policy again to restart the daily runs")
        else:
            click.echo(f"next run {retention.utc(next_ms)}")


@retention_cli.command("set")
@click.option("--store", "store_name", required=True)
@click.option("--months", required=True, type=MONTHS, help="Keep statements this long (1 to 1200).")
@click.option(
    "--keep-aggregates/--drop-aggregates",
    default=True,
    show_default=True,
    help="Keep progress, met objectives and counts when the raw statements go.",
)
@click.option("--dry-run", is_flag=True, help="Only say how many statements would go now.")
def retention_set(store_name: str, months: int, keep_aggregates: bool, dry_run: bool) -> None:
    """Set the store's policy; prints how many statements it deletes at its first run."""
    from directory.governance import retention
    from directory.governance import services as svc
    from lrs.db import read_transaction, write_transaction

    with _database() as runtime:
        if dry_run:
            with read_transaction(runtime.sessions) as session:
                store = svc.store_named(session, store_name)
                due = retention.count_expiring(
                    session, store.id, months, keep_aggregates, runtime.clock()
                )
            click.echo(f"{due} statements older than {months} months would be deleted")
            click.echo("nothing changed (dry run)")
            return
        with write_transaction(runtime.sessions) as session:
            store = svc.store_named(session, store_name)
            due = retention.set_policy(session, store.id, months, keep_aggregates, runtime.clock())
        click.echo(f"policy saved: keep statements {months} months")
        click.echo(f"{due} statements are due; the worker deletes them at its next run")


@retention_cli.command("clear")
@click.option("--store", "store_name", required=True)
def retention_clear(store_name: str) -> None:
    """Remove the store's policy: statements are kept for ever again."""
    from directory.governance import retention
    from directory.governance import services as svc
    from lrs.db import write_transaction

    with _database() as runtime:
        with write_transaction(runtime.sessions) as session:
            store = svc.store_named(session, store_name)
            retention.clear_policy(session, store.id, runtime.clock())
        click.echo("retention policy removed: statements are kept for ever")
