"""Commands of the connectors: ``learnloop connectors``, ``people link`` and ``import``.

Thin shells: they open the database from ``LEARNLOOP_*`` like the rest of the ``learnloop``
command, call ``connectors.services`` in write transactions, and print. Errors a user can fix
are printed as ``Error: ...`` with exit status 1 (click's convention), never a traceback.
"""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from lrs.cli_params import EMAIL, POSITIVE_INT, SECRET, URL
from lrs.runtime import LrsRuntime, for_command
from schemas.jsoninput import JsonInputError, read_json


@contextmanager
def _database() -> Iterator[tuple[LrsRuntime, object]]:
    """The command's LRS runtime and its sessions; LrsError becomes ``Error: ...``."""
    from lrs.errors import LrsError

    runtime = for_command()
    try:
        yield runtime, runtime.sessions
    except LrsError as exc:
        raise click.ClickException(exc.message) from None


class _Rollback(Exception):
    """Ends a dry run's transaction without committing it."""


# ---- learnloop connectors ----------------------------------------------------------------

SETUP_HINTS = {
    "github": "On GitHub: Settings > Webhooks > Add webhook; Payload URL above, content type "
    "application/json, the secret above; events: Pull requests, Pull request reviews, Pull "
    "request review comments, Issue comments.",
    "gitlab": "On GitLab: Settings > Webhooks; URL above, the secret above as Secret token; "
    "triggers: Merge request events, Comments.",
    "gerrit": "In the project's webhooks.config (webhooks plugin): url = the URL above "
    "followed by ?token=SECRET; events comment-added, change-merged, patchset-created.",
}


@click.group("connectors")
def connectors() -> None:
    """Webhook receivers that capture code reviews (GitHub, GitLab, Gerrit)."""


@connectors.command("create")
@click.option("--store", "store_name", required=True, help="Store (tenant) the statements go to.")
@click.option("--kind", type=click.Choice(["github", "gitlab", "gerrit"]), required=True)
@click.option("--label", default="", help="A name for the connector (e.g. the organisation).")
@click.option(
    "--signing-token",
    default=None,
    type=SECRET,
    help="GitLab only: the webhook's signing token; signed deliveries are then required.",
)
def connectors_create(store_name: str, kind: str, label: str, signing_token: str | None) -> None:
    """Create a connector and print its webhook URL and secret (shown only now)."""
    from connectors import services as svc
    from lrs.db import write_transaction

    with _database() as (runtime, sessions):
        box = svc.secret_box(runtime.instance_secret())
        with write_transaction(sessions) as session:
            store = svc.find_store(session, store_name)
            connector, secret = svc.create_connector(
                session, store.id, kind, box, label, signing_token
            )
            url = svc.connector_url(runtime.public_url, connector)
        click.echo(f"connector: {connector.id} ({kind})")
        click.echo(f"store:     {store_name}")
        click.echo(f"url:       {url}")
        click.echo(f"secret:    {secret}")
        click.echo("The secret is shown only now; Learnloop keeps it encrypted.")
        click.echo(SETUP_HINTS[kind])


@connectors.command("list")
@click.option("--store", "store_name", required=True)
def connectors_list(store_name: str) -> None:
    """List the connectors of a store (never their secrets)."""
    from connectors import services as svc
    from lrs.db import read_transaction

    with _database() as (runtime, sessions):
        with read_transaction(sessions) as session:
            store = svc.find_store(session, store_name)
            found = [
                svc.connector_info(c, runtime.public_url)
                for c in svc.list_connectors(session, store.id)
            ]
        for info in found:
            label = f"  {info['label']}" if info["label"] else ""
            click.echo(f"{info['id']}\t{info['kind']}\t{info['url']}{label}")


@connectors.command("rotate-secret")
@click.argument("connector_id", type=int)
@click.option("--store", "store_name", required=True)
def connectors_rotate(connector_id: int, store_name: str) -> None:
    """Give a connector a new secret and print it; the old secret stops working now."""
    from connectors import services as svc
    from lrs.db import write_transaction

    with _database() as (runtime, sessions):
        with write_transaction(sessions) as session:
            store = svc.find_store(session, store_name)
            secret = svc.rotate_secret(
                session, store.id, connector_id, svc.secret_box(runtime.instance_secret())
            )
        click.echo(f"secret:    {secret}")


@connectors.command("reseal-secrets")
def connectors_reseal() -> None:
    """Seal every connector secret with a new LEARNLOOP_SECRET_KEY (see docs/secrets.md).

    The new key is the configured one; the key the secrets are sealed with now is read from
    LEARNLOOP_OLD_SECRET_KEY. Secrets the new key already opens are left alone.
    """
    import os

    from connectors import services as svc
    from lrs.db import write_transaction

    old = os.environ.get("LEARNLOOP_OLD_SECRET_KEY", "")
    if not old:
        raise click.ClickException(
            "set LEARNLOOP_OLD_SECRET_KEY to the sealing key the secrets are sealed with now"
        )
    with _database() as (runtime, sessions):
        new = svc.secret_box(runtime.instance_secret())
        with write_transaction(sessions) as session:
            resealed, kept = svc.reseal_secrets(session, svc.secret_box(old), new)
        click.echo(f"connectors resealed: {resealed}; already sealed with the new key: {kept}")


# ---- learnloop people --------------------------------------------------------------------


@click.group("people")
def people_cli() -> None:
    """People and their identities (e-mail, LMS accounts, forge logins)."""


@people_cli.command("link")
@click.option("--store", "store_name", required=True)
@click.option("--person", "person_id", type=int, default=None, help="The person's id.")
@click.option(
    "--email", default=None, type=EMAIL, help="The person's e-mail (created when unknown)."
)
@click.option("--name", default="", help="The person's name (for a new or unnamed person).")
@click.option("--github", "github_logins", multiple=True, help="A GitHub login; repeatable.")
@click.option("--github-url", default="https://github.com", show_default=True, type=URL)
@click.option("--gitlab", "gitlab_users", multiple=True, help="A GitLab username; repeatable.")
@click.option("--gitlab-url", default="https://gitlab.com", show_default=True, type=URL)
@click.option("--gerrit", "gerrit_users", multiple=True, help="A Gerrit username; repeatable.")
@click.option(
    "--gerrit-url", default=None, type=URL, help="The Gerrit site, e.g. https://review.example.com"
)
@click.option(
    "--account",
    "accounts",
    type=(str, str),
    multiple=True,
    metavar="HOMEPAGE NAME",
    help="Any other account (e.g. an LMS's); repeatable.",
)
def people_link(
    store_name,
    person_id,
    email,
    name,
    github_logins,
    github_url,
    gitlab_users,
    gitlab_url,
    gerrit_users,
    gerrit_url,
    accounts,
) -> None:
    """Attach identities to a person, so every connector's statements resolve to them."""
    from connectors import services as svc
    from lrs.db import write_transaction

    if (person_id is None) == (email is None):
        raise click.UsageError("give exactly one of --person and --email")
    if gerrit_users and not gerrit_url:
        raise click.UsageError("--gerrit needs --gerrit-url (the Gerrit site)")
    links = [("github", login, github_url) for login in github_logins]
    links += [("gitlab", user, gitlab_url) for user in gitlab_users]
    links += [("gerrit", user, gerrit_url) for user in gerrit_users]
    links += [("account", account, home) for home, account in accounts]
    if not links and person_id is not None:
        raise click.UsageError("nothing to link: give --github, --gitlab, --gerrit or --account")
    with _database() as (_runtime, sessions):
        with write_transaction(sessions) as session:
            store = svc.find_store(session, store_name)
            linked_id, linked = svc.link_person(
                session, store.id, person_id=person_id, email=email, name=name, links=links
            )
        click.echo(f"person {linked_id}:")
        for identity in linked:
            click.echo("  " + json.dumps({k: v for k, v in identity.items() if k != "objectType"}))


# ---- learnloop import --------------------------------------------------------------------


@click.group("import")
def import_cli() -> None:
    """Import learning records from exports and stored webhook deliveries."""


def _load_mapping(path: str | None, platform: str | None):
    from connectors.microlearning import ColumnMapping
    from connectors.schemas import ColumnMappingSchema
    from lrs.errors import BadRequest
    from schemas.connectors import load

    if path is None:
        if not platform:
            raise click.UsageError("give --platform URL or a --mapping file naming the platform")
        data = {"platform": platform}
    else:
        text = Path(path).read_text(encoding="utf-8")
        try:
            data = (
                tomllib.loads(text) if path.endswith(".toml") else read_json(text, root="mapping")
            )
        except (JsonInputError, ValueError, tomllib.TOMLDecodeError) as exc:
            raise click.UsageError(f"the mapping file {path} cannot be read: {exc}") from None
        if platform:
            data["platform"] = platform
    try:
        mapping = load(ColumnMappingSchema(), data, "the mapping file")
    except BadRequest as exc:
        raise click.UsageError(f"mapping: {exc.message}") from None
    assert isinstance(mapping, ColumnMapping)
    return mapping


def _summary(label: str, rows: int, statements: int | None = None) -> str:
    unit = "row" if rows == 1 else "rows"
    noun = "statement" if statements == 1 else "statements"
    extra = f" ({statements} {noun})" if statements is not None else ""
    return f"{label:<22}{rows} {unit}{extra}"


@import_cli.command("microlearning")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--store", "store_name", required=True)
@click.option("--mapping", "mapping_path", default=None, help="Column mapping (JSON or TOML).")
@click.option(
    "--platform", default=None, type=URL, help="The platform's home page (overrides the mapping)."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json", "jsonl"]),
    default=None,
    help="Default: from the file's extension.",
)
@click.option("--dry-run", is_flag=True, help="Map and check every row; store nothing.")
@click.option(
    "--chunk-size", default=500, show_default=True, type=POSITIVE_INT, help="Rows per transaction."
)
@click.pass_context
def import_microlearning(ctx, file, store_name, mapping_path, platform, fmt, dry_run, chunk_size):
    """Import a micro-learning platform's CSV or JSON export as statements.

    Rows are numbered from 1 (a CSV header is not a row). Each row is stored, skipped as a
    duplicate (its statements are already stored: ids derive from the row), or rejected with
    the reason. Rejected rows do not stop the import; the exit status is 1 when any row was
    rejected. Each chunk of rows is committed on its own, so an interrupted import can simply
    be run again.
    """
    from connectors import services as svc
    from connectors.errors import RowRejected
    from connectors.microlearning import SOURCE, map_row, missing_columns, read_records
    from lrs.api import source_principal
    from lrs.db import read_transaction, write_transaction

    mapping = _load_mapping(mapping_path, platform)
    fmt = fmt or Path(file).suffix.lower().lstrip(".")
    try:
        records = read_records(Path(file).read_text(encoding="utf-8"), fmt, mapping.records)
    except (ValueError, UnicodeDecodeError) as exc:
        raise click.UsageError(f"{file}: {exc}") from None
    if fmt == "csv" and records:
        problem = missing_columns(list(records[0]), mapping)
        if problem:
            raise click.UsageError(f"{file}: {problem} (write a --mapping for it)")
    stored = duplicates = statements = 0
    rejected: list[tuple[int, str]] = []
    seen: set[str] = set()
    with _database() as (runtime, sessions):
        with read_transaction(sessions) as session:
            store_id = svc.find_store(session, store_name).id
        home = runtime.public_url.rstrip("/") + "/"
        principal = source_principal(store_id, f"connector:{SOURCE}", home)
        label = "checking" if dry_run else "importing"
        with click.progressbar(length=len(records), label=label) as bar:
            for start in range(0, len(records), max(chunk_size, 1)):
                chunk = records[start : start + max(chunk_size, 1)]
                try:
                    with write_transaction(sessions) as session:
                        for number, record in enumerate(chunk, start + 1):
                            try:
                                mapped = map_row(record, mapping)
                                outcome = svc.store_row(session, principal, mapped, seen)
                            except RowRejected as exc:
                                rejected.append((number, exc.reason))
                            else:
                                if outcome == "stored":
                                    stored += 1
                                    statements += len(mapped)
                                else:
                                    duplicates += 1
                            bar.update(1)
                        if dry_run:
                            raise _Rollback
                except _Rollback:
                    pass
    click.echo(f"{file}: {len(records)} rows" + (" (dry run: nothing stored)" if dry_run else ""))
    click.echo(_summary("would store:" if dry_run else "stored:", stored, statements))
    click.echo(_summary("skipped (duplicates):", duplicates))
    click.echo(_summary("rejected:", len(rejected)))
    for number, reason in rejected:
        click.echo(f"  row {number}: {reason}")
    if rejected:
        ctx.exit(1)


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment


@import_cli.command("github")
@click.option("--repo", required=True, help="OWNER/NAME: only this repository's events.")
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    default=None,
    help="Only events at or after this date (UTC).",
)
@click.option(
    "--from",
    "directory",
    required=True,
    type=click.Path(exists=True, file_okay=False),
    help="Directory of stored deliveries (*.json, searched recursively).",
)
@click.option(
    "--store", "store_name", default=None, help="Store with exactly one GitHub connector."
)
@click.option("--connector", "connector_id", type=int, default=None, help="The GitHub connector.")
@click.option("--dry-run", is_flag=True, help="Map and check every delivery; store nothing.")
@click.pass_context
def import_github(ctx, repo, since, directory, store_name, connector_id, dry_run):
    """Replay stored GitHub webhook deliveries through the same mapping as the webhook.

    Deliveries are recorded on the connector like live ones, so a delivery the webhook
    already received (same guid) is a duplicate and stores nothing.
    """
    from connectors import github
    from connectors import services as svc
    from connectors.common import parse_time
    from connectors.errors import MalformedPayload
    from lrs.db import write_transaction
    from lrs.errors import BadRequest, Conflict

    if (store_name is None) == (connector_id is None):
        raise click.UsageError("give exactly one of --store and --connector")
    since_utc = _utc(since) if since else None
    events, rejected, skipped = [], [], 0
    for path in sorted(Path(directory).rglob("*.json")):
        try:
            data = read_json(path.read_bytes(), root="file")
        except JsonInputError as exc:
            rejected.append((str(path), f"not JSON: {exc}"))
            continue
        for index, item in enumerate(data if isinstance(data, list) else [data]):
            where = f"{path}[{index}]" if isinstance(data, list) else str(path)
            try:
                event = github.stored_delivery(item)
                full_name = event.payload.get("repository", {}).get("full_name", "")
                if not isinstance(full_name, str) or full_name.lower() != repo.lower():
                    skipped += 1
                    continue
                mapped = github.map_event(event)
            except MalformedPayload as exc:
                rejected.append((where, exc.message))
                continue
            times = [s["timestamp"] for s in mapped.statements]
            if since_utc and times and parse_time(times[0]) < since_utc:
                skipped += 1
                continue
            events.append((where, mapped, times[0] if times else ""))
    events.sort(key=lambda e: e[2])
    counts = {"stored": 0, "ignored": 0, "duplicate": 0}
    statements = 0
    with _database() as (runtime, sessions):
        try:
            with write_transaction(sessions) as session:
                if connector_id is not None:
                    found = [svc.get_connector(session, connector_id, kind="github")]
                else:
                    store = svc.find_store(session, store_name)
                    found = [
                        c for c in svc.list_connectors(session, store.id) if c.kind == "github"
                    ]
                    if len(found) != 1:
                        raise click.UsageError(
                            f"store {store_name!r} has {len(found)} GitHub connectors; "
                            "name one with --connector"
                        )
                connector = svc.ConnectorRef.of(found[0])
                with click.progressbar(events, label="replaying") as bar:
                    for where, mapped, _ in bar:
                        try:
                            with session.begin_nested():
                                outcome = svc.record_event(
                                    session, connector, mapped, runtime.public_url
                                )
                        except (BadRequest, Conflict) as exc:
                            rejected.append((where, exc.message))
                            continue
                        counts[outcome.status] += 1
                        if outcome.status == "stored":
                            statements += len(outcome.statement_ids)
                if dry_run:
                    raise _Rollback
        except _Rollback:
            pass
    click.echo(f"{repo}: {len(events)} deliveries" + (" (dry run)" if dry_run else ""))
    click.echo(_summary("stored:", counts["stored"], statements))
    click.echo(_summary("ignored events:", counts["ignored"]))
    click.echo(_summary("skipped (duplicates):", counts["duplicate"]))
    click.echo(_summary("skipped (filtered):", skipped))
    click.echo(_summary("rejected:", len(rejected)))
    for where, reason in rejected:
        click.echo(f"  {where}: {reason}")
    if rejected:
        ctx.exit(1)
