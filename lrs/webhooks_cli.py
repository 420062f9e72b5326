"""``learnloop webhooks``: endpoints for Learnloop's own events, a test-send, the delivery log."""

from __future__ import annotations

import datetime as dt

import click

from lrs.cli_params import POSITIVE_INT, URL


def _when(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@click.group("webhooks")
def webhooks_cli() -> None:
    """Send Learnloop's events (objective met, review submitted) to your endpoints, signed."""


@webhooks_cli.command("add")
@click.option("--store", "store_name", required=True, help="Organisation (store) name.")
@click.option("--url", required=True, type=URL, help="The endpoint (https).")
@click.option(
    "--event",
    "events",
    multiple=True,
    type=click.Choice(["objective.met", "review.submitted"]),
    help="An event to send; repeat for several. Default: all.",
)
@click.option("--description", default="", help="What the endpoint is for.")
def add_command(store_name, url, events, description) -> None:
    """Add an endpoint and print its signing secret (shown only now)."""
    from lrs import webhooks
    from lrs.auth import require_store
    from lrs.db import write_transaction
    from lrs.errors import LrsError
    from lrs.forwarding.settings import forwarding_config
    from lrs.runtime import for_command

    runtime = for_command()
    try:
        with write_transaction(runtime.sessions) as session:
            store_id = require_store(session, store_name).id
            endpoint, secret = webhooks.create_endpoint(
                session,
                store_id,
                url,
                list(events),
                description,
                forwarding_config().outbound_guard(),
                webhooks.secret_box(runtime.instance_secret()),
                runtime.clock(),
            )
            click.echo(f"endpoint: {endpoint.id}")
            click.echo(f"url:      {endpoint.url}")
            click.echo(f"events:   {endpoint.events or 'all'}")
            click.echo(f"secret:   {secret}")
    except LrsError as exc:
        raise click.ClickException(exc.message) from None


@webhooks_cli.command("list")
@click.option("--store", "store_name", required=True, help="Organisation (store) name.")
def list_command(store_name) -> None:
    """The store's endpoints."""
    from lrs import webhooks
    from lrs.auth import require_store
    from lrs.db import read_transaction
    from lrs.errors import LrsError
    from lrs.runtime import for_command

    try:
        with read_transaction(for_command().sessions) as session:
            found = webhooks.list_endpoints(session, require_store(session, store_name).id)
            if not found:
                click.echo("no webhook endpoints")
            for e in found:
                state = "active" if e.active else "disabled"
                click.echo(f"{e.id}: {e.url} ({e.events or 'all events'}) {state}")
    except LrsError as exc:
        raise click.ClickException(exc.message) from None


@webhooks_cli.command("test")
@click.option("--store", "store_name", required=True, help="Organisation (store) name.")
@click.argument("endpoint_id", type=POSITIVE_INT)
def test_command(store_name, endpoint_id) -> None:
    """Send a signed webhook.test event now and print the endpoint's answer."""
    from lrs import webhooks
    from lrs.auth import require_store
    from lrs.db import read_transaction
    from lrs.errors import LrsError
    from lrs.forwarding.settings import forwarding_config
    from lrs.runtime import for_command

    runtime = for_command()
    config = forwarding_config()
    try:
        with read_transaction(runtime.sessions) as session:
            store_id = require_store(session, store_name).id
        sent = webhooks.test_send(
            runtime.sessions,
            endpoint_id,
            store_id,
            runtime.instance_secret(),
            config.outbound_guard(),
            config.limits(),
            runtime.clock,
        )
    except LrsError as exc:
        raise click.ClickException(exc.message) from None
    if not sent.ok:
        raise click.ClickException(f"not delivered: {sent.message}")
    click.echo(f"delivered: {sent.message}")


@webhooks_cli.command("log")
@click.option("--store", "store_name", required=True, help="Organisation (store) name.")
@click.argument("endpoint_id", type=POSITIVE_INT)
@click.option("--limit", type=POSITIVE_INT, default=20, show_default=True)
def log_command(store_name, endpoint_id, limit) -> None:
    """The endpoint's latest delivery attempts, newest first."""
    from lrs import deliveries, webhooks
    from lrs.auth import require_store
    from lrs.db import read_transaction
    from lrs.errors import LrsError
    from lrs.runtime import for_command

    try:
        with read_transaction(for_command().sessions) as session:
            store_id = require_store(session, store_name).id
            webhooks.get_endpoint(session, store_id, endpoint_id)
            rows = deliveries.recent(session, store_id, deliveries.WEBHOOK, endpoint_id, limit)
            if not rows:
                click.echo("no deliveries yet")
            for d in rows:
                click.echo(
                    f"{_when(d.occurred_ms)} {d.outcome} {d.event_type} {d.event_id} "
                    f"attempt {d.attempt} status {d.status or '-'}: {d.message}"
                )
    except LrsError as exc:
        raise click.ClickException(exc.message) from None
