"""``learnloop forwarding``: destinations, rules, the delivery log, resume and replay.

Destinations are named per store (``--store``, ``--name``). The destination's secret (its Basic
secret or OAuth client secret) is read from ``--secret`` or, better kept out of the shell's
history and the process list, from ``$DESTINATION_SECRET``; it is sealed at once and never
printed again.
"""

from __future__ import annotations

import datetime as dt

import click

from lrs.cli_params import POSITIVE_INT, URL


def _store_and_runtime(session, store_name):
    from lrs.auth import require_store

    return require_store(session, store_name).id


def _when(ms: int | None) -> str:
    if not ms:
        return "-"
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _fail(exc) -> click.ClickException:
    return click.ClickException(exc.message)


@click.group("forwarding")
def forwarding_cli() -> None:
    """Forward a store's statements to another xAPI endpoint (LRS)."""


@forwarding_cli.command("add")
@click.option("--store", "store_name", required=True, help="Organisation (store) name.")
@click.option("--name", required=True, help="A name for the destination, e.g. archive.")
@click.option("--endpoint", required=True, type=URL, help="Its xAPI base URL (…/xapi).")
@click.option("--key", required=True, help="Basic key, or the OAuth 2.0 client id.")
@click.option(
    "--secret",
    required=True,
    envvar="DESTINATION_SECRET",
    help="Basic secret or OAuth client secret (or $DESTINATION_SECRET).",
)
@click.option("--token-url", type=URL, default=None, help="OAuth 2.0: the token URL.")
@click.option("--scope", default="", help="OAuth 2.0: the scope to ask for.")
@click.option(
    "--xapi-version",
    type=click.Choice(["1.0.3", "2.0.0"]),
    default="2.0.0",
    show_default=True,
    help="The X-Experience-API-Version sent.",
)
def add_command(store_name, name, endpoint, key, secret, token_url, scope, xapi_version) -> None:
    """Add a destination; it receives the statements stored from now on."""
    from lrs.db import write_transaction
    from lrs.errors import LrsError
    from lrs.forwarding import services
    from lrs.forwarding.models import BASIC, OAUTH
    from lrs.forwarding.settings import forwarding_config
    from lrs.runtime import for_command

    runtime = for_command()
    try:
        with write_transaction(runtime.sessions) as session:
            store_id = _store_and_runtime(session, store_name)
            made = services.create_destination(
                session,
                store_id,
                services.NewDestination(
                    name,
                    endpoint,
                    key,
                    secret,
                    OAUTH if token_url else BASIC,
                    token_url or "",
                    scope,
                    xapi_version,
                ),
                forwarding_config(),
                services.secret_box(runtime.instance_secret()),
                runtime.clock(),
            )
            click.echo(f"destination {made.name}: {made.endpoint} ({made.auth}), active")
    except LrsError as exc:
        raise _fail(exc) from None


@forwarding_cli.command("rule")
@click.option("--store", "store_name", required=True, help="Organisation (store) name.")
@click.option("--name", required=True, help="The destination's name.")
@click.option("--verb", default="", help="Only this verb IRI.")
@click.option("--activity-prefix", default="", help="Only activities whose id starts so.")
@click.option(
    "--source",
    default="",
    help="Only statements from xapi, lti, connector, microlearning or objectives.",
)
@click.option("--actor-domain", default="", help="Only actors with an e-mail at this domain.")
def rule_command(store_name, name, verb, activity_prefix, source, actor_domain) -> None:
    """Add a rule: the destination then receives only statements matching one of its rules."""
    from lrs.db import write_transaction
    from lrs.errors import LrsError
    from lrs.forwarding import services
    from lrs.forwarding.rules import RuleSpec
    from lrs.runtime import for_command

    try:
        with write_transaction(for_command().sessions) as session:
            store_id = _store_and_runtime(session, store_name)
            destination = services.find_destination(session, store_id, name)
            spec = RuleSpec(verb, activity_prefix, source, actor_domain)
            rule = services.add_rule(session, destination, spec)
            click.echo(f"rule {rule.id} on {destination.name}: {services.spec_of(rule).describe()}")
    except LrsError as exc:
        raise _fail(exc) from None


@forwarding_cli.command("list")
@click.option("--store", "store_name", required=True, help="Organisation (store) name.")
def list_command(store_name) -> None:
    """Each destination: state, statements delivered and waiting, last error, rules."""
    from lrs.db import read_transaction
    from lrs.errors import LrsError
    from lrs.forwarding import services
    from lrs.runtime import for_command

    try:
        with read_transaction(for_command().sessions) as session:
            store_id = _store_and_runtime(session, store_name)
            found = services.list_destinations(session, store_id)
            if not found:
                click.echo("no forwarding destinations")
            for d in found:
                waiting = services.backlog(session, d)
                behind = f"{waiting.waiting}{'+' if waiting.capped else ''} waiting"
                if waiting.oldest_ms:
                    behind += f" since {_when(waiting.oldest_ms)}"
                click.echo(
                    f"{d.name}: {d.endpoint} ({d.auth}) {d.state}, {d.delivered} delivered, "
                    f"{behind}"
                )
                if d.last_error:
                    click.echo(f"  last error ({d.failures} in a row): {d.last_error}")
                rules = services.rules_of(session, d.id)
                for rule in rules:
                    click.echo(f"  rule {rule.id}: {services.spec_of(rule).describe()}")
                if not rules:
                    click.echo("  every statement (no rules)")
    except LrsError as exc:
        raise _fail(exc) from None


@forwarding_cli.command("log")
@click.option("--store", "store_name", required=True, help="Organisation (store) name.")
@click.option("--name", required=True, help="The destination's name.")
@click.option("--limit", type=POSITIVE_INT, default=20, show_default=True)
def log_command(store_name, name, limit) -> None:
    """The destination's latest delivery attempts, newest first."""
    from lrs import deliveries
    from lrs.db import read_transaction
    from lrs.errors import LrsError
    from lrs.forwarding import services
    from lrs.runtime import for_command

    try:
        with read_transaction(for_command().sessions) as session:
            store_id = _store_and_runtime(session, store_name)
            destination = services.find_destination(session, store_id, name)
            rows = deliveries.recent(session, store_id, deliveries.FORWARD, destination.id, limit)
            if not rows:
                click.echo("no deliveries yet")
            for d in rows:
                click.echo(
                    f"{_when(d.occurred_ms)} {d.outcome} {d.items} statements "
                    f"(#{d.first_seq}-#{d.last_seq}) status {d.status or '-'}: {d.message}"
                )
    except LrsError as exc:
        raise _fail(exc) from None


@forwarding_cli.command("resume")
@click.option("--store", "store_name", required=True, help="Organisation (store) name.")
@click.option("--name", required=True, help="The destination's name.")
def resume_command(store_name, name) -> None:
    """Start a dead-lettered or paused destination again where it stopped."""
    from lrs.db import write_transaction
    from lrs.errors import LrsError
    from lrs.forwarding import services
    from lrs.runtime import for_command

    runtime = for_command()
    try:
        with write_transaction(runtime.sessions) as session:
            store_id = _store_and_runtime(session, store_name)
            destination = services.find_destination(session, store_id, name)
            services.resume(session, destination, runtime.clock())
            click.echo(f"{destination.name}: active; the worker sends what is waiting")
    except LrsError as exc:
        raise _fail(exc) from None


@forwarding_cli.command("replay")
@click.option("--store", "store_name", required=True, help="Organisation (store) name.")
@click.option("--name", required=True, help="The destination's name.")
@click.option("--since", required=True, help="From this date or UTC time (ISO 8601).")
def replay_command(store_name, name, since) -> None:
    """Send again every matching statement stored since a date or time."""
    from lrs.audit_cli import _since_ms
    from lrs.db import write_transaction
    from lrs.errors import LrsError
    from lrs.forwarding import services
    from lrs.runtime import for_command

    since_ms = _since_ms(since)
    runtime = for_command()
    try:
        with write_transaction(runtime.sessions) as session:
            store_id = _store_and_runtime(session, store_name)
            destination = services.find_destination(session, store_id, name)
            services.replay(session, destination, since_ms, runtime.clock())
            click.echo(f"{destination.name}: replaying statements stored since {_when(since_ms)}")
    except LrsError as exc:
        raise _fail(exc) from None


@forwarding_cli.command("remove")
@click.option("--store", "store_name", required=True, help="Organisation (store) name.")
@click.option("--name", required=True, help="The destination's name.")
def remove_command(store_name, name) -> None:
    """Remove a destination and its rules (its delivery log stays)."""
    from lrs.db import write_transaction
    from lrs.errors import LrsError
    from lrs.forwarding import services
    from lrs.runtime import for_command

    try:
        with write_transaction(for_command().sessions) as session:
            store_id = _store_and_runtime(session, store_name)
            services.delete_destination(session, services.find_destination(session, store_id, name))
            click.echo(f"destination {name} removed")
    except LrsError as exc:
        raise _fail(exc) from None
