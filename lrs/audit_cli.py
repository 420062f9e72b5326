"""``learnloop audit``: read and export the audit trail (``lrs.audit``) from the command line.

``learnloop audit list`` prints the trail newest first, one line per action; ``--format csv``
or ``--format jsonl`` writes the same events as the admin page's exports, to stdout, streamed.
Without ``--store`` it reads every organisation and the instance-wide actions (tool keys,
resealing); with it, that organisation's only.
"""

from __future__ import annotations

import datetime as dt

import click


def _since_ms(text: str | None) -> int | None:
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            "a date (2026-12-01) or a UTC time (2026-12-01T09:00:00Z)", param_hint="--since"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)


@click.group("audit")
def audit_cli() -> None:
    """The audit trail of administrative actions: who, what, when, from where."""


@audit_cli.command("list")
@click.option("--store", "store_name", default=None, help="Only this organisation (store).")
@click.option("--since", default=None, help="Not before this date or UTC time (ISO 8601).")
@click.option("--action", default="", help="An action, or a family: credential, account.")
@click.option("--actor", default="", help="Words of the actor's name (an email, 'command line').")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "csv", "jsonl"]),
    default="text",
    show_default=True,
    help="text: one line per action; csv and jsonl: the admin page's exports.",
)
def list_command(store_name, since, action, actor, fmt) -> None:
    """Print the trail, newest first."""
    from dataclasses import replace

    from lrs import audit
    from lrs.auth import require_store
    from lrs.db import read_transaction
    from lrs.errors import LrsError
    from lrs.runtime import for_command

    since_ms = _since_ms(since)
    try:
        with read_transaction(for_command().sessions) as session:
            store_id = require_store(session, store_name).id if store_name else None
            where = replace(
                audit.filter_of(store_id or 0, action, actor),
                store_id=store_id,
                all_stores=store_id is None,
                since_ms=since_ms,
            )
            events = audit.iter_events(session, where)
            if fmt == "csv":
                lines = audit.csv_lines(events)
            elif fmt == "jsonl":
                lines = audit.jsonl_lines(events)
            else:
                lines = (_text_line(e) for e in events)
            for line in lines:
                click.echo(line, nl=False)
    except LrsError as exc:
        raise click.ClickException(exc.message) from None


def _text_line(event) -> str:
    from lrs.audit import utc_text

    target = event.target_kind + (f" {event.target_label}" if event.target_label else "")
    return (
        f"{utc_text(event.occurred_at_ms)}\t{event.actor_label}\t{event.address}\t"
        f"{event.action}\t{target}\n"
    )
