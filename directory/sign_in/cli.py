"""``learnloop sign-in``: a store's sign-in settings from the command line (like /admin/sign-in).

The client secret is never an argument (other users of the machine see arguments): it is asked
for, hidden, or read from standard input with ``--client-secret-stdin``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from directory.sign_in import services as sign_ins
from directory.sign_in.config import OidcConfig
from lrs.cli_params import URL_OR_EMPTY
from lrs.db import read_transaction, write_transaction
from lrs.errors import LrsError
from lrs.runtime import LrsRuntime, for_command


@contextmanager
def _database() -> Iterator[LrsRuntime]:
    runtime = for_command()
    try:
        yield runtime
    except LrsError as exc:
        raise click.ClickException(exc.message) from None


def _store(session, name: str):
    from lrs.auth import require_store

    return require_store(session, name)


@click.group("sign-in")
def sign_in_cli() -> None:
    """How a store's people sign in: passwords, single sign-on (OpenID Connect), domains."""


@sign_in_cli.command("show")
@click.option("--store", "store_name", required=True)
def show(store_name: str) -> None:
    """Print the store's sign-in settings (never the client secret)."""
    with _database() as runtime, read_transaction(runtime.sessions) as session:
        settings = sign_ins.settings_of(session, _store(session, store_name))
    click.echo(f"passwords:      {'on' if settings.password_enabled else 'off'}")
    click.echo(f"issuer:         {settings.issuer or '-'}")
    click.echo(f"client id:      {settings.client_id or '-'}")
    click.echo(f"client secret:  {'stored, sealed' if settings.has_client_secret else '-'}")
    click.echo(f"email domains:  {', '.join(settings.domains) or '-'}")


@sign_in_cli.command("set")
@click.option("--store", "store_name", required=True)
@click.option(
    "--issuer", default=None, type=URL_OR_EMPTY, help="https issuer; empty turns single sign-on off"
)
@click.option("--client-id", default=None)
@click.option("--client-secret-stdin", is_flag=True, help="read the client secret from stdin")
@click.option("--ask-client-secret", is_flag=True, help="ask for the client secret (hidden)")
@click.option("--domains", default=None, help="comma-separated email domains")
@click.option("--passwords/--no-passwords", default=None, help="allow password sign-in")
def set_settings(
    store_name: str,
    issuer: str | None,
    client_id: str | None,
    client_secret_stdin: bool,
    ask_client_secret: bool,
    domains: str | None,
    passwords: bool | None,
) -> None:
    """Change the store's sign-in settings; options left out keep their value."""
    secret = None
    if client_secret_stdin:
        secret = sys.stdin.readline().strip()
    elif ask_client_secret:
        secret = click.prompt("client secret", hide_input=True)
    with _database() as runtime, write_transaction(runtime.sessions) as session:
        store = _store(session, store_name)
        now = sign_ins.settings_of(session, store)
        saved = sign_ins.save_settings(
            session,
            store,
            password_enabled=now.password_enabled if passwords is None else passwords,
            issuer=now.issuer or "" if issuer is None else issuer,
            client_id=now.client_id or "" if client_id is None else client_id,
            new_client_secret=secret or None,
            domains=list(now.domains) if domains is None else sign_ins.parse_domains(domains),
            box=sign_ins.SecretBox(runtime.instance_secret()) if secret else None,
            guard=OidcConfig.from_env().outbound_guard(),
        )
    click.echo(
        f"{store_name}: passwords {'on' if saved.password_enabled else 'off'}, single sign-on "
        f"{'on (' + (saved.issuer or '') + ')' if saved.oidc_enabled else 'off'}, domains "
        f"{', '.join(saved.domains) or '-'}"
    )


@sign_in_cli.command("reseal-secrets")
def reseal() -> None:
    """Seal every client secret with a new LEARNLOOP_SECRET_KEY (see docs/secrets.md).

    The old key is read from LEARNLOOP_OLD_SECRET_KEY.
    """
    old = os.environ.get("LEARNLOOP_OLD_SECRET_KEY", "")
    if not old:
        raise click.ClickException(
            "set LEARNLOOP_OLD_SECRET_KEY to the sealing key the secrets are sealed with now"
        )
    with _database() as runtime:
        new = sign_ins.SecretBox(runtime.instance_secret())
        with write_transaction(runtime.sessions) as session:
            resealed, kept = sign_ins.reseal_secrets(session, sign_ins.SecretBox(old), new)
    click.echo(f"client secrets resealed: {resealed}; already sealed with the new key: {kept}")
