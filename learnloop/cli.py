"""The ``learnloop`` command: database, serving, the demo; each domain adds its own group.

Other tools rely on this contract (``db upgrade``, ``credentials create``, ``serve``, ...).
"""

from __future__ import annotations

import os
import sys

import click

from connectors.cli import connectors, import_cli, people_cli
from directory.cli import (
    cycles_cli,
    disable_account_command,
    enable_account_command,
    import_people_command,
    invite_account_command,
    list_accounts_command,
    list_people_command,
    reset_password_command,
    reviews_cli,
    stores_cli,
)
from directory.governance.cli import erase_command, retention_cli
from directory.scim.cli import scim_cli
from directory.sign_in.cli import sign_in_cli
from learnloop.backup import backup_command, restore_command
from learnloop.cli_errors import explain, shown_url
from learnloop.config import Config
from learnloop.doctor import doctor_command
from learnloop.schema import current_revision, head_revision, upgrade_database
from learnloop.secrets_cli import secrets_cli
from learnloop.serving import run_gunicorn
from lrs.audit_cli import audit_cli
from lrs.cli import credentials
from lrs.cli_params import PORT, POSITIVE_INT, POSITIVE_SECONDS
from lrs.forwarding.cli import forwarding_cli
from lrs.oauth_cli import oauth_cli
from lrs.runtime import COMMAND_RUNTIME
from lrs.statements_cli import statements_cli
from lrs.webhooks_cli import webhooks_cli
from lti.cli import lti_group
from notifications.cli import notifications_cli
from objectives.cli import accounts_cli, objectives_cli


class _Learnloop(click.Group):
    """The command group whose failures read as sentences (``learnloop.cli_errors``)."""

    def main(self, *args, **kwargs):
        """Run as click does, but a usage error is two lines: the error and where help is."""
        standalone = kwargs.pop("standalone_mode", True)
        try:
            result = super().main(*args, standalone_mode=False, **kwargs)
        except click.UsageError as error:
            if not standalone:
                raise
            path = error.ctx.command_path if error.ctx else "learnloop"
            click.echo(f"Error: {error.format_message()}", err=True)
            click.echo(f"`{path} --help` says what it takes.", err=True)
            sys.exit(error.exit_code)
        except click.ClickException as error:
            if not standalone:
                raise
            error.show()
            sys.exit(error.exit_code)
        except click.Abort:
            if not standalone:
                raise
            click.echo("Aborted.", err=True)
            sys.exit(1)
        if not standalone:
            return result
        sys.exit(result if isinstance(result, int) else 0)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            raise click.Abort() from None
        except Exception as error:
            if ctx.params.get("debug"):
                raise
            raise click.ClickException(explain(error, _database_url())) from None


def _database_url() -> str:
    try:
        return Config.from_env().database_url
    except Exception:  # the configuration itself is what failed; its message says so
        return ""


@click.group(cls=_Learnloop)
@click.version_option(package_name="learnloop", message="learnloop %(version)s")
@click.option(
    "--debug",
    is_flag=True,
    envvar="LEARNLOOP_DEBUG",
    help="Show the traceback of an unexpected failure instead of a one-line message.",
)
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Learnloop: an xAPI 1.0.3 and 2.0 Learning Record Store and LTI 1.3 tool."""
    ctx.meta[COMMAND_RUNTIME] = _command_runtime(ctx)


def _command_runtime(ctx: click.Context):
    """A factory of the command's LRS runtime, built from the environment on first use.

    ``--help`` opens no database; the engine is disposed when the command ends.
    """
    built = []

    def runtime():
        if not built:
            from learnloop.services import build_services

            services = build_services(Config.from_env())
            ctx.call_on_close(services.engine.dispose)
            built.append(services)
        return built[0]

    return runtime


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply migrations to LEARNLOOP_DATABASE_URL (default: a SQLite file under ./instance/)."""
    config = Config.from_env()
    applied = upgrade_database(config.database_url)
    where = shown_url(config.database_url)
    for migration in applied:
        click.echo(f"applied {migration.revision}: {migration.title}")
    if applied:
        click.echo(f"{where} is now at revision {applied[-1].revision}")
    else:
        click.echo(f"{where} was already at revision {head_revision()}: nothing to apply")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=PORT)
@click.option(
    "--workers", default=None, type=POSITIVE_INT, help="Worker processes (default: one per CPU)."
)
@click.option(
    "--threads",
    default=1,
    show_default=True,
    type=POSITIVE_INT,
    help="Threads per worker; above 1 uses gunicorn's gthread workers (keep-alive).",
)
@click.option(
    "--no-worker",
    is_flag=True,
    help="Run no queue worker beside the web workers (when `learnloop worker` runs elsewhere).",
)
def serve(host: str, port: int, workers: int | None, threads: int, no_worker: bool) -> None:
    """Serve Learnloop with gunicorn; the xAPI base IRI is http://HOST:PORT/xapi/.

    The default, one single-threaded worker per CPU, is the fastest for this CPU-bound
    service (threads contend for Python's GIL); put a buffering proxy in front for slow clients.
    A queue worker runs beside them (objectives, grades) unless ``--no-worker``.
    """
    _default_public_url(host, port)
    require_current_schema(Config.from_env())
    base = f"http://{host}:{port}/xapi/"
    run_gunicorn(
        host,
        port,
        workers,
        threads,
        queue_worker=not no_worker,
        on_ready=lambda: click.echo(f"Learnloop is serving xAPI 1.0.3 and 2.0.0 at {base}"),
    )


@main.command()
@click.option(
    "--poll", default=0.2, show_default=True, type=POSITIVE_SECONDS, help="Seconds between polls."
)
@click.option(
    "--lease",
    default=120.0,
    show_default=True,
    type=POSITIVE_SECONDS,
    help="Seconds a claimed job is held.",
)
@click.option(
    "--retry-base",
    default=2.0,
    show_default=True,
    type=POSITIVE_SECONDS,
    help="Seconds before the first retry of a failed job; doubles each time.",
)
@click.option("--max-attempts", default=8, show_default=True, type=POSITIVE_INT)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
    help="debug: a line per job",
)
def worker(poll: float, lease: float, retry_base: float, max_attempts: int, log_level: str) -> None:
    """Drain the durable queue: project statements, meet objectives, send grades.

    Any number may run, on any number of machines sharing one PostgreSQL database; on SQLite,
    run them on the database's machine. Stops cleanly on SIGTERM or Ctrl-C.
    """
    import signal

    from learnloop.app import create_app
    from learnloop.logs import configure_logging
    from learnloop.worker import Worker, WorkerSettings

    configure_logging(log_level)

    settings = WorkerSettings(
        poll_seconds=poll,
        lease_seconds=lease,
        max_attempts=max_attempts,
        backoff_base_ms=int(retry_base * 1000),
    )
    require_current_schema(Config.from_env())
    running = Worker(create_app(), settings)
    signal.signal(signal.SIGTERM, lambda *_: running.stop())
    try:
        running.run_forever()
    except KeyboardInterrupt:
        pass


def require_current_schema(config: Config) -> None:
    """Before serving: the database answers and has every migration, or one line says why not."""
    from lrs.db import make_engine

    engine = make_engine(config.database_url)
    try:
        with engine.connect() as connection:
            current = current_revision(connection)
    finally:
        engine.dispose()
    head = head_revision()
    if current != head:
        where = shown_url(config.database_url)
        state = "has no Learnloop tables yet" if current is None else f"is at revision {current}"
        raise click.ClickException(
            f"{where} {state}; this Learnloop needs revision {head}.\n"
            "To fix: run `learnloop db upgrade` with the same LEARNLOOP_DATABASE_URL."
        )


def _default_public_url(host: str, port: int) -> None:
    """``serve`` and ``demo`` mint IRIs under their own address unless told another."""
    if not os.environ.get("LEARNLOOP_PUBLIC_URL"):
        shown = "localhost" if host in ("0.0.0.0", "::") else host  # noqa: S104 (naming it only)
        os.environ["LEARNLOOP_PUBLIC_URL"] = f"http://{shown}:{port}"


SAMPLE_STORE = "acme-sample"


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=PORT)
@click.option("--no-worker", is_flag=True, help="Run no queue worker beside the web workers.")
def demo(host: str, port: int, no_worker: bool) -> None:
    """Migrate the database, make sure a demo credential exists, print it, and serve.

    A local demo also accepts LMS platforms, and forwards statements to LRSs, on
    http://127.0.0.1 or localhost (a test LMS or a second Learnloop beside it) unless
    LEARNLOOP_LTI_ALLOW_HTTP_LOOPBACK or LEARNLOOP_FORWARDING_ALLOW_HTTP_LOOPBACK says
    otherwise; ``serve`` never does.
    """
    _default_public_url(host, port)
    os.environ.setdefault("LEARNLOOP_LTI_ALLOW_HTTP_LOOPBACK", "true")
    os.environ.setdefault("LEARNLOOP_FORWARDING_ALLOW_HTTP_LOOPBACK", "true")
    from sqlalchemy import select

    from lrs.auth import create_credential
    from lrs.db import make_engine, make_session_factory, write_transaction
    from lrs.models import Credential

    config = Config.from_env()
    upgrade_database(config.database_url)
    sample_password = _sample_organisation(config)
    engine = make_engine(config.database_url)
    # The credential writes into the sample organisation, so the statements a newcomer sends
    # with it are the ones the printed accounts see on the pages.
    with write_transaction(make_session_factory(engine)) as session:
        if session.scalar(select(Credential.id).where(Credential.key == "demo")) is None:
            create_credential(
                session, SAMPLE_STORE, ["all"], "demo", "demo-secret", "Learnloop demo"
            )
    engine.dispose()
    base = f"http://{host}:{port}/xapi/"

    def banner() -> None:
        """Printed once the port listens: the address, the demo credential, the accounts."""
        click.echo(f"Learnloop is serving xAPI 1.0.3 and 2.0.0 at {base}")
        click.echo("Demo credential (HTTP Basic): key demo, secret demo-secret")
        click.echo(
            f"Pages: http://{host}:{port}/sign-in  organisation {SAMPLE_STORE}, "
            f"maya@example.com (manager) or admin@example.com, password {sample_password}"
        )
        click.echo(
            f"Try: curl -u demo:demo-secret -H 'X-Experience-API-Version: 2.0.0' {base}statements"
        )

    run_gunicorn(host, port, None, 1, queue_worker=not no_worker, on_ready=banner)


def _sample_organisation(config: Config) -> str:
    """Seed the sample organisation once; its random password is kept in the instance folder."""
    import secrets

    from sqlalchemy import select

    from lrs.db import make_engine, make_session_factory, read_transaction
    from lrs.models import Store

    path = os.path.join(os.path.abspath(config.instance_path), "sample-password")
    engine = make_engine(config.database_url)
    sessions = make_session_factory(engine)
    try:
        with read_transaction(sessions) as session:
            seeded = session.scalar(select(Store.id).where(Store.name == SAMPLE_STORE))
        if seeded is None:
            from learnloop.services import instance_secret
            from web import sample

            password = secrets.token_urlsafe(12)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
                out.write(password)
            sample.seed(
                sessions,
                password,
                store_name=SAMPLE_STORE,
                instance_secret=config.secret_key or instance_secret(config.instance_path),
                public_url=config.public_url,
            )
        with open(path) as handle:
            return handle.read().strip()
    finally:
        engine.dispose()


main.add_command(credentials)
main.add_command(doctor_command)
main.add_command(audit_cli)
main.add_command(forwarding_cli)
main.add_command(webhooks_cli)
main.add_command(notifications_cli)
main.add_command(statements_cli)
main.add_command(backup_command)
main.add_command(restore_command)
main.add_command(accounts_cli)
main.add_command(objectives_cli)
main.add_command(lti_group)
main.add_command(connectors)
main.add_command(sign_in_cli)
main.add_command(people_cli)
main.add_command(import_cli)
main.add_command(scim_cli)
main.add_command(oauth_cli)
main.add_command(stores_cli)
main.add_command(cycles_cli)
main.add_command(reviews_cli)
people_cli.add_command(import_people_command)
people_cli.add_command(list_people_command)
people_cli.add_command(erase_command)
main.add_command(retention_cli)
main.add_command(secrets_cli)
for _command in (
    list_accounts_command,
    disable_account_command,
    enable_account_command,
    reset_password_command,
    invite_account_command,
):
    accounts_cli.add_command(_command)

if __name__ == "__main__":
    sys.exit(main())
